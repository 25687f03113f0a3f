"""The consumers core on the store port (in memory and on the Firestore emulator): CRUD, grants,
keys, and what a consumer may read."""

from __future__ import annotations

import pytest

from functions.consumers.service import Consumers
from shared.auth import Authenticator, KeySet, issue_consumer_token, verify_token
from shared.directory import device_path, may_read_sensor, new_id, sensor_path, version_lookup
from shared.errors import NotFound, PermissionDenied, ValidationError
from shared.store import Store

NOW = 1_790_000_000


def core(store: Store, keys: KeySet) -> Consumers:
    def issue(consumer: str, org: str, version: int, issued_at: int) -> str:
        return issue_consumer_token(consumer, org, version, issued_at, keys=keys)

    return Consumers(store, clock=lambda: NOW, issue=issue)


def sensor(store: Store, org: str) -> tuple[str, str]:
    device, sensor_id = new_id(), new_id()
    store.create(device_path(org, device), {"name": "d", "key_version": 1})
    store.create(sensor_path(org, device, sensor_id), {"name": "s", "path": ""})
    return device, sensor_id


def test_crud_round(store: Store, keys: KeySet, org: str) -> None:
    consumers = core(store, keys)
    created = consumers.create(org, {"name": "dashboard", "description": "wall screen"})
    assert created == {
        "id": created["id"],
        "name": "dashboard",
        "description": "wall screen",
        "sensors": [],
        "key_version": 1,
        "created_at": "2026-09-21T14:13:20Z",
        "updated_at": "2026-09-21T14:13:20Z",
    }
    assert consumers.get(org, created["id"]) == created
    assert consumers.update(org, created["id"], {"name": "board"})["name"] == "board"
    second = consumers.create(org, {"name": "export"})
    page = consumers.list(org, 1, None)
    rest = consumers.list(org, 1, page["next"])
    assert rest["next"] is None
    assert {c["id"] for c in page["items"] + rest["items"]} == {created["id"], second["id"]}
    consumers.delete(org, created["id"])
    with pytest.raises(NotFound):
        consumers.get(org, created["id"])
    with pytest.raises(ValidationError) as caught:
        consumers.create(org, {"name": " "})
    assert caught.value.field == "name"


def test_grants_and_what_a_may_read_sensor(store: Store, keys: KeySet, org: str) -> None:
    consumers = core(store, keys)
    consumer = consumers.create(org, {"name": "c"})["id"]
    granted, other = sensor(store, org), sensor(store, org)
    foreign = sensor(store, org + "x")
    view = consumers.grant(org, consumer, *granted)
    assert view["sensors"] == ["/".join(granted)]
    assert consumers.grant(org, consumer, *granted)["sensors"] == ["/".join(granted)]  # idempotent
    with pytest.raises(NotFound):
        consumers.grant(org, consumer, *foreign)  # another organisation's sensor
    with pytest.raises(NotFound):
        consumers.grant(org, consumer, granted[0], new_id())

    principal = verify_token(consumers.key(org, consumer)["token"], keys=keys)
    assert (principal.kind, principal.subject, principal.org) == ("consumer", consumer, org)
    assert may_read_sensor(store, principal, *granted)
    assert not may_read_sensor(store, principal, *other)
    assert not may_read_sensor(store, principal, *foreign)

    consumers.revoke(org, consumer, *granted)
    assert not may_read_sensor(store, principal, *granted)
    with pytest.raises(NotFound, match="is not granted"):
        consumers.revoke(org, consumer, *granted)


def test_rotation_and_deletion_revoke_consumer_tokens(store: Store, keys: KeySet, org: str) -> None:
    consumers = core(store, keys)
    consumer = consumers.create(org, {"name": "c"})["id"]
    first = consumers.key(org, consumer)
    assert consumers.key(org, consumer) == first  # stable
    guard = Authenticator(version_lookup(lambda: store), keys=keys, cache_seconds=0)
    assert guard.authenticate(f"Bearer {first['token']}").subject == consumer
    rotated = consumers.rotate(org, consumer)
    assert rotated["key_version"] == 2
    with pytest.raises(PermissionDenied, match="token revoked: the consumer key was rotated"):
        guard.authenticate(f"Bearer {first['token']}")
    assert guard.authenticate(f"Bearer {rotated['token']}").version == 2
    consumers.delete(org, consumer)
    with pytest.raises(PermissionDenied, match="the consumer no longer exists"):
        guard.authenticate(f"Bearer {rotated['token']}")


def test_foreign_consumers_are_not_found(store: Store, keys: KeySet, org: str) -> None:
    consumers = core(store, keys)
    consumer = consumers.create(org, {"name": "c"})["id"]
    device, sensor_id = sensor(store, org + "x")
    for caller, target in ((org + "x", consumer), (org, new_id()), (org, "x")):
        for call in (
            lambda c=caller, t=target: consumers.get(c, t),
            lambda c=caller, t=target: consumers.update(c, t, {"name": "n"}),
            lambda c=caller, t=target: consumers.delete(c, t),
            lambda c=caller, t=target: consumers.key(c, t),
            lambda c=caller, t=target: consumers.rotate(c, t),
            lambda c=caller, t=target: consumers.grant(c, t, device, sensor_id),
            lambda c=caller, t=target: consumers.revoke(c, t, device, sensor_id),
        ):
            with pytest.raises(NotFound):
                call()
    assert consumers.get(org, consumer)["name"] == "c"
