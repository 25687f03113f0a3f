// The console's one view library: Preact with hooks, written as tagged templates (htm).
// Templates build elements, never HTML strings: a value in ${...} is always text or a property.
import { h, render, Fragment, createContext } from "./vendor/preact.mjs";
import {
  useState, useEffect, useRef, useMemo, useCallback, useContext, useId,
} from "./vendor/hooks.mjs";
import htm from "./vendor/htm.mjs";

export const html = htm.bind(h);
export {
  render, Fragment, createContext,
  useState, useEffect, useRef, useMemo, useCallback, useContext, useId,
};
