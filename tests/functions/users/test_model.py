"""Users' request bodies: each problem is a 400 naming its field; the view hides secrets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.users.model import Credentials, NewUser, UserChanges, normalize_username, user_view
from shared.errors import BadRequest, ValidationError


@pytest.mark.parametrize("body", [None, [], "admin", 3])
def test_a_body_that_is_not_an_object_is_400(body: object) -> None:
    for parse in (Credentials.parse, NewUser.parse, UserChanges.parse):
        with pytest.raises(BadRequest, match="JSON object"):
            parse(body)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"password": "long enough"}, "username", "username is required"),
        ({"username": "ann"}, "password", "password is required"),
        ({"username": 7, "password": "long enough"}, "username", "must be a string"),
        ({"username": "ann", "password": "long enough", "admin": True}, "admin", "unknown field"),
        ({"username": "a/b", "password": "long enough"}, "username", "letters, digits"),
        ({"username": "_ann", "password": "long enough"}, "username", "starting with"),
        ({"username": "a" * 65, "password": "long enough"}, "username", "1 to 64"),
        ({"username": "ann", "password": "short"}, "password", "at least 8"),
        ({"username": "ann", "password": " " * 9}, "password", "only spaces"),
        ({"username": "ann", "password": "long enough", "role": "root"}, "role", "admin, member"),
    ],
)
def test_new_user_problems_name_the_field(body: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        NewUser.parse(body)
    assert caught.value.field == field


def test_new_user_defaults_to_member_and_canonical_lower_case_name() -> None:
    assert NewUser.parse({"username": " Ann.Lee@Lab ", "password": "long enough"}) == NewUser(
        "ann.lee@lab", "long enough", "member"
    )
    assert NewUser.parse({"username": "b", "password": "12345678", "role": "admin"}).role == "admin"


def test_credentials_take_any_strings_and_name_what_is_missing() -> None:
    assert Credentials.parse({"username": "../x", "password": ""}) == Credentials("../x", "")
    with pytest.raises(ValidationError) as caught:
        Credentials.parse({"username": "root"})
    assert caught.value.field == "password"
    with pytest.raises(ValidationError) as caught:
        Credentials.parse({"username": "root", "password": 5})
    assert caught.value.field == "password"


def test_normalize_username_refuses_what_cannot_be_a_document_id() -> None:
    assert normalize_username("Root") == "root"
    for bad in ("", ".", "..", "__name__", "a/b", "a b", "ü"):
        assert normalize_username(bad) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "long enough", "current_password": 1}, "current_password"),
        ({"role": "owner"}, "role"),
        ({"username": "no spaces please"}, "username"),
        ({"token_version": 9}, "token_version"),
    ],
)
def test_changes_problems_name_the_field(body: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        UserChanges.parse(body)
    assert caught.value.field == field


def test_changes_need_something_to_change() -> None:
    with pytest.raises(ValidationError, match="nothing to change"):
        UserChanges.parse({"current_password": "whatever1"})
    assert UserChanges.parse({"role": "admin"}) == UserChanges(role="admin")


@pytest.mark.parametrize("field", ["username", "password", "current_password", "role"])
def test_null_for_a_typed_field_is_refused_as_the_contract_says(field: str) -> None:
    """openapi.json types these fields (string): null used to be taken as "left out"."""
    with pytest.raises(ValidationError, match=f"{field} must not be null") as refused:
        UserChanges.parse({"role": "admin", field: None})
    assert refused.value.field == field
    if field != "current_password":
        with pytest.raises(ValidationError, match="must not be null"):
            NewUser.parse({"username": "u1", "password": "long enough", field: None})


def test_the_view_shows_times_as_rfc3339_and_never_the_hash_or_version() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    stored = {
        "username": "ann",
        "password_hash": "scrypt$...",
        "role": "member",
        "token_version": 3,
        "created_at": at,
        "updated_at": at,
    }
    assert user_view("o1", "u1", stored) == {
        "id": "u1",
        "org": "o1",
        "username": "ann",
        "role": "member",
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
    }
