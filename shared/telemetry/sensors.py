"""A device's sensors as the telemetry path sees them (ingest at the door, the normalizer): the
sensor model, the index that resolves SenML names, and the store-backed directory cached briefly
per process."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from shared.expiring import ExpiringMap
from shared.settings import env_int
from shared.store import Document, Query, Store

__all__ = [
    "AMBIGUOUS",
    "DERIVED",
    "CachedSensorDirectory",
    "Sensor",
    "SensorDirectory",
    "SensorIndex",
    "cached_store_directory",
    "load_sensors",
    "sensor_from_document",
]

AMBIGUOUS = "ambiguous"  # SensorIndex.match: the name fits several sensors
DERIVED = "a derived sensor (a detector's score or verdict): only its detector writes it"


@dataclass(frozen=True, slots=True)
class Sensor:
    """A sensor as ingest and the normalizer need it: `path` is its folder in the device's
    sensor tree ("front/left", "" at the root), `type` its mapping type, `unit` its optional
    unit; `derived` when a detector writes it (its score or verdict): devices cannot."""

    id: str
    name: str
    path: str = ""
    type: str = "double"
    unit: str | None = None
    derived: bool = False

    @property
    def tree_path(self) -> str:
        """The full tree path, e.g. "front/left/pressure"."""
        return f"{self.path.strip('/')}/{self.name}" if self.path.strip("/") else self.name


class SensorDirectory(Protocol):
    """The sensors of one device keyed by id (the wiring implements it on the store)."""

    def lookup(self, org: str, device: str) -> Mapping[str, Sensor]: ...


Lookup = Callable[[str, str], Mapping[str, Sensor]]


class SensorIndex:
    """A device's sensors, found by id (reference format) or by SenML name."""

    def __init__(self, sensors: Mapping[str, Sensor]) -> None:
        self.by_id = sensors
        self.by_path = {s.tree_path: s for s in sensors.values()}
        self.by_name: dict[str, Sensor | None] = {}  # None: the name is not unique
        for sensor in sensors.values():
            self.by_name[sensor.name] = None if sensor.name in self.by_name else sensor

    def find(self, name: str) -> Sensor | str:
        """The sensor a SenML name means, or the reason none is meant (see `match`)."""
        found = self.match(name)
        if isinstance(found, Sensor):
            return found
        if found == AMBIGUOUS:
            return f"name {name!r} matches several sensors of the device; use the tree path"
        return f"no sensor of the device has the id, tree path or name {name!r}"

    def match(self, name: str) -> Sensor | str | None:
        """The sensor a SenML name means, AMBIGUOUS, or None. Tried in order: the sensor id,
        the tree path, a name unique in the device; then the same for the part after the last
        ':' (so "urn:dev:ow:10e2073a01080063:temp" finds "temp")."""
        found = self._find(name)
        if found is None and ":" in name:
            found = self._find(name.rsplit(":", 1)[1])
        return found

    def _find(self, name: str) -> Sensor | str | None:
        sensor = self.by_id.get(name) or self.by_path.get(name.strip("/"))
        if sensor is not None:
            return sensor
        if name in self.by_name:
            return self.by_name[name] or AMBIGUOUS
        return None


def sensor_from_document(document: Document) -> Sensor:
    """A sensor document (`name`, `path`, `mapping` {type, unit}) as the telemetry path sees it. A
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
        derived=bool(data.get("derived")),
    )


def load_sensors(store: Store, org: str, device: str) -> dict[str, Sensor]:
    """Every sensor of `orgs/{org}/devices/{device}/sensors`, by id (empty for an unknown
    device)."""
    query = Query(
        f"orgs/{org}/devices/{device}/sensors", select=("name", "path", "mapping", "derived")
    )
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
        self._min_age = min_age
        self._clock = clock
        self._cache: ExpiringMap[tuple[str, str], Mapping[str, Sensor]] = ExpiringMap(
            ttl, clock=clock
        )

    def lookup(self, org: str, device: str) -> Mapping[str, Sensor]:
        hit = self._cache.get((org, device))
        return hit if hit is not None else self._read(org, device)

    def refresh(self, org: str, device: str) -> bool:
        """Read the device's sensors again; False (nothing read) when the cached answer is
        younger than `min_age`."""
        if self._cache.get((org, device), max_age=self._min_age) is not None:
            return False
        self._read(org, device)
        return True

    def _read(self, org: str, device: str) -> Mapping[str, Sensor]:
        read_at = self._clock()
        sensors = self._lookup(org, device)
        self._cache.put((org, device), sensors, at=read_at)
        return sensors


def cached_store_directory(
    store: Callable[[], Store], *, min_age: float = 1.0
) -> CachedSensorDirectory:
    """The directory on the process's store (`store()` asked on first use), each device's
    sensors cached STRATUS_SENSOR_CACHE_SECONDS (default 5; 0 = not cached)."""
    ttl = env_int(os.environ, "STRATUS_SENSOR_CACHE_SECONDS", 5)
    return CachedSensorDirectory(
        lambda org, device: load_sensors(store(), org, device), ttl, min_age=min_age
    )
