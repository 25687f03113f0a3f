// Rules: list, create (a condition that does not parse is shown with a caret at its column),
// enable or disable, delete.
import { html, useEffect, useRef, useState } from "./lib.js";
import { ApiError, all, del, patch, post } from "./api.js";
import { useAction, useLoad } from "./hooks.js";
import { Button, Confirm, ErrorNote, Input, Loading, PageHeading, Select, Status, TableRegion, TextArea } from "./ui.js";
import { SensorPicker } from "./pickers.js";

const SEVERITIES = [["info", "Info"], ["warning", "Warning"], ["critical", "Critical"]];
const TARGETS = [["all", "Every sensor of the organisation"], ["sensor", "One sensor"],
  ["path", "Sensors whose folder and name match a pattern"]];

/** The line of `text` holding 1-based `column` and the caret under it. */
function caretAt(text, column) {
  const before = text.slice(0, Math.max(column - 1, 0));
  const start = before.lastIndexOf("\n") + 1;
  const end = text.indexOf("\n", start);
  const line = text.slice(start, end < 0 ? undefined : end);
  return { line, caret: `${" ".repeat(Math.max(column - 1 - start, 0))}^`, offset: column - 1 };
}

function ConditionError({ error, condition, id }) {
  const column = error.details && error.details.column;
  if (!column) return html`<p class="field-error" id=${id}>${error.message}</p>`;
  const { line, caret } = caretAt(condition, column);
  return html`<div class="field-error" id=${id}>
    <p>Column ${column}: ${error.message.replace(/^condition: (column \d+: )?/, "")}</p>
    <pre class="caret" aria-hidden="true">${`${line}\n${caret}`}</pre>
  </div>`;
}

function CreateRule({ onCreated }) {
  const [form, setForm] = useState({ name: "", condition: "", target: "all", device: "", sensor: "",
    path: "", for: "", severity: "warning" });
  const field = (name) => (v) => setForm((f) => ({ ...f, [name]: v }));
  const area = useRef(null);
  const action = useAction(async () => {
    const body = { name: form.name, condition: form.condition, severity: form.severity };
    if (form.for.trim()) body.for = /^\d+$/.test(form.for.trim()) ? Number(form.for) : form.for.trim();
    if (form.target === "sensor") body.select = { sensors: [`${form.device}/${form.sensor}`] };
    if (form.target === "path") body.select = { path: form.path };
    onCreated(await post("/api/rules", body));
    setForm((f) => ({ ...f, name: "", condition: "" }));
  });
  const bad = action.error instanceof ApiError && action.error.field === "condition";
  useEffect(() => { // put the cursor where the condition went wrong
    const column = bad && action.error.details && action.error.details.column;
    if (column && area.current) {
      area.current.focus();
      area.current.setSelectionRange(column - 1, column);
    }
  }, [action.error]);
  const submit = (event) => { event.preventDefault(); action.run(); };
  return html`<section aria-labelledby="create-rule">
    <h2 id="create-rule">Create a rule</h2>
    <form onSubmit=${submit} novalidate>
      <${Input} label="Rule name" name="name" value=${form.name} onValue=${field("name")} maxlength="128" error=${action.error} />
      <div class="field">
        <label for="rule-condition">Condition</label>
        <textarea id="rule-condition" name="condition" class="code" rows="2" spellcheck="false" ref=${area}
          value=${form.condition} onInput=${(e) => field("condition")(e.currentTarget.value)}
          aria-invalid=${bad ? "true" : undefined}
          aria-describedby=${bad ? "rule-condition-hint rule-condition-error" : "rule-condition-hint"}></textarea>
        <p class="hint" id="rule-condition-hint">For example <code>value > 30</code>, <code
          >avg(value, 5m) > 25 and unit == "°C"</code> or <code>deadman(10m)</code>.</p>
        ${bad && html`<${ConditionError} error=${action.error} condition=${form.condition} id="rule-condition-error" />`}
      </div>
      <${Select} label="Applies to" name="target" field="select" value=${form.target} onValue=${field("target")}
        options=${TARGETS} error=${action.error} />
      ${form.target === "sensor" && html`<${SensorPicker} device=${form.device} sensor=${form.sensor}
        onDevice=${field("device")} onSensor=${field("sensor")} error=${action.error} />`}
      ${form.target === "path" && html`<${Input} label="Sensor pattern" name="path" field="select.path"
        value=${form.path} onValue=${field("path")} hint="A glob over folder/name, e.g. engine/*." error=${action.error} />`}
      <div class="grid">
        <${Input} label="For (optional)" name="for" value=${form.for} onValue=${field("for")}
          hint="How long the condition must hold first: 30s, 5m, or seconds." error=${action.error} />
        <${Select} label="Severity" name="severity" value=${form.severity} onValue=${field("severity")}
          options=${SEVERITIES} error=${action.error} />
      </div>
      ${!bad && html`<${ErrorNote} error=${action.error} />`}
      ${bad && html`<p class="error" role="alert">The rule was not saved: its condition has an error (shown under the condition).</p>`}
      <${Button} type="submit" class="primary" busy=${action.busy} busyLabel="Checking and saving…">Create rule<//>
    </form>
  </section>`;
}

function target(rule) {
  const s = rule.select || {};
  if (s.detector) return `anomalies of detector ${s.detector}`;
  if (s.sensors && s.sensors.length) return `${s.sensors.length} sensor${s.sensors.length === 1 ? "" : "s"}`;
  if (s.devices && s.devices.length) return `${s.devices.length} device${s.devices.length === 1 ? "" : "s"}`;
  if (s.path) return `sensors matching ${s.path}`;
  return "every sensor";
}

function RuleRow({ rule, onChanged, onDelete }) {
  const toggle = useAction(async () => onChanged(await patch(`/api/rules/${rule.id}`, { enabled: !rule.enabled })));
  return html`<tr>
    <td>${rule.name}</td><td><code>${rule.condition}</code></td><td>${target(rule)}</td>
    <td>${rule.severity}</td><td>${rule.enabled ? "enabled" : "disabled"}</td>
    <td class="row-actions">
      <${Button} busy=${toggle.busy} busyLabel="Saving…" aria-label=${`${rule.enabled ? "Disable" : "Enable"} rule ${rule.name}`}
        onClick=${() => toggle.run()}>${rule.enabled ? "Disable" : "Enable"}<//>
      <button type="button" class="danger" aria-label=${`Delete rule ${rule.name}`} onClick=${() => onDelete(rule)}>Delete</button>
      <${ErrorNote} error=${toggle.error} />
    </td></tr>`;
}

export function RulesPage({ session }) {
  const rules = useLoad(() => all("/api/rules"), []);
  const [note, setNote] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const remove = useAction(async () => { await del(`/api/rules/${deleting.id}`); setNote(`Rule ${deleting.name} deleted.`); setDeleting(null); rules.reload(); });
  const admin = session.user.role === "admin";
  return html`<${PageHeading}>Rules<//>
    ${admin ? html`<${CreateRule} onCreated=${(r) => { setNote(`Rule ${r.name} created.`); rules.reload(); }} />`
      : html`<p>Only admins create and change rules.</p>`}
    <section aria-labelledby="rule-list">
      <h2 id="rule-list">All rules</h2>
      ${note && html`<${Status}>${note}<//>`}
      <${Loading} state=${rules} what="rules" />
      ${rules.data && (rules.data.length === 0 ? html`<p>No rules yet.</p>` : html`<${TableRegion} label="Rules"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Condition</th><th scope="col">Watches</th>
          <th scope="col">Severity</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
        <tbody>${rules.data.map((r) => html`<${RuleRow} key=${r.id} rule=${r} onDelete=${(x) => { remove.reset(); setDeleting(x); }}
          onChanged=${(changed) => { setNote(`Rule ${changed.name} ${changed.enabled ? "enabled" : "disabled"}.`); rules.reload(); }} />`)}
        </tbody></table><//>`)}
    </section>
    ${deleting && html`<${Confirm} open=${true} title=${`Delete rule ${deleting.name}?`} confirmLabel="Delete rule"
      busyLabel="Deleting…" action=${remove} onConfirm=${() => remove.run()} onCancel=${() => setDeleting(null)}>
      <p>Its open alerts are resolved and it stops watching. This cannot be undone.</p><//>`}`;
}
