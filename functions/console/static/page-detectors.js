// Detectors: anomaly detectors bound to sensors (each writes a score and an anomaly sensor);
// list, create, enable or disable, delete.
import { html, useState } from "./lib.js";
import { ApiError, all, del, patch, post } from "./api.js";
import { useAction, useLoad } from "./hooks.js";
import { href } from "./router.js";
import { SensorPicker } from "./pickers.js";
import { Button, Confirm, ErrorNote, Input, Loading, PageHeading, Select, Status, TableRegion, TextArea } from "./ui.js";

const KINDS = [["ewma", "EWMA (moving average and deviation)"], ["mad", "MAD (trend and median deviation)"],
  ["seasonal", "Seasonal (daily pattern)"], ["onnx", "ONNX model"], ["remote", "Remote model (KServe v2)"]];

function CreateDetector({ onCreated }) {
  const [form, setForm] = useState({ name: "", device: "", sensor: "", kind: "ewma", threshold: "", params: "" });
  const field = (name) => (v) => setForm((f) => ({ ...f, [name]: v }));
  const action = useAction(async () => {
    const body = { name: form.name, device: form.device, sensor: form.sensor, kind: form.kind };
    if (form.threshold.trim()) body.threshold = Number(form.threshold);
    if (form.params.trim()) {
      try { body.params = JSON.parse(form.params); } catch (err) {
        throw new ApiError(400, "client", `not valid JSON: ${err.message}`, "params");
      }
    }
    onCreated(await post("/api/detectors", body));
  });
  const submit = (event) => { event.preventDefault(); action.run(); };
  return html`<section aria-labelledby="create-detector">
    <h2 id="create-detector">Create a detector</h2>
    <form onSubmit=${submit} novalidate>
      <${Input} label="Detector name" name="name" value=${form.name} onValue=${field("name")} maxlength="128" error=${action.error} />
      <${SensorPicker} device=${form.device} sensor=${form.sensor} onDevice=${field("device")}
        onSensor=${field("sensor")} error=${action.error}
        only=${(s) => !s.derived && ["double", "long"].includes(s.mapping.type)} />
      <div class="grid">
        <${Select} label="Kind" name="kind" value=${form.kind} onValue=${field("kind")} options=${KINDS} error=${action.error} />
        <${Input} label="Threshold (optional for built-in kinds)" name="threshold" inputmode="decimal"
          value=${form.threshold} onValue=${field("threshold")} error=${action.error} />
      </div>
      <${TextArea} label="Parameters (JSON, optional)" name="params" class="code" rows="2" spellcheck="false"
        value=${form.params} onValue=${field("params")} hint=${'For example {"alpha": 0.2}; ONNX and remote models need theirs.'}
        error=${action.error} />
      <${ErrorNote} error=${action.error} />
      <${Button} type="submit" class="primary" busy=${action.busy} busyLabel="Creating…">Create detector<//>
    </form>
  </section>`;
}

function DetectorRow({ detector: d, onChanged, onDelete }) {
  const toggle = useAction(async () => onChanged(await patch(`/api/detectors/${d.id}`, { enabled: !d.enabled })));
  return html`<tr>
    <td>${d.name}</td>
    <td><a href=${href("devices", d.device, "sensors", d.sensor)}>sensor ${d.sensor.slice(0, 8)}</a></td>
    <td>${d.kind}</td><td>${d.threshold}</td><td>${d.enabled ? "enabled" : "disabled"}</td>
    <td><a href=${href("devices", d.device, "sensors", d.score_sensor)}
        aria-label=${`Score sensor of ${d.name}`}>score</a>${", "}<a
        href=${href("devices", d.device, "sensors", d.anomaly_sensor)}
        aria-label=${`Anomaly sensor of ${d.name}`}>anomaly</a></td>
    <td class="row-actions">
      <${Button} busy=${toggle.busy} busyLabel="Saving…" aria-label=${`${d.enabled ? "Disable" : "Enable"} detector ${d.name}`}
        onClick=${() => toggle.run()}>${d.enabled ? "Disable" : "Enable"}<//>
      <button type="button" class="danger" aria-label=${`Delete detector ${d.name}`} onClick=${() => onDelete(d)}>Delete</button>
      <${ErrorNote} error=${toggle.error} />
    </td></tr>`;
}

export function DetectorsPage({ session }) {
  const detectors = useLoad(() => all("/api/detectors"), []);
  const [note, setNote] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const remove = useAction(async () => {
    await del(`/api/detectors/${deleting.id}`);
    setNote(`Detector ${deleting.name} deleted.`);
    setDeleting(null);
    detectors.reload();
  });
  const admin = session.user.role === "admin";
  return html`<${PageHeading}>Detectors<//>
    <p>A detector scores each reading of one sensor; rules can watch its anomalies.</p>
    ${admin ? html`<${CreateDetector} onCreated=${(d) => { setNote(`Detector ${d.name} created.`); detectors.reload(); }} />`
      : html`<p>Only admins create and change detectors.</p>`}
    <section aria-labelledby="detector-list">
      <h2 id="detector-list">All detectors</h2>
      ${note && html`<${Status}>${note}<//>`}
      <${Loading} state=${detectors} what="detectors" />
      ${detectors.data && (detectors.data.length === 0 ? html`<p>No detectors yet.</p>` : html`<${TableRegion} label="Detectors"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Scores</th><th scope="col">Kind</th><th scope="col">Threshold</th>
          <th scope="col">State</th><th scope="col">Output sensors</th><th scope="col">Actions</th></tr></thead>
        <tbody>${detectors.data.map((d) => html`<${DetectorRow} key=${d.id} detector=${d}
          onDelete=${(x) => { remove.reset(); setDeleting(x); }}
          onChanged=${(c) => { setNote(`Detector ${c.name} ${c.enabled ? "enabled" : "disabled"}.`); detectors.reload(); }} />`)}
        </tbody></table><//>`)}
    </section>
    ${deleting && html`<${Confirm} open=${true} title=${`Delete detector ${deleting.name}?`} confirmLabel="Delete detector"
      busyLabel="Deleting detector and its scores…" action=${remove} onConfirm=${() => remove.run()} onCancel=${() => setDeleting(null)}>
      <p>Its score and anomaly sensors are deleted with their readings. This cannot be undone.</p><//>`}`;
}
