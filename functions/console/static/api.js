// The platform's HTTP API as the console uses it. The session's token lives only in this
// module's memory: never in web storage, a cookie or a URL. A reload of the page
// forgets it (sign in again); signing out forgets it and aborts every request and stream.

// The console is served at <base>/console/, the API at <base>/api/...
const BASE = new URL("../", document.baseURI);

let session = null; // {token, user, controller}
let notice = null; // why the last session ended, for the sign-in page
const watchers = new Set();

export class ApiError extends Error {
  constructor(status, code, message, field = null, details = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details;
  }
}

const WORDS = {
  0: "Cannot reach the platform", 400: "Invalid input", 401: "Not signed in",
  403: "Not allowed", 404: "Not found", 405: "Not supported", 409: "Conflict",
  412: "Changed by someone else", 413: "Too large", 415: "Wrong content type",
  429: "Too many attempts", 500: "Internal error", 501: "Not available on this platform",
  503: "Temporarily unavailable",
};

/** An error in words, with the API's own message: "Not found (404): no device ...". */
export function describe(error) {
  if (error instanceof ApiError) {
    const words = WORDS[error.status] || `Error ${error.status}`;
    return error.status ? `${words} (${error.status}): ${error.message}` : `${words}: ${error.message}`;
  }
  return `Unexpected error: ${(error && error.message) || error}`;
}

export function apiUrl(path, query = {}) {
  const url = new URL(path.replace(/^\//, ""), BASE);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  return url;
}

export const currentSession = () => session;
export const lastNotice = () => notice;

export function onSession(watcher) {
  watchers.add(watcher);
  return () => watchers.delete(watcher);
}

function announce() {
  for (const watcher of watchers) watcher(session);
}

async function errorFrom(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON: described below */ }
  const e = body && body.error;
  if (e && typeof e.message === "string") {
    return new ApiError(response.status, e.code || "", e.message, e.field ?? null, e.details ?? null);
  }
  return new ApiError(response.status, "", response.statusText || "the platform gave no reason");
}

const networkError = (err) => new ApiError(0, "network", `the request did not complete (${err.message})`);

// 401, or a 403 about the token itself (expired, revoked...): the session is over
const sessionOver = (error) =>
  error.status === 401 || (error.status === 403 && /^token /.test(error.message));

function endSession(own, error) {
  if (session === own) signOut(`Your session ended: ${error.message}. Sign in again.`);
}

/** Sign in: the token is kept in memory for this page only. */
export async function signIn(username, password) {
  let response;
  try {
    response = await fetch(apiUrl("/api/users/signin"), {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }), cache: "no-store", credentials: "omit",
    });
  } catch (err) { throw networkError(err); }
  if (!response.ok) throw await errorFrom(response);
  const { token } = await response.json();
  const own = { token, user: null, controller: new AbortController() };
  session = own;
  try {
    own.user = await call("GET", "/api/users/self");
  } catch (error) {
    session = null;
    throw error;
  }
  notice = null;
  announce();
}

/** Forget the token, abort what it started, and say why on the sign-in page. */
export function signOut(why = "You signed out.") {
  if (session) session.controller.abort();
  session = null;
  notice = why;
  announce();
}

/** One API call with the session's token; resolves to the JSON body (null for 204), or the raw
 * Response with `raw`; rejects with an ApiError in words. */
export async function call(method, path, { body, query, accept, signal, raw } = {}) {
  const own = session;
  if (!own) throw new ApiError(401, "unauthenticated", "you are signed out");
  const headers = { authorization: `Bearer ${own.token}` };
  if (accept) headers.accept = accept;
  let payload;
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const signals = signal ? AbortSignal.any([signal, own.controller.signal]) : own.controller.signal;
  let response;
  try {
    response = await fetch(apiUrl(path, query), {
      method, headers, body: payload, signal: signals, cache: "no-store", credentials: "omit",
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw networkError(err);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (sessionOver(error)) endSession(own, error);
    throw error;
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, query, options = {}) => call("GET", path, { ...options, query });
export const post = (path, body, options = {}) => call("POST", path, { ...options, body });
export const put = (path, body, options = {}) => call("PUT", path, { ...options, body });
export const patch = (path, body, options = {}) => call("PATCH", path, { ...options, body });
export const del = (path, options = {}) => call("DELETE", path, options);

/** Every item of a listing, following `next` (at most `pages` pages). */
export async function all(path, key = "items", pages = 20) {
  const items = [];
  let cursor;
  for (let page = 0; page < pages; page++) {
    const answer = await get(path, { limit: 100, cursor });
    items.push(...answer[key]);
    cursor = answer.next;
    if (!cursor) break;
  }
  return items;
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

/** Server-Sent Events over fetch (an EventSource cannot send the token in a header): calls
 * `onEvent({type, id, data})` for each event and `onStatus(state, error)` with "connecting",
 * "live", "reconnecting" or "stopped"; reconnects with Last-Event-ID, so nothing is missed.
 * Returns a function that stops it; signing out stops it too. */
export function subscribe(path, { onEvent, onStatus = () => {}, query = {} }) {
  const own = session;
  const stopper = new AbortController();
  if (!own) return () => {};
  const signal = AbortSignal.any([stopper.signal, own.controller.signal]);
  let lastId = null;
  let retry = 2000;

  function dispatch(event) {
    if (event.data === undefined) return;
    if (event.id !== undefined) lastId = event.id;
    const data = JSON.parse(event.data);
    if (event.type === "error") throw new ApiError(data.status || 500, "stream", data.message || "the stream failed");
    onEvent({ type: event.type || "message", id: event.id, data });
  }

  async function read(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = {};
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, "");
        buffer = buffer.slice(end + 1);
        if (line === "") { dispatch(event); event = {}; continue; }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") event.data = event.data === undefined ? text : `${event.data}\n${text}`;
        else if (field === "id") event.id = text;
        else if (field === "event") event.type = text;
        else if (field === "retry" && /^\d+$/.test(text)) retry = Number(text);
      }
    }
  }

  (async () => {
    while (!signal.aborted) {
      try {
        onStatus("connecting");
        const headers = { authorization: `Bearer ${own.token}`, accept: "text/event-stream" };
        if (lastId) headers["last-event-id"] = lastId;
        let response;
        try {
          response = await fetch(apiUrl(path, query), { headers, signal, cache: "no-store", credentials: "omit" });
        } catch (err) {
          if (err.name === "AbortError") throw err;
          throw networkError(err);
        }
        if (!response.ok) throw await errorFrom(response);
        onStatus("live");
        await read(response);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && sessionOver(error)) { endSession(own, error); return; }
        if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429
            || error instanceof ApiError && error.status === 501) {
          onStatus("stopped", error);
          return;
        }
        onStatus("reconnecting", error);
      }
      await sleep(retry, signal);
    }
  })();
  return () => stopper.abort();
}
