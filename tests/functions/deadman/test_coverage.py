"""Deadman covers every sensor a rule selects, also those matched only by a device list or a path
glob that never reported: the selection is walked a bounded number of sensor documents per tick
(resuming where the last tick stopped), derived sensors are left out, and a sensor made after the
rule is silent from its creation. In memory (store and bus fakes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.deadman.scan import scan_path
from functions.deadman.service import Deadman
from functions.rules.service import Rules
from shared.directory import device_path, new_id, sensor_path
from shared.rules.engine import Engine
from shared.store import Query
from tests.support.memory_bus import MemoryBus
from tests.support.memory_store import MemoryStore

S = 10**9
ORG = "o" * 20


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _sensor(store: MemoryStore, device: str, name: str, path: str = "", **more: Any) -> str:
    sensor = new_id()
    store.create(
        sensor_path(ORG, device, sensor),
        {"name": name, "path": path, "mapping": {"type": "double"}, "created_at": _at(900),
         **more},
    )  # fmt: skip
    return sensor


def _device(store: MemoryStore) -> str:
    device = new_id()
    store.create(device_path(ORG, device), {"name": "d", "created_at": _at(900)})
    return device


def _rule(store: MemoryStore, bus: MemoryBus, select: dict[str, Any]) -> str:
    rules = Rules(store, lambda: bus, clock=lambda: 1000 * S)
    body = {"name": "quiet", "condition": "deadman(1m)", "select": select}
    return str(rules.create(ORG, body)["id"])


def _alerted(store: MemoryStore) -> set[tuple[str, str]]:
    alerts = store.query(Query(f"orgs/{ORG}/alerts")).documents
    return {(a.data["device"], a.data["sensor"]) for a in alerts if a.data["state"] == "open"}


def test_devices_and_path_globs_cover_sensors_that_never_reported() -> None:
    store, bus = MemoryStore(), MemoryBus()
    d1, d2 = _device(store), _device(store)
    oil, temp = _sensor(store, d1, "oil", "engine"), _sensor(store, d1, "temp", "cabin")
    other = _sensor(store, d2, "oil", "engine")
    _sensor(store, d1, "oil.ab12cd34.score", "engine", derived={"detector": "x", "series": "score"})
    _rule(store, bus, {"devices": [d1]})
    _rule(store, bus, {"path": "engine/*"})
    deadman = Deadman(store, Engine(store, lambda: bus))
    assert deadman.tick(1030 * S) == 0  # 30 s of silence since the rules were made
    assert deadman.tick(1061 * S) == 4  # d1's oil and temp; engine/oil on d1 and d2
    assert _alerted(store) == {(d1, oil), (d1, temp), (d2, other)}
    assert deadman.tick(1121 * S) == 0  # the same alerts, no duplicates


def test_a_sensor_made_after_the_rule_is_silent_from_its_creation() -> None:
    store, bus = MemoryStore(), MemoryBus()
    device = _device(store)
    _rule(store, bus, {"devices": [device]})
    deadman = Deadman(store, Engine(store, lambda: bus))
    assert deadman.tick(1030 * S) == 0
    late = _sensor(store, device, "late", created_at=_at(1100))
    assert deadman.tick(1130 * S) == 0  # 30 s after its creation (130 s after the rule's)
    assert deadman.tick(1161 * S) == 1
    assert _alerted(store) == {(device, late)}


def test_the_walk_is_bounded_per_tick_and_resumes_where_it_stopped() -> None:
    store, bus = MemoryStore(), MemoryBus()
    devices = [_device(store) for _ in range(3)]
    sensors = {(d, _sensor(store, d, f"s{n}")) for d in devices for n in range(4)}
    rule = _rule(store, bus, {})  # every sensor of the organisation
    deadman = Deadman(store, Engine(store, lambda: bus), scan_budget=5)
    series = f"orgs/{ORG}/rules/{rule}/series"
    counts = []
    for tick in range(4):
        deadman.tick((1010 + tick) * S)
        counts.append(len(store.query(Query(series)).documents))
    assert counts == [5, 10, 12, 12]  # at most 5 sensor documents read a tick
    position = store.get(scan_path(ORG, rule))
    assert position is not None
    assert deadman.tick(1061 * S) == 12
    assert _alerted(store) == sensors
    Rules(store, lambda: bus).delete(ORG, rule)
    assert store.get(scan_path(ORG, rule)) is None


def test_rules_naming_sensors_or_watching_detectors_walk_nothing() -> None:
    store, bus = MemoryStore(), MemoryBus()
    device = _device(store)
    named = _sensor(store, device, "a")
    _sensor(store, device, "b")
    rule = _rule(store, bus, {"sensors": [f"{device}/{named}"]})
    deadman = Deadman(store, Engine(store, lambda: bus))
    assert deadman.tick(1061 * S) == 1
    assert _alerted(store) == {(device, named)}
    assert store.get(scan_path(ORG, rule)) is None
