"""The ids of a device's sensors from the store, cached briefly per process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shared.store import Query, Store

__all__ = ["CachedSensorIds", "sensor_ids"]

_MAX_CACHED = 10_000


def sensor_ids(store: Store, org: str, device: str) -> frozenset[str]:
    """Every sensor id of `orgs/{org}/devices/{device}/sensors` (empty for an unknown device)."""
    page = store.query(Query(f"orgs/{org}/devices/{device}/sensors", select=("name",)))
    return frozenset(document.id for document in page.documents)


class CachedSensorIds:
    """`SensorIds` over a lookup, each answer reused for `ttl` seconds (0 = never cached); a
    `fresh` call reads again and refreshes the cache."""

    def __init__(
        self,
        lookup: Callable[[str, str], frozenset[str]],
        ttl: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, org: str, device: str, *, fresh: bool = False) -> frozenset[str]:
        key = (org, device)
        now = self._clock()
        if not fresh:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        ids = self._lookup(org, device)
        if self._ttl > 0:
            with self._lock:
                if len(self._cache) >= _MAX_CACHED:
                    self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
                    while len(self._cache) >= _MAX_CACHED:
                        del self._cache[next(iter(self._cache))]
                self._cache[key] = (now + self._ttl, ids)
        return ids
