"""The users core on the store port, in memory and through the Firestore adapter on the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.users.model import Credentials, NewUser, UserChanges
from functions.users.service import INVALID_CREDENTIALS, Users
from shared.auth import Principal, verify_token
from shared.directory import new_id, user_token_version
from shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from shared.store import Store
from tests.support.api import signing_key, unique_name

PASSWORD = "correct horse"


@pytest.fixture(scope="module", autouse=True)
def key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with signing_key(tmp_path_factory.mktemp("keys")) as path:
        yield path


@pytest.fixture
def users(store: Store) -> Users:
    return Users(store)


def _principal(view: dict, version: int = 1) -> Principal:
    return Principal("user", view["id"], view["org"], view["role"], version)


@pytest.fixture
def admin(users: Users) -> dict:
    """The admin of a fresh organisation."""
    return users.add(new_id(), NewUser(unique_name("admin"), PASSWORD, "admin"))


def _member(users: Users, admin: dict, password: str = PASSWORD) -> dict:
    return users.create(_principal(admin), NewUser(unique_name("member"), password))


def test_signin_issues_a_token_with_the_users_claims(users: Users, admin: dict) -> None:
    token = users.signin(Credentials(admin["username"].upper(), PASSWORD))
    assert verify_token(token) == Principal("user", admin["id"], admin["org"], "admin", 1)


def test_unknown_user_wrong_password_and_a_malformed_name_get_the_same_answer(
    users: Users, admin: dict
) -> None:
    for credentials in (
        Credentials(admin["username"], PASSWORD + "x"),
        Credentials(unique_name("nobody"), PASSWORD),
        Credentials("../" + admin["username"], PASSWORD),
    ):
        with pytest.raises(PermissionDenied) as caught:
            users.signin(credentials)
        assert caught.value.message == INVALID_CREDENTIALS


def test_user_names_are_unique_across_organisations(users: Users, admin: dict) -> None:
    other = users.add(new_id(), NewUser(unique_name("admin"), PASSWORD, "admin"))
    with pytest.raises(Conflict) as caught:
        users.create(_principal(other), NewUser(admin["username"], PASSWORD))
    assert caught.value.field == "username"


def test_a_member_sees_and_changes_only_itself(users: Users, admin: dict) -> None:
    member = _member(users, admin)
    me = _principal(member)
    assert users.get(me, member["id"]) == member
    for attempt in (
        lambda: users.get(me, admin["id"]),
        lambda: users.list(me, 10, None),
        lambda: users.create(me, NewUser(unique_name(), PASSWORD)),
        lambda: users.delete(me, member["id"]),
        lambda: users.update(me, admin["id"], UserChanges(username=unique_name())),
        lambda: users.update(me, member["id"], UserChanges(role="admin")),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    renamed = users.update(me, member["id"], UserChanges(username=unique_name("renamed")))
    assert renamed["username"].startswith("renamed-")


def test_another_organisations_ids_are_not_found(users: Users, admin: dict) -> None:
    member = _member(users, admin)
    stranger = users.add(new_id(), NewUser(unique_name("admin"), PASSWORD, "admin"))
    for attempt in (
        lambda: users.get(_principal(stranger), member["id"]),
        lambda: users.update(_principal(stranger), member["id"], UserChanges(role="admin")),
        lambda: users.delete(_principal(stranger), member["id"]),
        lambda: users.get(_principal(admin), "not-an-id"),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert users.get(_principal(admin), member["id"]) == member


def test_listing_pages_through_every_user_by_name(users: Users, admin: dict) -> None:
    created = [_member(users, admin) for _ in range(4)]
    seen, cursor = [], None
    while True:
        page = users.list(_principal(admin), 2, cursor)
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next"]
        if cursor is None:
            break
    names = [user["username"] for user in seen]
    assert names == sorted(names)
    assert {u["id"] for u in seen} == {admin["id"], *(u["id"] for u in created)}


def test_changing_ones_password_needs_the_current_one_and_bumps_the_token_version(
    users: Users, store: Store, admin: dict
) -> None:
    member = _member(users, admin)
    me = _principal(member)
    with pytest.raises(ValidationError) as caught:
        users.update(me, member["id"], UserChanges(password="new password"))
    assert caught.value.field == "current_password"
    with pytest.raises(PermissionDenied) as denied:
        users.update(
            me, member["id"], UserChanges(password="new password", current_password="wrong one")
        )
    assert denied.value.field == "current_password"
    assert user_token_version(store, member["org"], member["id"]) == 1

    users.update(me, member["id"], UserChanges(password="new password", current_password=PASSWORD))
    assert user_token_version(store, member["org"], member["id"]) == 2
    assert verify_token(users.signin(Credentials(member["username"], "new password"))).version == 2
    with pytest.raises(PermissionDenied):
        users.signin(Credentials(member["username"], PASSWORD))


def test_an_admin_resets_a_password_and_changes_a_role_without_the_current_password(
    users: Users, store: Store, admin: dict
) -> None:
    member = _member(users, admin)
    users.update(_principal(admin), member["id"], UserChanges(password="reset by admin"))
    promoted = users.update(_principal(admin), member["id"], UserChanges(role="admin"))
    assert promoted["role"] == "admin"
    assert user_token_version(store, member["org"], member["id"]) == 3
    token = users.signin(Credentials(member["username"], "reset by admin"))
    assert verify_token(token).role == "admin"
    users.update(_principal(admin), member["id"], UserChanges(username=member["username"]))
    assert user_token_version(store, member["org"], member["id"]) == 3  # no-op rename


def test_renaming_moves_the_sign_in_name(users: Users, admin: dict) -> None:
    member, other = _member(users, admin), _member(users, admin)
    new_name = unique_name("renamed")
    with pytest.raises(Conflict):
        users.update(_principal(admin), member["id"], UserChanges(username=other["username"]))
    users.update(_principal(admin), member["id"], UserChanges(username=new_name))
    assert verify_token(users.signin(Credentials(new_name, PASSWORD))).subject == member["id"]
    with pytest.raises(PermissionDenied):
        users.signin(Credentials(member["username"], PASSWORD))
    # the old name is free again
    users.create(_principal(admin), NewUser(member["username"], PASSWORD))


def test_an_organisation_keeps_at_least_one_admin(users: Users, admin: dict) -> None:
    me = _principal(admin)
    with pytest.raises(Conflict, match="last admin"):
        users.update(me, admin["id"], UserChanges(role="member"))
    with pytest.raises(Conflict, match="last admin"):
        users.delete(me, admin["id"])
    second = users.create(me, NewUser(unique_name("admin"), PASSWORD, "admin"))
    users.delete(me, second["id"])
    third = users.create(me, NewUser(unique_name("admin"), PASSWORD, "admin"))
    assert users.update(me, admin["id"], UserChanges(role="member"))["role"] == "member"
    assert users.get(_principal(third), admin["id"])["role"] == "member"


def test_deleting_a_user_frees_its_name_and_revokes_its_tokens(
    users: Users, store: Store, admin: dict
) -> None:
    member = _member(users, admin)
    users.delete(_principal(admin), member["id"])
    assert user_token_version(store, member["org"], member["id"]) is None
    with pytest.raises(NotFound):
        users.get(_principal(admin), member["id"])
    with pytest.raises(NotFound):
        users.delete(_principal(admin), member["id"])
    with pytest.raises(PermissionDenied, match=INVALID_CREDENTIALS):
        users.signin(Credentials(member["username"], PASSWORD))


def test_a_members_answer_for_any_other_id_is_the_same_403(users: Users, admin: dict) -> None:
    """docs/ARCHITECTURE.md: members are refused before any lookup, so a colleague's id, another
    organisation's and one that exists nowhere are indistinguishable to them."""
    me = _principal(_member(users, admin))
    stranger = users.add(new_id(), NewUser(unique_name("admin"), PASSWORD, "admin"))
    actions = {
        "get": lambda other: users.get(me, other),
        "update": lambda other: users.update(me, other, UserChanges(username=unique_name())),
        "delete": lambda other: users.delete(me, other),
    }
    for action in actions.values():
        messages = set()
        for other in (admin["id"], stranger["id"], new_id()):
            with pytest.raises(PermissionDenied) as caught:
                action(other)
            messages.add(caught.value.message)
        assert len(messages) == 1
