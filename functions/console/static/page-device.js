// A device: its details, sensor tree, key, configuration, last reported state and commands.
import { html, useState } from "./lib.js";
import { get } from "./api.js";
import { useLoad } from "./hooks.js";
import { go, href } from "./router.js";
import { KeyPanel } from "./key-panel.js";
import { DeleteDevice, RenameDevice } from "./device-dialogs.js";
import { SensorTree } from "./device-sensors.js";
import { CommandPanel, ConfigPanel, StatePanel } from "./device-control.js";
import { Loading, PageHeading, Time } from "./ui.js";

export function DevicePage({ params }) {
  const id = params.device;
  const device = useLoad(() => get(`/api/devices/${id}`).then((a) => a.result), [id]);
  const [dialog, setDialog] = useState(null);
  if (device.data === undefined) {
    return html`<${PageHeading}>Device<//><${Loading} state=${device} what="the device" />`;
  }
  const d = device.data;
  return html`<nav aria-label="Breadcrumb" class="crumbs"><a href=${href("devices")}>Devices</a>${" › "}<span aria-current="page">${d.name}</span></nav>
    <${PageHeading}>${d.name}<//>
    <dl class="facts">
      <dt>Id</dt><dd><code>${d.id}</code></dd>
      <dt>Description</dt><dd>${d.description || "—"}</dd>
      <dt>Created</dt><dd><${Time} ms=${Date.parse(d.created_at)} /></dd>
      <dt>Key version</dt><dd>${d.key_version}</dd>
    </dl>
    <div class="actions">
      <button type="button" onClick=${() => setDialog("rename")}>Rename device</button>
      <button type="button" class="danger" onClick=${() => setDialog("delete")}>Delete device…</button>
    </div>
    <${SensorTree} device=${d} />
    <${KeyPanel} kind="device" owner=${d} />
    <${ConfigPanel} device=${d} />
    <${StatePanel} device=${d} />
    <${CommandPanel} device=${d} />
    ${dialog === "rename" && html`<${RenameDevice} device=${d} onClose=${() => setDialog(null)}
      onDone=${(changed) => { device.set(changed); setDialog(null); }} />`}
    ${dialog === "delete" && html`<${DeleteDevice} device=${d} onClose=${() => setDialog(null)}
      onDone=${() => go("/devices")} />`}`;
}
