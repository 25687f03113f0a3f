// Hooks for loading data and running actions, with their progress and errors kept for display.
import { useCallback, useEffect, useRef, useState } from "./lib.js";

/** Load with `load()` when `deps` change; {loading, error, data, reload, set}. A reload keeps the
 * data on screen until the new answer arrives. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, error: null, data: undefined });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => { if (live) setState({ loading: false, error: null, data }); },
      (error) => {
        if (live && error?.name !== "AbortError") setState((s) => ({ ...s, loading: false, error }));
      },
    );
    return () => { live = false; };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const set = useCallback((data) => setState({ loading: false, error: null, data }), []);
  return { ...state, reload, set };
}

/** An action the user starts: {run, busy, error, done, reset}; `run` resolves to the result (or
 * undefined after an error, which is kept in `error` for display). */
export function useAction(action) {
  const [state, setState] = useState({ busy: false, error: null, done: null });
  const mounted = useRef(true);
  useEffect(() => () => { mounted.current = false; }, []);
  const run = async (...args) => {
    setState({ busy: true, error: null, done: null });
    try {
      const result = await action(...args);
      if (mounted.current) setState({ busy: false, error: null, done: result ?? true });
      return result ?? true;
    } catch (error) {
      if (mounted.current && error?.name !== "AbortError") setState({ busy: false, error, done: null });
      return undefined;
    }
  };
  const reset = () => setState({ busy: false, error: null, done: null });
  return { ...state, run, reset };
}

/** Call `tick()` every `ms` while mounted. */
export function useEvery(ms, tick) {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    const timer = setInterval(() => saved.current(), ms);
    return () => clearInterval(timer);
  }, [ms]);
}
