"""The devices core on the store port (in memory and on the Firestore emulator) and a real
broker: CRUD, paging, keys, rotation, cascading delete, and a broker that fails leaving nothing
half-done."""

from __future__ import annotations

import pytest

from emulator.process import free_port
from functions.devices.service import Devices
from shared.auth import KeySet, issue_device_token, verify_token
from shared.broker.mosquitto import MosquittoAdmin
from shared.directory import device_key_version, device_org, new_id
from shared.errors import NotFound, Unavailable, ValidationError
from shared.store import Query, Store
from tests.support.broker import MqttClient

NOW = 1_790_000_000


def core(store: Store, keys: KeySet, broker: MosquittoAdmin | None = None) -> Devices:
    def issue(device: str, org: str, version: int, issued_at: int) -> str:
        return issue_device_token(device, org, version, issued_at, keys=keys)

    return Devices(store, broker, clock=lambda: NOW, issue=issue)


def test_create_get_update_and_list(store: Store, keys: KeySet, org: str) -> None:
    devices = core(store, keys)
    created = devices.create(org, {"name": " pump-1 ", "description": "cellar"})
    assert created == {
        "id": created["id"],
        "name": "pump-1",
        "description": "cellar",
        "key_version": 1,
        "created_at": "2026-09-21T14:13:20Z",
        "updated_at": "2026-09-21T14:13:20Z",
    }
    assert devices.get(org, created["id"]) == created
    assert device_org(store, created["id"]) == org
    changed = devices.update(org, created["id"], {"description": "roof"})
    assert (changed["name"], changed["description"]) == ("pump-1", "roof")
    plain = devices.create(org, {"name": "no description"})
    assert plain["description"] == ""

    others = [devices.create(org, {"name": f"d{i}"})["id"] for i in range(3)]
    pages, cursor = [], None
    while True:
        page = devices.list(org, 2, cursor)
        pages.append([d["id"] for d in page["result"]])
        if page["next"] is None:
            break
        cursor = page["next"]
    assert [len(p) for p in pages] == [2, 2, 1]
    listed = [device for page in pages for device in page]
    assert sorted(listed) == sorted([created["id"], plain["id"], *others])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 129}, "name"),
        ({"name": "a\nb"}, "name"),
        ({"name": "ok", "description": ["x"]}, "description"),
        ({"name": "ok", "description": "d" * 1025}, "description"),
        ({"name": "ok", "colour": "red"}, "colour"),
    ],
)
def test_invalid_bodies_name_the_field(
    store: Store, keys: KeySet, org: str, body: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        core(store, keys).create(org, body)
    assert caught.value.field == field
    assert store.query(Query(f"orgs/{org}/devices")).documents == []


def test_foreign_and_unknown_ids_are_not_found(store: Store, keys: KeySet, org: str) -> None:
    devices = core(store, keys)
    mine = devices.create(org, {"name": "a"})["id"]
    calls = {
        "get": (),
        "update": ({"name": "x"},),
        "key": (),
        "rotate": (),
        "delete": (),
    }
    for caller, device in ((org + "x", mine), (org, new_id()), (org, "not-an-id")):
        for method, extra in calls.items():
            with pytest.raises(NotFound):
                getattr(devices, method)(caller, device, *extra)
    assert devices.get(org, mine)["name"] == "a"
    assert devices.key(org, mine)["key_version"] == 1


def test_the_key_is_stable_until_rotated(store: Store, keys: KeySet, org: str) -> None:
    devices = core(store, keys)
    device = devices.create(org, {"name": "d"})["id"]
    first = devices.key(org, device)
    assert devices.key(org, device) == first
    principal = verify_token(first["token"], keys=keys)
    assert (principal.kind, principal.subject, principal.org, principal.version) == (
        "device",
        device,
        org,
        1,
    )
    rotated = devices.rotate(org, device)
    assert rotated["key_version"] == 2 and rotated["token"] != first["token"]
    assert device_key_version(store, org, device) == 2
    assert devices.key(org, device) == rotated
    assert verify_token(rotated["token"], keys=keys).version == 2


def test_delete_takes_sensors_data_grants_and_index(store: Store, keys: KeySet, org: str) -> None:
    devices = core(store, keys)
    device, kept = (devices.create(org, {"name": n})["id"] for n in ("gone", "kept"))
    base = f"orgs/{org}/devices/{device}"
    for sensor in ("a" * 20, "b" * 20):
        store.create(f"{base}/sensors/{sensor}", {"name": sensor[:1], "path": ""})
        store.create(f"{base}/sensors/{sensor}/chunks/000000000001-m1", {"readings": [1]})
    store.create(f"{base}/control/config", {"version": 1})
    store.create(
        f"orgs/{org}/consumers/{'c' * 20}",
        {"sensors": [f"{device}/{'a' * 20}", f"{kept}/{'a' * 20}"]},
    )
    devices.delete(org, device)
    assert store.get(base) is None and device_org(store, device) is None
    assert device_key_version(store, org, device) is None
    for collection in ("sensors", f"sensors/{'a' * 20}/chunks", "control"):
        assert store.query(Query(f"{base}/{collection}")).documents == []
    consumer = store.get(f"orgs/{org}/consumers/{'c' * 20}")
    assert consumer is not None and consumer.data["sensors"] == [f"{kept}/{'a' * 20}"]
    assert devices.get(org, kept)["name"] == "kept"


def test_the_broker_login_follows_create_rotate_and_delete(
    store: Store, keys: KeySet, org: str, broker, admin: MosquittoAdmin
) -> None:
    devices = core(store, keys, admin)
    device = devices.create(org, {"name": "mqtt"})["id"]
    token = devices.key(org, device)["token"]
    client = MqttClient(broker, device, token)
    assert client.wait_connected()
    assert client.publish(f"devices/{device}/events", b"{}") < 128
    client.close()

    rotated = devices.rotate(org, device)["token"]
    stale = MqttClient(broker, device, token)
    assert not stale.wait_connected()
    stale.close()
    fresh = MqttClient(broker, device, rotated)
    assert fresh.wait_connected()
    fresh.close()

    devices.delete(org, device)
    gone = MqttClient(broker, device, rotated)
    assert not gone.wait_connected()
    gone.close()


def test_a_broker_that_fails_leaves_nothing_half_done(store: Store, keys: KeySet, org: str) -> None:
    down = MosquittoAdmin("127.0.0.1", free_port("127.0.0.1"), "stratus-admin", "x")
    devices = core(store, keys, down)
    with pytest.raises(Unavailable, match="the device was not created: try again"):
        devices.create(org, {"name": "d"})
    assert store.query(Query(f"orgs/{org}/devices")).documents == []

    device = core(store, keys).create(org, {"name": "d"})["id"]
    with pytest.raises(Unavailable, match="nothing was deleted: try again"):
        devices.delete(org, device)
    assert device_key_version(store, org, device) == 1
    with pytest.raises(Unavailable, match="rotate again"):
        devices.rotate(org, device)
    assert device_key_version(store, org, device) == 2  # the store moved on: rotate again
