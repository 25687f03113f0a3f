"""The sensors core on the store port (in memory and on the Firestore emulator): CRUD, tree paths,
unique names per folder, foreign ids."""

from __future__ import annotations

import threading

import pytest

from functions.sensors.service import Sensors
from shared.directory import device_path, new_id
from shared.errors import Conflict, NotFound, ValidationError
from shared.store import Query, Store

NOW = 1_790_000_000
DOUBLE = '{"type":"double"}'


def with_device(store: Store, org: str) -> str:
    device = new_id()
    store.create(device_path(org, device), {"name": "d", "key_version": 1})
    return device


def test_create_as_the_reference_script_does(store: Store, org: str) -> None:
    sensors, device = Sensors(store, clock=lambda: NOW), with_device(store, org)
    created = sensors.create(
        org, device, {"name": "x-sensor", "description": "x-test", "mapping": DOUBLE}
    )
    assert created == {
        "id": created["id"],
        "device_id": device,
        "name": "x-sensor",
        "description": "x-test",
        "path": "",
        "tree_path": "x-sensor",
        "mapping": {"type": "double", "unit": None},
        "created_at": "2026-09-21T14:13:20Z",
        "updated_at": "2026-09-21T14:13:20Z",
    }
    stored = store.get(f"{device_path(org, device)}/sensors/{created['id']}")
    assert stored is not None
    assert stored.data["mapping"] == {"type": "double", "unit": None}
    assert sensors.get(org, device, created["id"]) == created


def test_names_are_unique_within_a_folder(store: Store, org: str) -> None:
    sensors, device = Sensors(store), with_device(store, org)
    left = sensors.create(
        org, device, {"name": "pressure", "mapping": {"type": "double", "unit": "kPa"},
                      "path": "front/left"},
    )  # fmt: skip
    right = sensors.create(
        org, device, {"name": "pressure", "mapping": DOUBLE, "path": "/front/right/"}
    )
    assert (left["tree_path"], right["tree_path"]) == (
        "front/left/pressure",
        "front/right/pressure",
    )
    with pytest.raises(Conflict, match="'pressure' exists in folder 'front/left'") as caught:
        sensors.create(org, device, {"name": "pressure", "mapping": DOUBLE, "path": "front/left/"})
    assert caught.value.field == "name"
    with pytest.raises(Conflict):  # moving into a folder where the name is taken
        sensors.update(org, device, right["id"], {"path": "front/left"})
    renamed = sensors.update(org, device, right["id"], {"name": "temp", "path": "front/left"})
    assert renamed["tree_path"] == "front/left/temp"
    same = sensors.update(org, device, left["id"], {"description": "kept", "path": "front/left"})
    assert same["description"] == "kept"
    listing = sensors.list(org, device, 10, None, "front/left")
    assert {s["name"] for s in listing["items"]} == {"pressure", "temp"}
    assert sensors.list(org, device, 10, None, "front/right")["items"] == []


def test_racing_creates_of_one_name_make_one_sensor(store: Store, org: str) -> None:
    sensors, device = Sensors(store), with_device(store, org)
    outcomes: list[str] = []

    def create() -> None:
        try:
            sensors.create(org, device, {"name": "same", "mapping": DOUBLE})
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "created"]
    assert len(sensors.list(org, device, 10, None)["items"]) == 1


def test_update_and_list_pages(store: Store, org: str) -> None:
    sensors, device = Sensors(store), with_device(store, org)
    ids = [
        sensors.create(org, device, {"name": f"s{i}", "mapping": DOUBLE})["id"] for i in range(3)
    ]
    changed = sensors.update(org, device, ids[0], {"mapping": {"type": "integer", "unit": "rpm"}})
    assert changed["mapping"] == {"type": "long", "unit": "rpm"}
    with pytest.raises(ValidationError) as caught:
        sensors.update(org, device, ids[0], {"mapping": '{"type":"complex"}'})
    assert caught.value.field == "mapping.type"
    first = sensors.list(org, device, 2, None)
    second = sensors.list(org, device, 2, first["next"])
    assert second["next"] is None
    assert sorted(s["id"] for s in first["items"] + second["items"]) == sorted(ids)


def test_delete_takes_readings_and_grants(store: Store, org: str) -> None:
    sensors, device = Sensors(store), with_device(store, org)
    gone, kept = (sensors.create(org, device, {"name": n, "mapping": DOUBLE})["id"] for n in "ab")
    chunks = f"{device_path(org, device)}/sensors/{gone}/chunks"
    store.create(f"{chunks}/000000000001-m", {"readings": [1]})
    consumer = f"orgs/{org}/consumers/{new_id()}"
    store.create(consumer, {"sensors": [f"{device}/{gone}", f"{device}/{kept}"]})
    sensors.delete(org, device, gone)
    with pytest.raises(NotFound):
        sensors.get(org, device, gone)
    assert store.query(Query(chunks)).documents == []
    remaining = store.get(consumer)
    assert remaining is not None and remaining.data["sensors"] == [f"{device}/{kept}"]


def test_foreign_devices_and_sensors_are_not_found(store: Store, org: str) -> None:
    sensors, device = Sensors(store), with_device(store, org)
    sensor = sensors.create(org, device, {"name": "s", "mapping": DOUBLE})["id"]
    other_device = with_device(store, org)
    cases = [
        (org + "x", device, sensor),  # another organisation
        (org, new_id(), sensor),  # unknown device
        (org, other_device, sensor),  # a sensor of another device
        (org, device, new_id()),  # unknown sensor
        (org, device, "../x"),  # not an id
    ]
    for caller, dev, sen in cases:
        for call in (
            lambda c=caller, d=dev, s=sen: sensors.get(c, d, s),
            lambda c=caller, d=dev, s=sen: sensors.update(c, d, s, {"name": "n"}),
            lambda c=caller, d=dev, s=sen: sensors.delete(c, d, s),
        ):
            with pytest.raises(NotFound):
                call()
    with pytest.raises(NotFound):
        sensors.create(org + "x", device, {"name": "s2", "mapping": DOUBLE})
    with pytest.raises(NotFound):
        sensors.list(org + "x", device, 10, None)
    assert sensors.get(org, device, sensor)["name"] == "s"
