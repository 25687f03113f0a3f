// Formatting of times and values for display (always as text).

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** Milliseconds since the epoch from nanoseconds (a number, possibly beyond 2^53: ms survive). */
export const nsToMs = (ns) => (ns === null || ns === undefined ? null : Number(ns) / 1e6);

/** "2026-12-01 15:40:02" in the browser's time zone. */
export function dateTime(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "15:40:02" (a time within the day). */
export function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "12 s ago", "3 min ago", "5 h ago", "2 days ago"; "in the future" for clock skew. */
export function ago(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return "never";
  const s = Math.round((now - ms) / 1000);
  if (s < -5) return "in the future";
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  const days = Math.floor(s / 86400);
  return `${days} day${days === 1 ? "" : "s"} ago`;
}

/** A reading's value as text: numbers trimmed, booleans and JSON as written. */
export function value(v, unit = "") {
  if (v === null || v === undefined) return "—";
  let text;
  if (typeof v === "number") text = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  else if (typeof v === "string") text = v;
  else text = JSON.stringify(v);
  return unit ? `${text} ${unit}` : text;
}

/** Value for an <input type="datetime-local"> from ms. */
export function localInput(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A file name part from free text: letters, digits, dot, dash, underscore. */
export const fileSafe = (text) => String(text).replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 60) || "file";

/** JSON for an editor: two-space indented. */
export const pretty = (v) => JSON.stringify(v, null, 2);
