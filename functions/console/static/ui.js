// Small building blocks every page uses: labelled fields with their errors, busy buttons,
// dialogs, error and status notes, tables that scroll, headings that take the focus.
import { html, useEffect, useId, useRef } from "./lib.js";
import { describe, ApiError } from "./api.js";
import { ago, dateTime } from "./format.js";

/** The API's message for `name` when the error names that field (or one inside it). */
export function fieldError(error, ...names) {
  if (!(error instanceof ApiError) || !error.field) return null;
  const hit = names.some((name) => error.field === name || error.field.startsWith(`${name}.`) ||
    error.field.startsWith(`${name}[`));
  return hit ? error.message : null;
}

/** An error in words, announced; nothing when there is none. */
export function ErrorNote({ error, id }) {
  if (!error) return null;
  return html`<p class="error" role="alert" id=${id}>${describe(error)}</p>`;
}

/** A polite announcement (progress, results). */
export function Status({ children, id }) {
  return html`<p class="status" role="status" id=${id}>${children}</p>`;
}

function described(hintId, hint, errorId, message) {
  return [hint ? hintId : null, message ? errorId : null].filter(Boolean).join(" ") || undefined;
}

function Wrapped({ id, label, hint, message, children }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${children}
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${message && html`<p class="field-error" id=${`${id}-error`}>${message}</p>`}
  </div>`;
}

/** <input> with its label, hint and the API's error for its field (`field`, default `name`). */
export function Input({ label, hint, error, name, field, value, onValue, type = "text", ...rest }) {
  const id = useId();
  const message = typeof error === "string" ? error : fieldError(error, field || name);
  return html`<${Wrapped} id=${id} label=${label} hint=${hint} message=${message}>
    <input id=${id} name=${name} type=${type} value=${value}
      onInput=${(e) => onValue(e.currentTarget.value)}
      aria-invalid=${message ? "true" : undefined}
      aria-describedby=${described(`${id}-hint`, hint, `${id}-error`, message)} ...${rest} />
  <//>`;
}

/** <textarea> as Input. */
export function TextArea({ label, hint, error, name, field, value, onValue, textareaRef, ...rest }) {
  const id = useId();
  const message = typeof error === "string" ? error : fieldError(error, field || name);
  return html`<${Wrapped} id=${id} label=${label} hint=${hint} message=${message}>
    <textarea id=${id} name=${name} value=${value} ref=${textareaRef}
      onInput=${(e) => onValue(e.currentTarget.value)}
      aria-invalid=${message ? "true" : undefined}
      aria-describedby=${described(`${id}-hint`, hint, `${id}-error`, message)} ...${rest}></textarea>
  <//>`;
}

/** <select> as Input; `options` are [value, text] pairs. */
export function Select({ label, hint, error, name, field, value, onValue, options, ...rest }) {
  const id = useId();
  const message = typeof error === "string" ? error : fieldError(error, field || name);
  return html`<${Wrapped} id=${id} label=${label} hint=${hint} message=${message}>
    <select id=${id} name=${name} value=${value} onChange=${(e) => onValue(e.currentTarget.value)}
      aria-invalid=${message ? "true" : undefined}
      aria-describedby=${described(`${id}-hint`, hint, `${id}-error`, message)} ...${rest}>
      ${options.map(([v, text]) => html`<option value=${v} selected=${v === value}>${text}</option>`)}
    </select>
  <//>`;
}

/** A button that says what it is doing while `busy`. */
export function Button({ busy, busyLabel, children, type = "button", disabled, ...rest }) {
  return html`<button type=${type} disabled=${busy || disabled} aria-busy=${busy ? "true" : undefined} ...${rest}>
    ${busy ? busyLabel || "Working…" : children}</button>`;
}

/** A modal <dialog> (Escape closes it, the focus stays inside while it is open). */
export function Dialog({ open, title, onClose, children }) {
  const ref = useRef(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
    return () => { if (dialog.open) dialog.close(); }; // closed before removal: focus goes back
  }, [open]);
  return html`<dialog ref=${ref} aria-labelledby=${titleId}
    onCancel=${(e) => { e.preventDefault(); onClose(); }}>
    ${open && html`<h2 id=${titleId}>${title}</h2>${children}`}
  </dialog>`;
}

/** A confirmation dialog for a destructive action; Cancel has the focus first. */
export function Confirm({ open, title, confirmLabel, busyLabel, action, onConfirm, onCancel, children }) {
  return html`<${Dialog} open=${open} title=${title} onClose=${onCancel}>
    <div class="dialog-body">${children}</div>
    <${ErrorNote} error=${action && action.error} />
    <div class="actions">
      <${Button} class="danger" busy=${action && action.busy} busyLabel=${busyLabel}
        onClick=${onConfirm}>${confirmLabel}<//>
      <button type="button" autofocus onClick=${onCancel}>Cancel</button>
    </div>
  <//>`;
}

/** A table that scrolls sideways on a narrow screen (focusable, so keyboards can scroll it). */
export function TableRegion({ label, children }) {
  return html`<div class="table-wrap" role="region" aria-label=${label} tabindex="0">${children}</div>`;
}

/** The page's <h1>; it takes the focus when the page opens, so screen readers announce it. */
export function PageHeading({ children }) {
  const ref = useRef(null);
  useEffect(() => { ref.current && ref.current.focus({ preventScroll: true }); }, []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

/** A time as text with its machine-readable form. */
export function Time({ ms, relative = false }) {
  if (ms === null || ms === undefined) return html`<span>never</span>`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime=${iso}>${relative ? ago(ms) : dateTime(ms)}</time>`;
}

/** Loading and error states of a `useLoad` result, or null when its data is there. */
export function Loading({ state, what }) {
  if (state.error) {
    return html`<div><${ErrorNote} error=${state.error} />
      <button type="button" onClick=${state.reload}>Try loading ${what} again</button></div>`;
  }
  if (state.data === undefined) return html`<${Status}>Loading ${what}…<//>`;
  return null;
}

/** Offer `content` as a file download. */
export function download(name, content, type = "text/plain") {
  const url = URL.createObjectURL(content instanceof Blob ? content : new Blob([content], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Put text on the clipboard (the textarea `fallback` is selected and copied where the
 * Clipboard API is missing, e.g. on plain http away from localhost). */
export async function copyText(text, fallback) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  if (fallback) {
    fallback.focus();
    fallback.select();
    if (document.execCommand("copy")) return;
  }
  throw new Error("this browser does not allow copying here: select the text and copy it");
}
