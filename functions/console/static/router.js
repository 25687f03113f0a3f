// Hash routes ("#/devices/<id>"): the part after "#" names the page. It holds ids, never a token.
import { useEffect, useState } from "./lib.js";

const ROUTES = [
  ["/signin", "signin"],
  ["/devices", "devices"],
  ["/devices/:device", "device"],
  ["/devices/:device/sensors/:sensor", "sensor"],
  ["/users", "users"],
  ["/consumers", "consumers"],
  ["/consumers/:consumer", "consumer"],
  ["/rules", "rules"],
  ["/detectors", "detectors"],
  ["/alerts", "alerts"],
];

/** {name, params, path} of a location hash; name "missing" when nothing matches. */
export function parse(hash) {
  const path = (hash || "").replace(/^#/, "") || "/devices";
  const parts = path.split("/").filter(Boolean);
  for (const [pattern, name] of ROUTES) {
    const want = pattern.split("/").filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    if (want.every((part, i) => {
      if (part.startsWith(":")) { params[part.slice(1)] = decodeURIComponent(parts[i]); return true; }
      return part === parts[i];
    })) return { name, params, path };
  }
  return { name: "missing", params: {}, path };
}

/** The href of a page: "#/devices/abc". */
export const href = (...parts) => "#/" + parts.map((p) => encodeURIComponent(p)).join("/");

/** Go to a page ("/devices/abc"). */
export function go(path) {
  if (location.hash !== `#${path}`) location.hash = path;
}

/** The current route, following the location hash. */
export function useRoute() {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const follow = () => setRoute(parse(location.hash));
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);
  return route;
}
