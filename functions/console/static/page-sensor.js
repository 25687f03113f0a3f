// A sensor: latest value, a live chart of a range (new readings arrive over the sensor's
// Server-Sent Events stream, or by polling where streams are unavailable), mean/min/max per
// interval, the readings as a table, CSV download.
import { Fragment, html, useCallback, useEffect, useMemo, useRef, useState } from "./lib.js";
import { get, subscribe } from "./api.js";
import { useAction, useEvery, useLoad } from "./hooks.js";
import { href } from "./router.js";
import { clock, dateTime, fileSafe, localInput, nsToMs, value } from "./format.js";
import { Chart } from "./chart.js";
import {
  INTERVALS, RANGES, RAW_LIMIT, aggregates, autoInterval, bounds, chartable, csv, numeric, rawReadings,
} from "./sensor-data.js";
import { Button, ErrorNote, Input, Loading, PageHeading, Select, Status, TableRegion, Time, download } from "./ui.js";

const LIVE_WORDS = {
  connecting: "Connecting to live updates…", live: "Live: new readings appear as they are stored.",
  reconnecting: "Live updates interrupted; reconnecting…", polling: "Live: checking for new readings every 5 s.",
};

function RangePicker({ range, onRange }) {
  const [from, setFrom] = useState(localInput(Date.now() - 3600e3));
  const [to, setTo] = useState(localInput(Date.now()));
  const [problem, setProblem] = useState(null);
  const apply = (event) => {
    event.preventDefault();
    const start = Date.parse(from);
    const end = Date.parse(to);
    if (Number.isNaN(start) || Number.isNaN(end) || start >= end) {
      setProblem("Choose a start before the end.");
      return;
    }
    setProblem(null);
    onRange({ kind: "custom", from: start, to: end });
  };
  return html`<${Fragment}>
    <${Select} label="Time range" name="range" value=${range.kind.startsWith("custom") ? "custom" : range.kind}
      onValue=${(kind) => onRange(kind === "custom" ? { kind: "custom-pending" } : { kind })}
      options=${RANGES.map(([k, text]) => [k, text])} />
    ${range.kind.startsWith("custom") && html`<form class="inline" onSubmit=${apply} novalidate>
      <${Input} label="From" type="datetime-local" name="from" value=${from} onValue=${setFrom} error=${problem} />
      <${Input} label="To" type="datetime-local" name="to" value=${to} onValue=${setTo} />
      <button type="submit">Show range</button>
    </form>`}
  <//>`;
}

function Readings({ rows, columns, unit }) {
  const recent = rows.slice(-100).reverse();
  return html`<details class="readings">
    <summary>Data as a table (newest ${recent.length})</summary>
    <${TableRegion} label="Readings">
      <table><thead><tr><th scope="col">Time</th>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
        <tbody>${recent.map(([ms, ...values]) => html`<tr key=${ms}><td>${dateTime(ms)}</td>
          ${values.map((v) => html`<td>${value(v, unit)}</td>`)}</tr>`)}</tbody>
      </table><//>
  </details>`;
}

export function SensorPage({ params }) {
  const path = `/api/devices/${params.device}/sensors/${params.sensor}`;
  const meta = useLoad(async () => {
    const [device, sensor] = await Promise.all([get(`/api/devices/${params.device}`), get(path)]);
    return { device: device.result, sensor };
  }, [path]);
  const [range, setRange] = useState({ kind: "1h" });
  const [mode, setMode] = useState("raw");
  const [every, setEvery] = useState("auto");
  const [raw, setRaw] = useState({ points: new Map(), more: false });
  const [intervals, setIntervals] = useState([]);
  const [latest, setLatest] = useState(null);
  const [live, setLive] = useState("connecting");
  const [loadError, setLoadError] = useState(null);
  const [loading, setLoading] = useState(false);
  const [now, setNow] = useState(Date.now());
  const reloadTimer = useRef(null);
  const ready = range.kind !== "custom-pending";
  const isLive = ready && range.kind !== "custom";
  const sensor = meta.data?.sensor;
  const window_ = ready ? bounds(range, now) : null;
  const interval = every === "auto" && window_ ? autoInterval((window_.to ?? now) - window_.from) : every;

  const load = useCallback(async () => {
    if (!sensor || !ready) return;
    setLoading(true);
    try {
      const span = bounds(range);
      if (mode === "agg") setIntervals(await aggregates(path, span, interval));
      else {
        const answer = await rawReadings(path, span);
        setRaw((old) => {
          const points = new Map(answer.points);
          if (span.to === null) for (const [ms, v] of old.points) if (ms >= span.from) points.set(ms, v);
          return { points, more: answer.more };
        });
      }
      setLoadError(null);
    } catch (error) {
      if (error?.name !== "AbortError") setLoadError(error);
    } finally {
      setLoading(false);
    }
  }, [sensor, path, range, mode, interval, ready]);

  useEffect(() => { setRaw({ points: new Map(), more: false }); load(); }, [load]);
  useEffect(() => {
    if (!sensor) return;
    get(`${path}/data/latest`).then((a) => a.data[0] && setLatest(a.data[0]), setLoadError);
  }, [sensor, path]);
  const soon = () => { clearTimeout(reloadTimer.current); reloadTimer.current = setTimeout(load, 1000); };
  useEffect(() => {
    if (!sensor || !isLive) return undefined;
    const stop = subscribe(`${path}/stream`, {
      onEvent: ({ data }) => {
        if (data.timestamp === undefined) return;
        setLatest((old) => (!old || data.timestamp >= old.timestamp ? data : old));
        if (mode === "agg") soon();
        else setRaw((old) => ({ ...old, points: new Map(old.points).set(Number(data.timestamp) / 1e6, data.value) }));
      },
      onStatus: (state) => {
        setLive(state === "stopped" ? "polling" : state);
        if (state === "live") load(); // (re)connected: fill in what was stored meanwhile
      },
    });
    return () => { clearTimeout(reloadTimer.current); stop(); };
  }, [sensor, path, isLive, load]);
  useEvery(5000, () => {
    setNow(Date.now());
    if (isLive && live === "polling") load();
  });

  const rows = useMemo(() => {
    if (mode === "agg") return intervals;
    const cut = window_ ? window_.from : 0;
    return [...raw.points.entries()].filter(([ms]) => ms >= cut).sort((a, b) => a[0] - b[0]);
  }, [raw, intervals, mode, now, range]);
  const download_ = useAction(async () => {
    const span = bounds(range);
    const result = await csv(path, span, (n) => setProgress(n));
    download(`${fileSafe(sensor.name)}-${fileSafe(dateTime(span.from))}.csv`, result.text, "text/csv");
    return result;
  });
  const [progress, setProgress] = useState(0);

  if (!sensor) return html`<${PageHeading}>Sensor<//><${Loading} state=${meta} what="the sensor" />`;
  const { device } = meta.data;
  const unit = sensor.mapping.unit || "";
  const columns = mode === "agg" ? ["Mean", "Min", "Max"] : ["Value"];
  const plotted = chartable(sensor);
  const data = [rows.map((r) => r[0] / 1000), ...columns.map((_, i) => rows.map((r) => {
    const v = r[i + 1];
    return typeof v === "boolean" ? Number(v) : typeof v === "number" ? v : null;
  }))];
  const summary = rows.length
    ? `${sensor.name}: ${rows.length} ${mode === "agg" ? `intervals of ${interval}` : "readings"} from ${clock(rows[0][0])} to ${clock(rows[rows.length - 1][0])}; latest ${value(latest ? latest.value : rows[rows.length - 1][1], unit)}`
    : `${sensor.name}: no readings in this range yet`;
  return html`<nav aria-label="Breadcrumb" class="crumbs"><a href=${href("devices")}>Devices</a>${" › "}<a
      href=${href("devices", device.id)}>${device.name}</a>${" › "}<span aria-current="page">${sensor.tree_path || sensor.name}</span></nav>
    <${PageHeading}>${sensor.tree_path || sensor.name}<//>
    <dl class="facts">
      <dt>Type</dt><dd>${sensor.mapping.type}${unit ? ` (${unit})` : ""}</dd>
      <dt>Latest value</dt><dd class="big">${latest ? html`${value(latest.value, unit)} <span class="muted small">at <${Time} ms=${nsToMs(latest.timestamp)} /></span>` : "no readings yet"}</dd>
      <dt>Id</dt><dd><code>${sensor.id}</code></dd>
    </dl>
    <section aria-labelledby="chart-heading">
      <h2 id="chart-heading">Readings</h2>
      <div class="toolbar">
        <${RangePicker} range=${range} onRange=${setRange} />
        ${numeric(sensor) && html`<${Select} label="Show" name="mode" value=${mode} onValue=${setMode}
          options=${[["raw", "Readings"], ["agg", "Mean, min and max per interval"]]} />`}
        ${mode === "agg" && html`<${Select} label="Interval" name="every" value=${every} onValue=${setEvery}
          options=${[["auto", `Automatic (${interval})`], ...INTERVALS.map(([k, text]) => [k, text])]} />`}
      </div>
      ${isLive ? html`<${Status}>${LIVE_WORDS[live] || live}<//>` : html`<${Status}>${ready ? "A fixed range: no live updates." : "Choose the range, then show it."}<//>`}
      ${loading && html`<${Status}>Loading readings…<//>`}
      <${ErrorNote} error=${loadError} />
      ${plotted ? html`<${Chart} data=${data} series=${columns} unit=${unit} summary=${summary} />`
        : html`<p>${summary}. Values of type ${sensor.mapping.type} are listed, not charted.</p>`}
      ${mode === "raw" && raw.more && html`<p class="notice">Showing the newest ${RAW_LIMIT} readings of the range; the aggregates cover all of it.</p>`}
      <${Readings} rows=${rows} columns=${columns} unit=${unit} />
      <div class="actions">
        <${Button} busy=${download_.busy} busyLabel=${`Downloading CSV… ${progress} rows`}
          onClick=${() => { setProgress(0); download_.run(); }} disabled=${!ready}>Download readings (CSV)<//>
      </div>
      ${download_.done && download_.done.rows !== undefined && html`<${Status}>CSV downloaded: ${download_.done.rows} rows.<//>`}
      <${ErrorNote} error=${download_.error} />
    </section>`;
}
