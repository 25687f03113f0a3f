// Reading a sensor's data through the query API: ranges, raw readings, mean/min/max per
// interval, and CSV downloads page by page.
import { call, get } from "./api.js";

export const RANGES = [
  ["15m", "Last 15 minutes", 15 * 60e3],
  ["1h", "Last hour", 3600e3],
  ["6h", "Last 6 hours", 6 * 3600e3],
  ["24h", "Last 24 hours", 86400e3],
  ["7d", "Last 7 days", 7 * 86400e3],
  ["custom", "Custom range", null],
];

export const INTERVALS = [
  ["10s", "10 seconds", 10e3], ["1m", "1 minute", 60e3], ["5m", "5 minutes", 300e3],
  ["15m", "15 minutes", 900e3], ["1h", "1 hour", 3600e3], ["1d", "1 day", 86400e3],
];

export const RAW_LIMIT = 5000;
const NUMERIC = new Set(["double", "long"]);

export const numeric = (sensor) => NUMERIC.has(sensor.mapping.type);
export const chartable = (sensor) => numeric(sensor) || sensor.mapping.type === "boolean";

/** The interval giving about 100 points over a span of `ms`. */
export function autoInterval(ms) {
  const fit = INTERVALS.find(([, , size]) => ms / size <= 150);
  return (fit || INTERVALS[INTERVALS.length - 1])[0];
}

/** {from, to} in ms for a range choice (`to` null: up to now, live). */
export function bounds(range, now = Date.now()) {
  if (range.kind === "custom") return { from: range.from, to: range.to };
  const span = RANGES.find(([kind]) => kind === range.kind)[2];
  return { from: now - span, to: null };
}

const params = ({ from, to }) => ({ from: `${Math.floor(from)}ms`, to: to === null ? undefined : `${Math.ceil(to)}ms` });

/** The newest RAW_LIMIT readings of the range, oldest first: {points: [[ms, value]], more}. */
export async function rawReadings(path, range) {
  const answer = await get(`${path}/data`, { ...params(range), order: "desc", limit: RAW_LIMIT });
  return {
    points: answer.data.map((r) => [Number(r.timestamp) / 1e6, r.value]).reverse(),
    more: answer.next !== null,
  };
}

/** Mean, min and max per interval: rows [ms, mean, min, max], oldest first. */
export async function aggregates(path, range, every) {
  const ask = (agg) => get(`${path}/data`, { ...params(range), agg, every, limit: 10000 });
  const [mean, min, max] = await Promise.all([ask("mean"), ask("min"), ask("max")]);
  const rows = new Map();
  for (const [index, answer] of [mean, min, max].entries()) {
    for (const item of answer.data) {
      const row = rows.get(item.timestamp) || [Number(item.timestamp) / 1e6, null, null, null];
      row[index + 1] = item.value;
      rows.set(item.timestamp, row);
    }
  }
  return [...rows.values()].sort((a, b) => a[0] - b[0]);
}

/** Every reading of the range as one CSV text, page after page (`progress(rows)` after each). */
export async function csv(path, range, progress) {
  let cursor;
  let text = "";
  let rows = 0;
  for (;;) {
    const query = { ...params(range), format: "csv", limit: 10000, cursor };
    const response = await call("GET", `${path}/data`, { query, raw: true });
    const body = await response.text();
    const cut = body.indexOf("\r\n") + 2; // after the header line (quoted values may hold CRLF)
    if (!text) text = body.slice(0, cut);
    text += body.slice(cut);
    rows += body.slice(cut).split("\r\n").length - 1; // lines: rows unless values hold CRLF
    progress(rows);
    cursor = response.headers.get("x-next-cursor");
    if (!cursor) return { text, rows };
  }
}
