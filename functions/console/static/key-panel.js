// A device's or consumer's key: shown on demand (or once, right after the device was created),
// copied, downloaded as a file, rotated after a clear warning. The console keeps no copy.
import { html, useEffect, useRef, useState } from "./lib.js";
import { get, post } from "./api.js";
import { useAction } from "./hooks.js";
import { fileSafe } from "./format.js";
import { Button, Confirm, ErrorNote, Status, copyText, download } from "./ui.js";

let handed = null;

/** Ask the next key panel of `id` to show its key at once (a device just created). */
export function handOver(id) { handed = id; }

function takeHanded(id) {
  const mine = handed === id;
  if (mine) handed = null;
  return mine;
}

/** `kind` is "device" or "consumer"; `owner` the device or consumer ({id, name}). */
export function KeyPanel({ kind, owner }) {
  const base = `/api/${kind}s/${owner.id}`;
  const [key, setKey] = useState(null);
  const [note, setNote] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const box = useRef(null);
  const show = useAction(async () => {
    setKey(await get(`${base}/key`));
    setNote(null);
  });
  const [fresh] = useState(() => takeHanded(owner.id));
  useEffect(() => { if (fresh) show.run(); }, []);
  const rotate = useAction(async () => {
    const answer = await post(`${base}/key/rotate`);
    setKey(answer);
    setConfirming(false);
    setNote(`Key rotated: this is version ${answer.key_version}. The previous key is refused from now on.`);
  });
  const copy = useAction(async () => {
    await copyText(key.token, box.current);
    setNote("Key copied to the clipboard.");
  });
  const save = () => {
    download(`${kind}-${fileSafe(owner.name)}-${owner.id}-key-v${key.key_version}.txt`, `${key.token}\n`);
    setNote("Key downloaded as a file.");
  };
  const label = kind === "device" ? "Device key" : "Consumer key";
  return html`<section aria-labelledby=${`${kind}-key`}>
    <h2 id=${`${kind}-key`}>${label}</h2>
    <p>${kind === "device"
      ? "Anyone holding this key can send data and receive commands as this device. "
      : "Anyone holding this key can read the sensors granted to this consumer. "}It is shown
      here until you hide it or leave the page; the console keeps no copy.</p>
    ${fresh && key && html`<p class="notice">New ${kind}: copy or download its key now.</p>`}
    ${key ? html`<div class="field">
        <label for=${`${kind}-key-value`}>${label} (version ${key.key_version})</label>
        <textarea id=${`${kind}-key-value`} class="secret" readonly rows="3" ref=${box}
          value=${key.token}></textarea>
      </div>
      <div class="actions">
        <${Button} busy=${copy.busy} busyLabel="Copying…" onClick=${() => copy.run()}>Copy key<//>
        <button type="button" onClick=${save}>Download key</button>
        <button type="button" onClick=${() => { setKey(null); setNote("Key hidden."); }}>Hide key</button>
      </div>`
    : html`<div class="actions"><${Button} busy=${show.busy} busyLabel="Fetching key…"
        onClick=${() => show.run()}>Show key<//></div>`}
    <div class="actions">
      <button type="button" class="danger" onClick=${() => { rotate.reset(); setConfirming(true); }}>Rotate key…</button>
    </div>
    ${note && html`<${Status}>${note}<//>`}
    <${ErrorNote} error=${show.error || copy.error} />
    ${confirming && html`<${Confirm} open=${true} title=${`Rotate the key of ${owner.name}?`}
      confirmLabel="Rotate key" busyLabel="Rotating…" action=${rotate}
      onConfirm=${() => rotate.run()} onCancel=${() => setConfirming(false)}>
      <p class="caution"><strong>The current key stops working.</strong> Within a few seconds
        everything still using it — ${kind === "device" ? "the device itself, its gateway or scripts sending its data over HTTP and MQTT" : "every application reading with it"} — is refused (403)
        until it is given the new key, shown here next. This cannot be undone.</p>
    <//>`}
  </section>`;
}
