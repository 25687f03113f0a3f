"""The normalizer's sensor directory on the store: each device's sensors, cached briefly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from functions.normalizer.service import Sensor
from shared.store import Document, Query, Store

__all__ = ["CachedSensorDirectory", "load_sensors", "sensor_from_document"]

_MAX_CACHED = 10_000
Lookup = Callable[[str, str], Mapping[str, Sensor]]


def sensor_from_document(document: Document) -> Sensor:
    """A sensor document (`name`, `path`, `mapping` {type, unit}) as the normalizer sees it. A
    mapping stored as JSON text (the reference API's form) is read too; a sensor without a type
    is a `double`, as the reference platform's default."""
    data = document.data
    mapping: Any = data.get("mapping") or {}
    if isinstance(mapping, str):
        try:
            mapping = orjson.loads(mapping)
        except orjson.JSONDecodeError:
            mapping = {}
    if not isinstance(mapping, dict):
        mapping = {}
    unit = mapping.get("unit")
    return Sensor(
        id=document.id,
        name=str(data.get("name") or document.id),
        path=str(data.get("path") or ""),
        type=str(mapping.get("type") or "double"),
        unit=unit if isinstance(unit, str) and unit else None,
    )


def load_sensors(store: Store, org: str, device: str) -> dict[str, Sensor]:
    """Every sensor of `orgs/{org}/devices/{device}/sensors`, by id (empty for an unknown
    device)."""
    query = Query(f"orgs/{org}/devices/{device}/sensors", select=("name", "path", "mapping"))
    return {doc.id: sensor_from_document(doc) for doc in store.query(query).documents}


class CachedSensorDirectory:
    """`SensorDirectory` over a lookup, each device's answer reused for `ttl` seconds (0 = not
    cached). `refresh` reads a device again unless it was read in the last `min_age` seconds:
    the handler calls it before dead-lettering, so a sensor created a moment ago is found."""

    def __init__(
        self,
        lookup: Lookup,
        ttl: float,
        *,
        min_age: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._min_age = min_age
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Mapping[str, Sensor]]] = {}
        self._lock = threading.Lock()

    def lookup(self, org: str, device: str) -> Mapping[str, Sensor]:
        hit = self._cache.get((org, device))
        if hit is not None and hit[0] + self._ttl > self._clock():
            return hit[1]
        return self._read(org, device)

    def refresh(self, org: str, device: str) -> bool:
        """Read the device's sensors again; False (nothing read) when the cached answer is
        younger than `min_age`."""
        hit = self._cache.get((org, device))
        if hit is not None and hit[0] + self._min_age > self._clock():
            return False
        self._read(org, device)
        return True

    def _read(self, org: str, device: str) -> Mapping[str, Sensor]:
        read_at = self._clock()
        sensors = self._lookup(org, device)
        if self._ttl > 0:
            with self._lock:
                if len(self._cache) >= _MAX_CACHED:
                    self._cache = {
                        k: v for k, v in self._cache.items() if v[0] + self._ttl > read_at
                    }
                    while len(self._cache) >= _MAX_CACHED:
                        del self._cache[next(iter(self._cache))]
                self._cache[(org, device)] = (read_at, sensors)
        return sensors
