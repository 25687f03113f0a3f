// Dialogs shared by the device list and the device page: rename and delete a device.
import { html, useState } from "./lib.js";
import { del, patch } from "./api.js";
import { useAction } from "./hooks.js";
import { Button, Confirm, Dialog, ErrorNote, Input } from "./ui.js";

/** Rename (and describe) a device; `onDone(device)` with the changed device. */
export function RenameDevice({ device, onClose, onDone }) {
  const [name, setName] = useState(device.name);
  const [description, setDescription] = useState(device.description || "");
  const action = useAction(async () => {
    const answer = await patch(`/api/devices/${device.id}`, { name, description });
    onDone(answer.result);
  });
  const submit = (event) => { event.preventDefault(); action.run(); };
  return html`<${Dialog} open=${true} title=${`Rename device ${device.name}`} onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <${Input} label="Name" name="name" value=${name} onValue=${setName} required maxlength="128"
        error=${action.error} />
      <${Input} label="Description" name="description" value=${description}
        onValue=${setDescription} maxlength="1024" error=${action.error} />
      <${ErrorNote} error=${action.error} />
      <div class="actions">
        <${Button} type="submit" class="primary" busy=${action.busy} busyLabel="Saving…">Save<//>
        <button type="button" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

/** Delete a device after confirmation; `onDone()` once it is gone. */
export function DeleteDevice({ device, onClose, onDone }) {
  const action = useAction(async () => {
    await del(`/api/devices/${device.id}`);
    onDone();
  });
  return html`<${Confirm} open=${true} title=${`Delete device ${device.name}?`}
    confirmLabel="Delete device" busyLabel="Deleting device and its data…" action=${action}
    onConfirm=${() => action.run()} onCancel=${onClose}>
    <p>The device <strong>${device.name}</strong> (${device.id}) is deleted with its sensors and
      every stored reading, its configuration and state, and its grants to consumers. Its key stops
      working at once. This cannot be undone.</p>
  <//>`;
}
