// A device's sensors as a tree of folders (their paths), with latest values; create, edit (name,
// folder, mapping) and delete sensors.
import { html, useState } from "./lib.js";
import { all, del, get, patch, post } from "./api.js";
import { useAction, useLoad } from "./hooks.js";
import { href } from "./router.js";
import { nsToMs, value } from "./format.js";
import { Button, Confirm, Dialog, ErrorNote, Input, Loading, Select, Status, Time } from "./ui.js";

const TYPES = [["double", "Number (double)"], ["long", "Integer (long)"], ["boolean", "Yes/no (boolean)"],
  ["string", "Text (string)"], ["object", "JSON object"]];

/** The body of a sensor create or change. */
function body(form) {
  const mapping = { type: form.type };
  if (form.unit.trim()) mapping.unit = form.unit.trim();
  return { name: form.name, path: form.path, description: form.description, mapping };
}

function SensorForm({ initial, submitLabel, busyLabel, onSubmit, onCancel, reset = false }) {
  const [form, setForm] = useState(initial);
  const field = (name) => (v) => setForm((f) => ({ ...f, [name]: v }));
  const action = useAction(async () => {
    await onSubmit(body(form));
    if (reset) setForm(initial);
  });
  const submit = (event) => { event.preventDefault(); action.run(); };
  return html`<form onSubmit=${submit} novalidate>
    <div class="grid">
      <${Input} label="Sensor name" name="name" value=${form.name} onValue=${field("name")} required
        maxlength="128" error=${action.error} />
      <${Input} label="Folder (path)" name="path" value=${form.path} onValue=${field("path")}
        hint="For example engine/left; empty for the top level." error=${action.error} />
      <${Select} label="Value type" name="type" field="mapping.type" value=${form.type}
        onValue=${field("type")} options=${TYPES} error=${action.error} />
      <${Input} label="Unit (optional)" name="unit" field="mapping.unit" value=${form.unit}
        onValue=${field("unit")} maxlength="32" error=${action.error} />
      <${Input} label="Description (optional)" name="description" value=${form.description}
        onValue=${field("description")} maxlength="1024" error=${action.error} />
    </div>
    <${ErrorNote} error=${action.error} />
    <div class="actions">
      <${Button} type="submit" class="primary" busy=${action.busy} busyLabel=${busyLabel}>${submitLabel}<//>
      ${onCancel && html`<button type="button" onClick=${onCancel}>Cancel</button>`}
    </div>
  </form>`;
}

const EMPTY = { name: "", path: "", type: "double", unit: "", description: "" };

const formOf = (s) => ({ name: s.name, path: s.path || "", type: s.mapping.type,
  unit: s.mapping.unit || "", description: s.description || "" });

/** Folders and sensors as nested nodes: {folders: {name: node}, sensors: [...]}. */
function tree(sensors) {
  const root = { folders: {}, sensors: [] };
  for (const sensor of sensors) {
    let node = root;
    for (const part of (sensor.path || "").split("/").filter(Boolean)) {
      node = node.folders[part] ||= { folders: {}, sensors: [] };
    }
    node.sensors.push(sensor);
  }
  return root;
}

function Node({ node, device, latest, onEdit, onDelete }) {
  const folders = Object.keys(node.folders).sort();
  const sensors = [...node.sensors].sort((a, b) => a.name.localeCompare(b.name));
  return html`<ul class="tree">
    ${folders.map((name) => html`<li key=${`f-${name}`} class="folder">
      <span class="folder-name">${name}/</span>
      <${Node} node=${node.folders[name]} device=${device} latest=${latest} onEdit=${onEdit} onDelete=${onDelete} />
    </li>`)}
    ${sensors.map((s) => {
      const last = latest[s.id];
      return html`<li key=${s.id} class="sensor">
        <a href=${href("devices", device.id, "sensors", s.id)}>${s.name}</a>
        <span class="muted"> ${s.mapping.type}${s.mapping.unit ? `, ${s.mapping.unit}` : ""}</span>
        <span class="latest">${last && last.timestamp !== null
          ? html`${value(last.value, s.mapping.unit)} · <${Time} ms=${nsToMs(last.timestamp)} relative=${true} />`
          : html`<span class="muted">no readings yet</span>`}</span>
        <span class="row-actions">
          <button type="button" aria-label=${`Edit sensor ${s.tree_path || s.name}`} onClick=${() => onEdit(s)}>Edit</button>
          <button type="button" class="danger" aria-label=${`Delete sensor ${s.tree_path || s.name}`}
            onClick=${() => onDelete(s)}>Delete</button>
        </span>
      </li>`;
    })}
  </ul>`;
}

function DeleteSensor({ device, sensor, onClose, onDone }) {
  const action = useAction(async () => {
    await del(`/api/devices/${device.id}/sensors/${sensor.id}`);
    onDone();
  });
  return html`<${Confirm} open=${true} title=${`Delete sensor ${sensor.tree_path || sensor.name}?`}
    confirmLabel="Delete sensor" busyLabel="Deleting sensor and its readings…" action=${action}
    onConfirm=${() => action.run()} onCancel=${onClose}>
    <p>The sensor <strong>${sensor.tree_path || sensor.name}</strong> is deleted with every stored
      reading, and consumers lose their grant to it. This cannot be undone.</p>
  <//>`;
}

export function SensorTree({ device }) {
  const base = `/api/devices/${device.id}/sensors`;
  const sensors = useLoad(() => all(base), [device.id]);
  const latest = useLoad(() => get(`/api/devices/${device.id}/data/latest`).then((a) =>
    Object.fromEntries(a.data.map((item) => [item.sensor_id, item]))), [device.id]);
  const [dialog, setDialog] = useState(null);
  const [note, setNote] = useState(null);
  const reload = () => { sensors.reload(); latest.reload(); };
  const create = async (payload) => {
    const sensor = await post(base, payload);
    setNote(`Sensor ${sensor.tree_path || sensor.name} created.`);
    reload();
  };
  const change = async (payload) => {
    const sensor = await patch(`${base}/${dialog.sensor.id}`, payload);
    setNote(`Sensor ${sensor.tree_path || sensor.name} saved.`);
    setDialog(null);
    reload();
  };
  return html`<section aria-labelledby="sensors">
    <h2 id="sensors">Sensors</h2>
    <${Loading} state=${sensors} what="sensors" />
    ${sensors.data && (sensors.data.length
      ? html`<${Node} node=${tree(sensors.data)} device=${device} latest=${latest.data || {}}
          onEdit=${(s) => setDialog({ kind: "edit", sensor: s })}
          onDelete=${(s) => setDialog({ kind: "delete", sensor: s })} />`
      : html`<p>No sensors yet: add the first one below.</p>`)}
    <${ErrorNote} error=${latest.error} />
    ${note && html`<${Status}>${note}<//>`}
    <h3>Add a sensor</h3>
    <${SensorForm} initial=${EMPTY} submitLabel="Add sensor" busyLabel="Adding sensor…" onSubmit=${create}
      reset=${true} />
    ${dialog?.kind === "edit" && html`<${Dialog} open=${true}
      title=${`Edit sensor ${dialog.sensor.tree_path || dialog.sensor.name}`} onClose=${() => setDialog(null)}>
      <${SensorForm} initial=${formOf(dialog.sensor)} submitLabel="Save sensor" busyLabel="Saving…"
        onSubmit=${change} onCancel=${() => setDialog(null)} />
    <//>`}
    ${dialog?.kind === "delete" && html`<${DeleteSensor} device=${device} sensor=${dialog.sensor}
      onClose=${() => setDialog(null)}
      onDone=${() => { setNote(`Sensor ${dialog.sensor.name} deleted.`); setDialog(null); reload(); }} />`}
  </section>`;
}
