// The live alert count in the navigation: counted once through the API, then again after every
// change the alerts stream announces; pages listen to the same changes (`onAlertChange`).
import { get, subscribe } from "./api.js";
import { useEffect, useState } from "./lib.js";

let state = { open: null, more: false, live: "connecting", error: null };
const watchers = new Set();
const changeWatchers = new Set();
let timer = null;

function set(next) {
  state = { ...state, ...next };
  for (const watcher of watchers) watcher(state);
}

async function count() {
  try {
    const page = await get("/api/alerts", { state: "open", limit: 100 });
    set({ open: page.items.length, more: Boolean(page.next), error: null });
  } catch (error) {
    if (error?.name !== "AbortError") set({ error });
  }
}

function soon() {
  clearTimeout(timer);
  timer = setTimeout(count, 250);
}

/** Start counting while signed in; returns the function that stops it. */
export function startAlertCount() {
  set({ open: null, more: false, live: "connecting", error: null });
  count();
  const stop = subscribe("/api/alerts/stream", {
    onEvent: (event) => {
      for (const watcher of changeWatchers) watcher(event.data);
      soon();
    },
    onStatus: (live, error) => {
      set({ live, error: error || null });
      if (live === "live") soon(); // count again after a reconnection: changes may have passed
    },
  });
  return () => { clearTimeout(timer); stop(); };
}

/** Call `watcher(change)` for every alert change while mounted. */
export function useAlertChanges(watcher) {
  useEffect(() => {
    changeWatchers.add(watcher);
    return () => changeWatchers.delete(watcher);
  }, [watcher]);
}

/** {open, more, live, error}: the count of open alerts and the stream's state. */
export function useAlertCount() {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    watchers.add(setCurrent);
    setCurrent(state);
    return () => watchers.delete(setCurrent);
  }, []);
  return current;
}
