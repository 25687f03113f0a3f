"""Derived sensors (a detector's score and verdict) through the sensors core: shown with their
`derived` origin, renamed, described and moved freely, but their mapping is fixed and they are
deleted only with their detector (409 saying so); the telemetry directory flags them."""

from __future__ import annotations

import pytest

from functions.sensors.service import Sensors
from shared.directory import device_path, new_id, sensor_path
from shared.errors import Conflict
from shared.store import Store
from shared.telemetry.sensors import load_sensors

NOW = 1_790_000_000


def _derived(store: Store, org: str) -> tuple[str, str, str]:
    device, source, score, detector = new_id(), new_id(), new_id(), new_id()
    store.create(device_path(org, device), {"name": "d", "key_version": 1})
    store.create(sensor_path(org, device, source), {"name": "t", "path": "",
                 "mapping": {"type": "double", "unit": None}})  # fmt: skip
    store.create(
        sensor_path(org, device, score),
        {"name": f"t.{detector[:8]}.score", "path": "", "description": "",
         "mapping": {"type": "double", "unit": None},
         "derived": {"detector": detector, "source": source, "series": "score"}},
    )  # fmt: skip
    return device, score, detector


def test_a_derived_sensor_shows_its_origin_and_keeps_its_mapping(store: Store, org: str) -> None:
    sensors = Sensors(store, clock=lambda: NOW)
    device, score, detector = _derived(store, org)
    view = sensors.get(org, device, score)
    assert view["derived"]["detector"] == detector and view["derived"]["series"] == "score"
    renamed = sensors.update(org, device, score, {"name": "risk", "path": "scores"})
    assert renamed["tree_path"] == "scores/risk"
    same = sensors.update(org, device, score, {"mapping": {"type": "double"}})
    assert same["mapping"] == {"type": "double", "unit": None}
    with pytest.raises(Conflict, match="fixed by its detector") as caught:
        sensors.update(org, device, score, {"mapping": {"type": "string"}})
    assert caught.value.field == "mapping"
    assert sensors.get(org, device, score)["mapping"]["type"] == "double"


def test_a_derived_sensor_is_deleted_only_with_its_detector(store: Store, org: str) -> None:
    sensors = Sensors(store)
    device, score, detector = _derived(store, org)
    with pytest.raises(Conflict, match=f"/api/detectors/{detector}"):
        sensors.delete(org, device, score)
    assert store.get(sensor_path(org, device, score)) is not None


def test_the_telemetry_directory_flags_derived_sensors(store: Store, org: str) -> None:
    device, score, _ = _derived(store, org)
    found = load_sensors(store, org, device)
    assert found[score].derived and [s.derived for k, s in found.items() if k != score] == [False]
    assert "derived" not in Sensors(store).get(org, device, next(k for k in found if k != score))
