// Devices: the organisation's devices with search and last-seen time; create, rename, delete.
import { html, useEffect, useMemo, useState } from "./lib.js";
import { get, post } from "./api.js";
import { useAction, useLoad } from "./hooks.js";
import { go, href } from "./router.js";
import { nsToMs } from "./format.js";
import { handOver } from "./key-panel.js";
import { DeleteDevice, RenameDevice } from "./device-dialogs.js";
import { Button, ErrorNote, Input, Loading, PageHeading, Status, TableRegion, Time } from "./ui.js";

/** Last-seen time (ms) per device id, from each device's latest readings; 4 requests at a time.
 * A new `generation` (a refresh) asks again for every device. */
function useLastSeen(devices, generation) {
  const [seen, setSeen] = useState({});
  const asked = useMemo(() => new Set(), [generation]);
  useEffect(() => {
    let live = true;
    const queue = devices.filter((d) => !asked.has(d.id));
    for (const d of queue) asked.add(d.id);
    const worker = async () => {
      while (live && queue.length) {
        const device = queue.shift();
        let last = null;
        try {
          const answer = await get(`/api/devices/${device.id}/data/latest`);
          for (const item of answer.data) {
            if (item.timestamp !== null && (last === null || item.timestamp > last)) last = item.timestamp;
          }
          setSeen((s) => ({ ...s, [device.id]: { ms: nsToMs(last) } })); // in flight: kept
        } catch (error) {
          setSeen((s) => ({ ...s, [device.id]: { error } }));
        }
      }
    };
    for (let i = 0; i < 4; i++) worker();
    return () => {
      live = false;
      for (const d of queue) asked.delete(d.id); // not asked yet: next time
    };
  }, [devices, asked]);
  return seen;
}

function CreateDevice({ onCreated }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const action = useAction(async () => {
    const answer = await post("/api/devices", { name, description });
    onCreated(answer.result);
  });
  const submit = (event) => { event.preventDefault(); action.run(); };
  return html`<section aria-labelledby="create-device">
    <h2 id="create-device">Create a device</h2>
    <form onSubmit=${submit} novalidate class="inline">
      <${Input} label="Device name" name="name" value=${name} onValue=${setName} required
        maxlength="128" error=${action.error} />
      <${Input} label="Description (optional)" name="description" value=${description}
        onValue=${setDescription} maxlength="1024" error=${action.error} />
      <${Button} type="submit" class="primary" busy=${action.busy} busyLabel="Creating…">Create device<//>
    </form>
    <${ErrorNote} error=${action.error} />
  </section>`;
}

function LastSeen({ entry }) {
  if (!entry) return html`<span class="muted">checking…</span>`;
  if (entry.error) return html`<span class="error-text">unknown (${entry.error.message})</span>`;
  if (entry.ms === null) return html`<span class="muted">never</span>`;
  return html`<${Time} ms=${entry.ms} relative=${true} />`;
}

export function DevicesPage() {
  const [pages, setPages] = useState({ items: [], next: null });
  const [query, setQuery] = useState("");
  const [dialog, setDialog] = useState(null); // {kind: "rename"|"delete", device}
  const first = useLoad(() => get("/api/devices", { limit: 100 }), []);
  useEffect(() => { if (first.data) setPages({ items: first.data.result, next: first.data.next }); }, [first.data]);
  const more = useAction(async () => {
    const answer = await get("/api/devices", { limit: 100, cursor: pages.next });
    setPages({ items: [...pages.items, ...answer.result], next: answer.next });
  });
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (!q) return pages.items;
    return pages.items.filter((d) => [d.name, d.id, d.description || ""].some((t) => t.toLowerCase().includes(q)));
  }, [pages, query]);
  const seen = useLastSeen(pages.items, first.data);
  const created = (device) => {
    handOver(device.id);
    go(`/devices/${device.id}`);
  };
  const replace = (device) => {
    setPages((p) => ({ ...p, items: p.items.map((d) => (d.id === device.id ? device : d)) }));
    setDialog(null);
  };
  const removed = (id) => {
    setPages((p) => ({ ...p, items: p.items.filter((d) => d.id !== id) }));
    setDialog(null);
  };
  return html`<${PageHeading}>Devices<//>
    <${CreateDevice} onCreated=${created} />
    <section aria-labelledby="device-list">
      <h2 id="device-list">All devices</h2>
      <${Loading} state=${first} what="devices" />
      ${first.data && html`
        <div class="toolbar">
          <${Input} label="Search devices" type="search" name="search" value=${query}
            onValue=${setQuery} hint="Matches name, id or description of the devices loaded below." />
          <button type="button" onClick=${first.reload}>Refresh</button>
        </div>
        <${Status}>${query
          ? `${shown.length} of ${pages.items.length} loaded devices match.`
          : `${pages.items.length} device${pages.items.length === 1 ? "" : "s"} loaded.`}
          ${pages.next ? " More exist: load them to search them too." : ""}<//>
        ${shown.length > 0 && html`<${TableRegion} label="Devices">
          <table>
            <thead><tr><th scope="col">Name</th><th scope="col" class="wide">Id</th>
              <th scope="col">Last seen</th><th scope="col" class="wide">Created</th>
              <th scope="col">Actions</th></tr></thead>
            <tbody>${shown.map((d) => html`<tr key=${d.id}>
              <td><a href=${href("devices", d.id)}>${d.name}</a>
                ${d.description && html`<div class="muted small">${d.description}</div>`}</td>
              <td class="wide"><code>${d.id}</code></td>
              <td><${LastSeen} entry=${seen[d.id]} /></td>
              <td class="wide"><${Time} ms=${Date.parse(d.created_at)} /></td>
              <td class="row-actions">
                <button type="button" aria-label=${`Rename ${d.name}`}
                  onClick=${() => setDialog({ kind: "rename", device: d })}>Rename</button>
                <button type="button" class="danger" aria-label=${`Delete ${d.name}`}
                  onClick=${() => setDialog({ kind: "delete", device: d })}>Delete</button>
              </td></tr>`)}
            </tbody>
          </table><//>`}
        ${pages.next && html`<${Button} busy=${more.busy} busyLabel="Loading more devices…"
          onClick=${() => more.run()}>Load more devices<//><${ErrorNote} error=${more.error} />`}
      `}
    </section>
    ${dialog?.kind === "rename" && html`<${RenameDevice} device=${dialog.device}
      onClose=${() => setDialog(null)} onDone=${replace} />`}
    ${dialog?.kind === "delete" && html`<${DeleteDevice} device=${dialog.device}
      onClose=${() => setDialog(null)} onDone=${() => removed(dialog.device.id)} />`}`;
}
