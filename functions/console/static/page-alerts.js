// Alerts: newest first, filtered by state, updated live from the alerts stream; acknowledge and
// resolve them.
import { html, useCallback, useEffect, useRef, useState } from "./lib.js";
import { get, post } from "./api.js";
import { useAction, useLoad } from "./hooks.js";
import { href } from "./router.js";
import { nsToMs, value } from "./format.js";
import { useAlertChanges, useAlertCount } from "./live-alerts.js";
import { Button, ErrorNote, Loading, PageHeading, Select, Status, TableRegion, Time } from "./ui.js";

const STATES = [["open", "Open"], ["acknowledged", "Acknowledged"], ["resolved", "Resolved"], ["", "All"]];
const LIVE = { live: "Live: the list follows every alert change.", connecting: "Connecting to live alert changes…",
  reconnecting: "Live alert changes interrupted; reconnecting…", stopped: "Live alert changes are unavailable here; use Refresh." };

const names = new Map(); // device id -> name, "device/sensor" -> sensor name

async function nameOf(device, sensor) {
  if (!names.has(device)) {
    names.set(device, get(`/api/devices/${device}`).then((a) => a.result.name, () => `${device} (deleted?)`));
  }
  const key = `${device}/${sensor}`;
  if (!names.has(key)) {
    names.set(key, get(`/api/devices/${device}/sensors/${sensor}`).then((s) => s.tree_path || s.name, () => sensor));
  }
  return [await names.get(device), await names.get(key)];
}

function Where({ alert }) {
  const [label, setLabel] = useState(null);
  useEffect(() => { nameOf(alert.device, alert.sensor).then(setLabel); }, [alert.device, alert.sensor]);
  return html`<a href=${href("devices", alert.device, "sensors", alert.sensor)}>
    ${label ? `${label[0]} / ${label[1]}` : `${alert.device.slice(0, 8)} / ${alert.sensor.slice(0, 8)}`}</a>`;
}

function AlertRow({ alert: a, onChanged }) {
  const ack = useAction(async () => onChanged(await post(`/api/alerts/${a.id}/ack`)));
  const resolve = useAction(async () => onChanged(await post(`/api/alerts/${a.id}/resolve`)));
  return html`<tr>
    <td><span class=${`severity ${a.severity}`}>${a.severity}</span></td>
    <td>${a.rule_name}</td>
    <td><${Where} alert=${a} /></td>
    <td>${a.state}${a.resolved_by ? html` <span class="muted small">(${a.resolved_by})</span>` : ""}</td>
    <td><${Time} ms=${nsToMs(a.opened_ns)} /></td>
    <td>${value(a.value)}</td>
    <td class="row-actions">
      ${a.state === "open" && html`<${Button} busy=${ack.busy} busyLabel="Acknowledging…"
        aria-label=${`Acknowledge alert of ${a.rule_name}`} onClick=${() => ack.run()}>Acknowledge<//>`}
      ${a.state !== "resolved" && html`<${Button} busy=${resolve.busy} busyLabel="Resolving…"
        aria-label=${`Resolve alert of ${a.rule_name}`} onClick=${() => resolve.run()}>Resolve<//>`}
      <${ErrorNote} error=${ack.error || resolve.error} />
    </td></tr>`;
}

export function AlertsPage() {
  const [state, setState] = useState("open");
  const alerts = useLoad(() => get("/api/alerts", { state, limit: 100 }), [state]);
  const [note, setNote] = useState(null);
  const count = useAlertCount();
  const timer = useRef(null);
  const changed = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(alerts.reload, 300);
  }, [alerts.reload]);
  useEffect(() => () => clearTimeout(timer.current), []);
  useAlertChanges(changed);
  const done = (alert) => { setNote(`Alert of ${alert.rule_name} is now ${alert.state}.`); alerts.reload(); };
  return html`<${PageHeading}>Alerts<//>
    <div class="toolbar">
      <${Select} label="State" name="state" value=${state} onValue=${setState} options=${STATES} />
      <${Button} busy=${alerts.loading && alerts.data !== undefined} busyLabel="Refreshing…" onClick=${alerts.reload}>Refresh<//>
    </div>
    <${Status}>${LIVE[count.live] || ""}<//>
    <${ErrorNote} error=${count.error} />
    ${note && html`<${Status}>${note}<//>`}
    <${Loading} state=${alerts} what="alerts" />
    ${alerts.data && (alerts.data.items.length === 0 ? html`<p>No ${state || ""} alerts.</p>` : html`<${TableRegion} label="Alerts"><table>
      <thead><tr><th scope="col">Severity</th><th scope="col">Rule</th><th scope="col">Sensor</th><th scope="col">State</th>
        <th scope="col">Opened</th><th scope="col">Value</th><th scope="col">Actions</th></tr></thead>
      <tbody>${alerts.data.items.map((a) => html`<${AlertRow} key=${a.id} alert=${a} onChanged=${done} />`)}</tbody>
    </table><//>`)}
    ${alerts.data && alerts.data.next && html`<p class="notice">Showing the newest 100; narrow the list with the state filter.</p>`}`;
}
