"""The admin core on the store port (in memory and on the Firestore emulator): registrations of one
organisation, the external key shown once and stored hashed, unique external ids across
organisations, another tenant's are 404."""

from __future__ import annotations

import pytest

from functions.bootstrap.registrations import Registrations
from shared.auth.passwords import verify_password
from shared.errors import Conflict, NotFound, ValidationError
from shared.store import Store


def external_id(org: str, name: str = "SN") -> str:
    return f"{name}-{org}"


def test_create_shows_the_key_once_and_stores_its_hash(
    registrations: Registrations, store: Store, org: str
) -> None:
    created = registrations.create(
        org,
        {
            "external_id": external_id(org),
            "name": "pump",
            "config": {"interval_s": 5},
            "sensors": [{"name": "t", "mapping": {"type": "double"}}],
        },
    )
    key = created.pop("external_key")
    assert len(key) >= 43
    assert created["external_id"] == external_id(org) and created["name"] == "pump"
    assert created["config"] == {"interval_s": 5} and created["enabled"] is True
    assert created["key_version"] == 1 and created["device_id"] is None
    assert created["sensors"] == [
        {"name": "t", "description": "", "path": "", "mapping": {"type": "double", "unit": None}}
    ]
    assert registrations.get(org, external_id(org)) == created  # never the key again
    stored = store.get(f"orgs/{org}/bootstrap/{external_id(org)}")
    assert stored is not None and key not in str(stored.data)
    assert verify_password(stored.data["key_hash"], key)
    assert store.get(f"bootstrap_index/{external_id(org)}").data == {"org": org}


def test_a_chosen_key_and_unique_external_ids(registrations: Registrations, org: str) -> None:
    chosen = "manufacturing-key-0001"
    created = registrations.create(org, {"external_id": external_id(org), "external_key": chosen})
    assert created["external_key"] == chosen and created["name"] == external_id(org)
    for owner in (org, org + "x"):  # taken in any organisation, like a user name
        with pytest.raises(Conflict) as caught:
            registrations.create(owner, {"external_id": external_id(org)})
        assert caught.value.field == "external_id"
    with pytest.raises(ValidationError):
        registrations.create(org, {"external_id": "bad id"})


def test_list_update_rotate_delete(registrations: Registrations, store: Store, org: str) -> None:
    ids = [
        registrations.create(org, {"external_id": external_id(org, f"n{i}")})["external_id"]
        for i in range(3)
    ]
    first = registrations.list(org, 2, None)
    second = registrations.list(org, 2, first["next"])
    assert [r["external_id"] for r in first["items"] + second["items"]] == ids
    assert second["next"] is None

    changed = registrations.update(org, ids[0], {"enabled": False, "config": {"a": [1]}})
    assert changed["enabled"] is False and changed["config"] == {"a": [1]}

    rotated = registrations.rotate(org, ids[0], {})
    assert rotated["key_version"] == 2 and len(rotated["external_key"]) >= 43
    chosen = registrations.rotate(org, ids[0], {"external_key": "another-key-0000000"})
    assert chosen == {"external_key": "another-key-0000000", "key_version": 3}
    stored = store.get(f"orgs/{org}/bootstrap/{ids[0]}")
    assert verify_password(stored.data["key_hash"], "another-key-0000000")
    with pytest.raises(ValidationError):
        registrations.rotate(org, ids[0], {"key": "x"})

    registrations.delete(org, ids[0])
    with pytest.raises(NotFound):
        registrations.get(org, ids[0])
    assert store.get(f"bootstrap_index/{ids[0]}") is None
    # the external id is free again
    assert registrations.create(org, {"external_id": ids[0]})["key_version"] == 1


def test_another_tenants_registration_is_404(registrations: Registrations, org: str) -> None:
    mine = registrations.create(org, {"external_id": external_id(org)})["external_id"]
    other = org + "x"
    for call, extra in (
        ("get", ()),
        ("update", ({"enabled": False},)),
        ("rotate", ({},)),
        ("delete", ()),
    ):
        for caller, target in ((other, mine), (org, "SN-unknown"), (org, "not an id!")):
            with pytest.raises(NotFound):
                getattr(registrations, call)(caller, target, *extra)
    assert registrations.list(other, 50, None) == {"items": [], "next": None}
    assert registrations.get(org, mine)["enabled"] is True
