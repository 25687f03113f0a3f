// Device control: the configuration editor (versioned: a conflicting save is a clear 412
// message), the state the device last reported, and one-shot commands with their delivery.
import { html, useEffect, useState } from "./lib.js";
import { ApiError, get, post, put } from "./api.js";
import { useAction, useLoad } from "./hooks.js";
import { nsToMs, pretty } from "./format.js";
import { Button, ErrorNote, Input, Loading, Status, TextArea, Time } from "./ui.js";

/** Parse JSON typed by the user; throws an error naming `field` with the parser's reason. */
function parsed(text, field) {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, "client", `not valid JSON: ${err.message}`, field);
  }
}

function ConflictNote({ error, onReload }) {
  return html`<div class="error" role="alert">
    <p><strong>Not saved: the configuration changed since you loaded it.</strong> Someone (or
      something) saved a newer version meanwhile (the platform answered 412: ${error.message}).
      Your text is still in the editor: copy what you need, reload the current version, and apply
      your change to it.</p>
    <button type="button" onClick=${onReload}>Load the current configuration</button>
  </div>`;
}

export function ConfigPanel({ device }) {
  const path = `/api/devices/${device.id}/config`;
  const config = useLoad(() => get(path), [device.id]);
  const [text, setText] = useState("");
  const [note, setNote] = useState(null);
  useEffect(() => {
    if (config.data) setText(config.data.config === null ? "{}" : pretty(config.data.config));
  }, [config.data]);
  const save = useAction(async () => {
    const body = { config: parsed(text, "config"), version: config.data.version };
    const answer = await put(path, body);
    config.set(answer);
    setNote(`Saved as version ${answer.version}; sent to the device (kept for it while it is offline).`);
  });
  const reload = () => { save.reset(); setNote(null); config.reload(); };
  const submit = (event) => { event.preventDefault(); setNote(null); save.run(); };
  const c = config.data;
  const conflict = save.error instanceof ApiError && save.error.status === 412;
  return html`<section aria-labelledby="config">
    <h2 id="config">Configuration</h2>
    <${Loading} state=${config} what="the configuration" />
    ${c && html`
      <p>${c.version === 0 ? "No configuration set yet." : html`Version <strong>${c.version}</strong>,
        saved <${Time} ms=${nsToMs(c.updated_ns)} />.`}
        ${c.version > 0 && (c.acknowledged_version === c.version
          ? " The device applied this version."
          : c.acknowledged_version
            ? ` The device last applied version ${c.acknowledged_version}.`
            : " The device has not acknowledged any version yet.")}</p>
      <form onSubmit=${submit} novalidate>
        <${TextArea} label=${`Configuration (JSON), editing version ${c.version}`} name="config"
          class="code" rows="8" spellcheck="false" value=${text} onValue=${setText}
          error=${conflict ? null : save.error} />
        ${conflict ? html`<${ConflictNote} error=${save.error} onReload=${reload} />`
          : html`<${ErrorNote} error=${save.error} />`}
        <div class="actions">
          <${Button} type="submit" class="primary" busy=${save.busy} busyLabel="Saving…">Save configuration<//>
          <button type="button" onClick=${reload}>Reload</button>
        </div>
      </form>
      ${note && html`<${Status}>${note}<//>`}`}
  </section>`;
}

export function StatePanel({ device }) {
  const state = useLoad(() => get(`/api/devices/${device.id}/state`).catch((error) => {
    if (error instanceof ApiError && error.status === 404 && /state|report/i.test(error.message)) return null;
    throw error;
  }), [device.id]);
  const s = state.data;
  return html`<section aria-labelledby="state">
    <h2 id="state">Last reported state</h2>
    <${Loading} state=${state} what="the state" />
    ${s === null && html`<p>The device has not reported a state yet.</p>`}
    ${s && html`<p>Reported <${Time} ms=${nsToMs(s.received_ns)} /> (<${Time} ms=${nsToMs(s.received_ns)}
        relative=${true} />) over ${s.transport}.</p>
      <pre class="code" tabindex="0" aria-label="Reported state (JSON)">${pretty(s.state)}</pre>`}
    ${state.data !== undefined && html`<${Button} busy=${state.loading} busyLabel="Refreshing…"
      onClick=${state.reload}>Refresh state<//>`}
  </section>`;
}

export function CommandPanel({ device }) {
  const [name, setName] = useState("");
  const [payload, setPayload] = useState("");
  const send = useAction(async () => {
    const body = payload.trim() ? parsed(payload, "payload") : undefined;
    return post(`/api/devices/${device.id}/commands/${encodeURIComponent(name)}`, body);
  });
  const submit = (event) => { event.preventDefault(); send.run(); };
  const result = send.done;
  return html`<section aria-labelledby="commands">
    <h2 id="commands">Send a command</h2>
    <form onSubmit=${submit} novalidate>
      <${Input} label="Command name" name="name" value=${name} onValue=${setName} required
        maxlength="64" hint="Letters, digits and _ . : - (at most 64)." error=${send.error} />
      <${TextArea} label="Payload (JSON, optional)" name="payload" class="code" rows="3"
        spellcheck="false" value=${payload} onValue=${setPayload} error=${send.error} />
      <${ErrorNote} error=${send.error} />
      <${Button} type="submit" class="primary" busy=${send.busy} busyLabel="Sending…">Send command<//>
    </form>
    ${result && result.command && html`<${Status}>${result.delivered
      ? `Command ${result.command} delivered: the device is subscribed (or its session keeps it until it reconnects).`
      : `Command ${result.command} not delivered: the device is not connected or not subscribed to commands, and the command was not kept.`}<//>`}
  </section>`;
}
