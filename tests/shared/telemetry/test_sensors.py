"""A device's sensors: the cached directory (TTL, refresh before refusing, min_age, 0 = no
cache), SenML name matching, and sensor documents as stored."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from shared.store import Document
from shared.telemetry.sensors import (
    AMBIGUOUS,
    CachedSensorDirectory,
    Sensor,
    SensorIndex,
    sensor_from_document,
)


class Lookup:
    def __init__(self) -> None:
        self.sensors = {"s1": Sensor("s1", "t")}
        self.reads = 0

    def __call__(self, org: str, device: str) -> Mapping[str, Sensor]:
        self.reads += 1
        return dict(self.sensors)


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_answers_are_reused_for_the_ttl_then_read_again() -> None:
    lookup, clock = Lookup(), Clock()
    cached = CachedSensorDirectory(lookup, ttl=5, clock=clock)
    assert set(cached.lookup("o", "d")) == {"s1"}
    lookup.sensors["s2"] = Sensor("s2", "u")
    clock.now += 4.9
    assert set(cached.lookup("o", "d")) == {"s1"}
    assert lookup.reads == 1
    clock.now += 0.2
    assert set(cached.lookup("o", "d")) == {"s1", "s2"}
    assert lookup.reads == 2


def test_refresh_reads_again_unless_just_read() -> None:
    lookup, clock = Lookup(), Clock()
    cached = CachedSensorDirectory(lookup, ttl=5, clock=clock)  # min_age 1 s
    cached.lookup("o", "d")
    lookup.sensors = {"s3": Sensor("s3", "v")}
    assert cached.refresh("o", "d") is False  # read a moment ago
    clock.now += 1.5
    assert cached.refresh("o", "d") is True
    assert set(cached.lookup("o", "d")) == {"s3"}
    assert lookup.reads == 2
    always = CachedSensorDirectory(lookup, ttl=5, min_age=0, clock=clock)  # ingest's door
    always.lookup("o", "d")
    assert always.refresh("o", "d") is True and lookup.reads == 4


def test_devices_are_cached_apart_and_ttl_zero_never_caches() -> None:
    lookup, clock = Lookup(), Clock()
    cached = CachedSensorDirectory(lookup, ttl=5, clock=clock)
    cached.lookup("o", "d1")
    cached.lookup("o", "d2")
    cached.lookup("o2", "d1")
    assert lookup.reads == 3
    uncached = CachedSensorDirectory(lookup, ttl=0, clock=clock)
    uncached.lookup("o", "d1")
    uncached.lookup("o", "d1")
    assert lookup.reads == 5


def test_names_match_by_id_tree_path_unique_name_and_urn_suffix() -> None:
    index = SensorIndex(
        {
            "id1": Sensor("id1", "temp"),
            "fl": Sensor("fl", "pressure", "front/left"),
            "fr": Sensor("fr", "pressure", "front/right"),
        }
    )
    assert index.match("id1") == index.match("temp") == index.by_id["id1"]
    assert index.match("/front/left/pressure") == index.by_id["fl"]
    assert index.match("urn:dev:ow:10e2073a01080063:temp") == index.by_id["id1"]
    assert index.match("pressure") == AMBIGUOUS
    assert index.match("wheel") is None
    assert index.find("pressure") == (
        "name 'pressure' matches several sensors of the device; use the tree path"
    )
    assert index.find("wheel") == "no sensor of the device has the id, tree path or name 'wheel'"


def test_sensor_documents_as_stored() -> None:
    def doc(data: dict[str, object]) -> Document:
        moment = datetime(2026, 11, 23, tzinfo=UTC)
        return Document("orgs/o/devices/d/sensors/s9", dict(data), moment, moment)

    full = doc({"name": "t", "path": "a/b", "mapping": {"type": "long", "unit": "K"}})
    assert sensor_from_document(full) == Sensor("s9", "t", "a/b", "long", "K")
    text = doc({"name": "t", "mapping": '{"type": "boolean"}'})  # the reference API's form
    assert sensor_from_document(text).type == "boolean"
    assert sensor_from_document(doc({"mapping": "not json"})) == Sensor("s9", "s9")
