// Choosing a device and one of its sensors from the organisation's lists.
import { html } from "./lib.js";
import { all } from "./api.js";
import { useLoad } from "./hooks.js";
import { Loading, Select } from "./ui.js";

/** Two selects: a device, then one of its sensors (`only(sensor)` filters them). */
export function SensorPicker({ device, sensor, onDevice, onSensor, error, only = () => true }) {
  const devices = useLoad(() => all("/api/devices", "result", 5), []);
  const sensors = useLoad(() => (device ? all(`/api/devices/${device}/sensors`) : Promise.resolve([])), [device]);
  if (devices.data === undefined) return html`<${Loading} state=${devices} what="devices" />`;
  return html`<div class="grid">
    <${Select} label="Device" name="device" value=${device} onValue=${(d) => { onDevice(d); onSensor(""); }}
      options=${[["", "Choose a device"], ...devices.data.map((d) => [d.id, d.name])]} error=${error} />
    <${Select} label="Sensor" name="sensor" value=${sensor} onValue=${onSensor} disabled=${!device}
      options=${[["", device ? "Choose a sensor" : "Choose a device first"],
        ...(sensors.data || []).filter(only).map((s) => [s.id, s.tree_path || s.name])]} error=${error} />
    <${Loading} state=${sensors.error ? sensors : { data: true }} what="sensors" />
  </div>`;
}
