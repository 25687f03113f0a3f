"""The provisioning directory: field rules, paging limits, and the store lookups every function
uses for tokens (versions), devices (org) and reads (may_read_sensor)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.auth import Principal
from shared.directory import (
    device_org,
    is_id,
    may_read_sensor,
    new_id,
    page_limit,
    rfc3339,
    text_field,
    version_lookup,
)
from shared.errors import ValidationError
from shared.store import Store


def test_ids_are_20_lowercase_hex() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100 and all(is_id(i) for i in ids)
    for bad in ("", "ABCDEF0123456789abcd", "0" * 19, "0" * 21, "../" + "0" * 17, "x" * 20):
        assert not is_id(bad)


@pytest.mark.parametrize(
    ("body", "kwargs", "expected"),
    [
        ({"name": "  pump "}, {"required": True}, "pump"),
        ({}, {"required": False, "default": "d"}, "d"),
        ({"name": ""}, {"required": False, "allow_empty": True}, ""),
    ],
)
def test_text_fields(body: dict, kwargs: dict, expected: str | None) -> None:
    assert text_field(body, "name", limit=10, **kwargs) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": 3}, "name must be a string"),
        ({"name": " "}, "name must not be empty"),
        ({"name": "x" * 11}, "name must be at most 10 characters long"),
        ({"name": "a\tb"}, "name must not contain control characters"),
        ({"name": None}, "name must be a string, not null"),  # the contract types it
        # bidirectional controls make a name display as another ("Trojan Source")
        ({"name": "p\u202egnp"}, "name must not contain control characters"),
        ({"name": "\u2066admin\u2069"}, "name must not contain control characters"),
        ({"name": "x\u200fy"}, "name must not contain control characters"),
    ],
)
def test_bad_text_fields_name_the_field(body: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        text_field(body, "name", required=True, limit=10)
    assert caught.value.field == "name"


def test_descriptions_may_hold_line_breaks() -> None:
    assert text_field({"description": "a\nb"}, "description", required=True, limit=9) == "a\nb"


def test_page_limits() -> None:
    assert (page_limit(None), page_limit(""), page_limit("1"), page_limit("100")) == (
        50,
        50,
        1,
        100,
    )
    for bad in ("0", "101", "-1", "ten", "1.5"):
        with pytest.raises(ValidationError) as caught:
            page_limit(bad)
        assert caught.value.field == "limit"


def test_times_are_rfc3339_utc() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    assert rfc3339(moment) == "2026-01-02T03:04:05.600000Z"
    shifted = moment.astimezone(timezone(timedelta(hours=2)))
    assert rfc3339(shifted) == "2026-01-02T03:04:05.600000Z"
    assert rfc3339(None) is None


def test_lookups_on_the_store(store: Store) -> None:
    org, device, consumer, sensor = "o1", new_id(), new_id(), new_id()
    store.create(f"orgs/{org}/users/u1", {"token_version": 3, "role": "admin"})
    store.create(f"orgs/{org}/devices/{device}", {"key_version": 2})
    store.create(f"device_index/{device}", {"org": org})
    store.create(f"orgs/{org}/devices/{device}/sensors/{sensor}", {"name": "s"})
    store.create(f"orgs/{org}/consumers/{consumer}", {"key_version": 5, "sensors": []})
    lookup = version_lookup(lambda: store)

    def principal(kind: str, subject: str, owner: str = org) -> Principal:
        return Principal(kind, subject, owner, "admin" if kind == "user" else None, 0)

    assert lookup(principal("user", "u1")) == 3
    assert lookup(principal("device", device)) == 2
    assert lookup(principal("consumer", consumer)) == 5
    assert lookup(principal("device", device, "o2")) is None  # another organisation
    assert lookup(principal("user", "nobody")) is None
    assert lookup(principal("device", "not-an-id")) is None
    assert device_org(store, device) == org
    assert device_org(store, new_id()) is None

    user, reader = principal("user", "u1"), principal("consumer", consumer)
    assert may_read_sensor(store, user, device, sensor)
    assert not may_read_sensor(store, principal("user", "u1", "o2"), device, sensor)
    assert not may_read_sensor(store, principal("device", device), device, sensor)
    assert not may_read_sensor(store, reader, device, sensor)  # not granted yet
    store.update(f"orgs/{org}/consumers/{consumer}", {"sensors": [f"{device}/{sensor}"]})
    assert may_read_sensor(store, reader, device, sensor)
    assert not may_read_sensor(store, reader, device, new_id())
