// Consumers (applications outside the platform that read data): create and delete them, hand out
// and rotate their keys, grant and withdraw sensors one by one.
import { html, useEffect, useState } from "./lib.js";
import { all, del, get, post } from "./api.js";
import { useAction, useLoad } from "./hooks.js";
import { go, href } from "./router.js";
import { KeyPanel } from "./key-panel.js";
import { Button, Confirm, ErrorNote, Input, Loading, PageHeading, Select, Status, TableRegion, Time } from "./ui.js";

export function ConsumersPage() {
  const consumers = useLoad(() => all("/api/consumers"), []);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const create = useAction(async () => {
    const consumer = await post("/api/consumers", { name, description });
    go(`/consumers/${consumer.id}`);
  });
  const submit = (event) => { event.preventDefault(); create.run(); };
  return html`<${PageHeading}>Consumers<//>
    <p>A consumer is an application outside the platform that reads the sensors granted to it with its own key.</p>
    <section aria-labelledby="create-consumer">
      <h2 id="create-consumer">Create a consumer</h2>
      <form class="inline" onSubmit=${submit} novalidate>
        <${Input} label="Consumer name" name="name" value=${name} onValue=${setName} maxlength="128" error=${create.error} />
        <${Input} label="Description (optional)" name="description" value=${description}
          onValue=${setDescription} maxlength="1024" error=${create.error} />
        <${Button} type="submit" class="primary" busy=${create.busy} busyLabel="Creating…">Create consumer<//>
      </form>
      <${ErrorNote} error=${create.error} />
    </section>
    <section aria-labelledby="consumer-list">
      <h2 id="consumer-list">All consumers</h2>
      <${Loading} state=${consumers} what="consumers" />
      ${consumers.data && (consumers.data.length === 0 ? html`<p>No consumers yet.</p>` : html`<${TableRegion} label="Consumers"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Granted sensors</th><th scope="col" class="wide">Created</th></tr></thead>
        <tbody>${consumers.data.map((c) => html`<tr key=${c.id}>
          <td><a href=${href("consumers", c.id)}>${c.name}</a>${c.description && html`<div class="muted small">${c.description}</div>`}</td>
          <td>${c.sensors.length}</td><td class="wide"><${Time} ms=${Date.parse(c.created_at)} /></td></tr>`)}
        </tbody></table><//>`)}
    </section>`;
}

/** Names of devices and sensors for the grant list, asked once per page. */
function useSensorNames(grants) {
  const [names, setNames] = useState({});
  useEffect(() => {
    let live = true;
    const devices = [...new Set(grants.map((g) => g.split("/")[0]))].filter((d) => !(d in names));
    for (const device of devices) {
      Promise.all([get(`/api/devices/${device}`), all(`/api/devices/${device}/sensors`)]).then(([d, sensors]) => {
        if (!live) return;
        const found = { [device]: d.result.name };
        for (const s of sensors) found[`${device}/${s.id}`] = s.tree_path || s.name;
        setNames((n) => ({ ...n, ...found }));
      }, (error) => { if (live) setNames((n) => ({ ...n, [device]: `${device} (name unavailable: ${error.message})` })); });
    }
    return () => { live = false; };
  }, [grants.join(",")]);
  return names;
}

function AddGrant({ consumer, onGranted }) {
  const devices = useLoad(() => all("/api/devices", "result", 5), []);
  const [device, setDevice] = useState("");
  const sensors = useLoad(() => (device ? all(`/api/devices/${device}/sensors`) : Promise.resolve([])), [device]);
  const [sensor, setSensor] = useState("");
  const grant = useAction(async () => onGranted(await post(`/api/consumers/${consumer.id}/sensors`, { device, sensor })));
  const submit = (event) => { event.preventDefault(); grant.run(); };
  if (devices.data === undefined) return html`<${Loading} state=${devices} what="devices" />`;
  return html`<form class="inline" onSubmit=${submit} novalidate>
    <${Select} label="Device" name="device" value=${device} onValue=${(d) => { setDevice(d); setSensor(""); }}
      options=${[["", "Choose a device"], ...devices.data.map((d) => [d.id, d.name])]} error=${grant.error} />
    <${Select} label="Sensor" name="sensor" value=${sensor} onValue=${setSensor} disabled=${!device}
      options=${[["", device ? "Choose a sensor" : "Choose a device first"], ...(sensors.data || []).map((s) => [s.id, s.tree_path || s.name])]}
      error=${grant.error} />
    <${Button} type="submit" busy=${grant.busy} busyLabel="Granting…" disabled=${!sensor}>Grant sensor<//>
    <${ErrorNote} error=${grant.error || sensors.error} />
  </form>`;
}

function Revoke({ consumer, grant, label, onDone }) {
  const action = useAction(async () => onDone(await del(`/api/consumers/${consumer.id}/sensors/${grant}`)));
  return html`<${Button} class="danger" busy=${action.busy} busyLabel="Withdrawing…"
    aria-label=${`Withdraw ${label}`} onClick=${() => action.run()}>Withdraw<//><${ErrorNote} error=${action.error} />`;
}

export function ConsumerPage({ params }) {
  const consumer = useLoad(() => get(`/api/consumers/${params.consumer}`), [params.consumer]);
  const [confirming, setConfirming] = useState(false);
  const [note, setNote] = useState(null);
  const remove = useAction(async () => { await del(`/api/consumers/${params.consumer}`); go("/consumers"); });
  const grants = consumer.data ? consumer.data.sensors : [];
  const names = useSensorNames(grants);
  if (consumer.data === undefined) return html`<${PageHeading}>Consumer<//><${Loading} state=${consumer} what="the consumer" />`;
  const c = consumer.data;
  const changed = (text) => (answer) => { consumer.set(answer); setNote(text); };
  return html`<nav aria-label="Breadcrumb" class="crumbs"><a href=${href("consumers")}>Consumers</a>${" › "}<span aria-current="page">${c.name}</span></nav>
    <${PageHeading}>${c.name}<//>
    <dl class="facts"><dt>Id</dt><dd><code>${c.id}</code></dd><dt>Description</dt><dd>${c.description || "—"}</dd>
      <dt>Created</dt><dd><${Time} ms=${Date.parse(c.created_at)} /></dd></dl>
    <div class="actions"><button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete consumer…</button></div>
    <section aria-labelledby="grants">
      <h2 id="grants">Granted sensors</h2>
      ${grants.length === 0 ? html`<p>No sensors granted: this consumer reads nothing.</p>` : html`<ul class="grants">
        ${grants.map((g) => {
          const [device] = g.split("/");
          const label = `${names[device] || device} / ${names[g] || g.split("/")[1]}`;
          return html`<li key=${g}><span>${label}</span>
            <${Revoke} consumer=${c} grant=${g} label=${label} onDone=${changed(`Withdrew ${label}.`)} /></li>`;
        })}</ul>`}
      <h3>Grant a sensor</h3>
      <${AddGrant} consumer=${c} onGranted=${changed("Sensor granted.")} />
      ${note && html`<${Status}>${note}<//>`}
    </section>
    <${KeyPanel} kind="consumer" owner=${c} />
    ${confirming && html`<${Confirm} open=${true} title=${`Delete consumer ${c.name}?`} confirmLabel="Delete consumer"
      busyLabel="Deleting…" action=${remove} onConfirm=${() => remove.run()} onCancel=${() => setConfirming(false)}>
      <p>Its key stops working at once and its grants go. This cannot be undone.</p>
    <//>`}`;
}
