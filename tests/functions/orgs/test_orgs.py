"""The orgs core: the rename body, and reading and renaming through the store port (in memory and on
the emulator)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.orgs.service import MAX_NAME, OrgChanges, Orgs, org_view
from shared.auth import Principal
from shared.directory import new_id
from shared.errors import BadRequest, NotFound, PermissionDenied, ValidationError
from shared.store import Store

AT = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "name", "name is required"),
        ({"name": 3}, "name", "must be a string"),
        ({"name": "   "}, "name", "must not be empty"),
        ({"name": "x" * (MAX_NAME + 1)}, "name", f"at most {MAX_NAME}"),
        ({"name": "ok", "id": "o2"}, "id", "unknown field"),
    ],
)
def test_rename_body_problems_name_the_field(body: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        OrgChanges.parse(body)
    assert caught.value.field == field


def test_rename_body_must_be_an_object_and_the_name_is_trimmed() -> None:
    with pytest.raises(BadRequest):
        OrgChanges.parse(["name"])
    assert OrgChanges.parse({"name": "  Lab 4 "}) == OrgChanges("Lab 4")


def test_the_view_falls_back_to_the_creation_time() -> None:
    assert org_view("o1", {"name": "default", "created_at": AT}) == {
        "id": "o1",
        "name": "default",
        "created_at": "2026-05-06T07:08:09Z",
        "updated_at": "2026-05-06T07:08:09Z",
    }


def test_any_user_reads_and_only_an_admin_renames(store: Store) -> None:
    org = new_id()
    store.create(f"orgs/{org}", {"name": "default", "created_at": AT})
    later = datetime(2026, 6, 1, tzinfo=UTC)
    orgs = Orgs(store, clock=lambda: later)
    admin = Principal("user", new_id(), org, "admin", 1)
    member = Principal("user", new_id(), org, "member", 1)
    assert orgs.get(member)["name"] == "default"
    with pytest.raises(PermissionDenied):
        orgs.rename(member, OrgChanges("Mine now"))
    renamed = orgs.rename(admin, OrgChanges("Lab 4"))
    assert renamed == {
        "id": org,
        "name": "Lab 4",
        "created_at": "2026-05-06T07:08:09Z",
        "updated_at": "2026-06-01T00:00:00Z",
    }
    assert orgs.get(member) == renamed


def test_an_organisation_that_is_gone_is_not_found(store: Store) -> None:
    ghost = Principal("user", new_id(), new_id(), "admin", 1)
    orgs = Orgs(store)
    with pytest.raises(NotFound):
        orgs.get(ghost)
    with pytest.raises(NotFound):
        orgs.rename(ghost, OrgChanges("anything"))
