"""Sign-in throttling: per-user and per-client budgets kept in the store (so every instance
shares them), 429 with Retry-After once spent, a success giving the attempts back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.users.limits import SigninLimits
from functions.users.model import Credentials, NewUser
from functions.users.service import Users
from shared.directory import new_id
from shared.errors import PermissionDenied
from shared.http import Request, client_address, error_response
from shared.store import Store
from shared.throttle import Budget, TooManyAttempts
from tests.support.api import signing_key, unique_name

PASSWORD = "correct horse"


@pytest.fixture(scope="module", autouse=True)
def key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with signing_key(tmp_path_factory.mktemp("keys")) as path:
        yield path


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _users(store: Store, clock: Clock, user: int = 3, client: int = 5) -> Users:
    limits = SigninLimits(
        Budget(store, f"u-{new_id()}", user, 60, clock),
        Budget(store, f"c-{new_id()}", client, 60, clock),
    )
    return Users(store, limits=limits)


def test_a_user_name_is_refused_after_its_budget_whoever_tries_it(store: Store) -> None:
    clock = Clock()
    users = _users(store, clock)
    name = unique_name("victim")
    users.add(new_id(), NewUser(name, PASSWORD, "admin"))
    for n in range(3):
        with pytest.raises(PermissionDenied):
            users.signin(Credentials(name, "wrong"), f"10.0.0.{n}")  # three clients
    with pytest.raises(TooManyAttempts) as refused:
        users.signin(Credentials(name, PASSWORD), "10.0.0.9")  # even the right password
    assert refused.value.status == 429 and 0 < refused.value.retry_after <= 60
    answer = error_response(refused.value)
    assert answer.status == 429 and answer.headers["retry-after"] == str(refused.value.retry_after)
    clock.now += 61  # the window is over: the budget is back
    assert users.signin(Credentials(name, PASSWORD), "10.0.0.9")


def test_a_success_gives_the_users_budget_back(store: Store) -> None:
    users = _users(store, Clock(), user=3, client=50)
    name = unique_name("typo")
    users.add(new_id(), NewUser(name, PASSWORD, "member"))
    for _ in range(5):  # two typos then a success, again and again: never throttled
        for _ in range(2):
            with pytest.raises(PermissionDenied):
                users.signin(Credentials(name, "wrong"), "10.0.1.1")
        assert users.signin(Credentials(name, PASSWORD), "10.0.1.1")


def test_one_client_spraying_many_names_is_refused_but_not_its_users_sign_ins(
    store: Store,
) -> None:
    users = _users(store, Clock(), user=10, client=5)
    name = unique_name("office")
    users.add(new_id(), NewUser(name, PASSWORD, "member"))
    for _ in range(8):  # many successful sign-ins from one shared address cost nothing
        assert users.signin(Credentials(name, PASSWORD), "192.0.2.1")
    for n in range(5):
        with pytest.raises(PermissionDenied):
            users.signin(Credentials(unique_name(f"guess{n}"), "x" * 8), "192.0.2.66")
    with pytest.raises(TooManyAttempts):
        users.signin(Credentials(name, PASSWORD), "192.0.2.66")
    assert users.signin(Credentials(name, PASSWORD), "192.0.2.1")  # other clients go on


def test_the_client_is_the_peer_or_the_proxys_last_forwarded_entry() -> None:
    forged = {"x-forwarded-for": "6.6.6.6, 198.51.100.7"}
    request = Request("POST", "/api/users/signin", forged, remote_addr="169.254.1.1")
    assert client_address(request, behind_proxy=True) == "198.51.100.7"  # the proxy's entry
    assert client_address(request, behind_proxy=False) == "169.254.1.1"  # served directly
    assert client_address(Request("POST", "/", remote_addr="::1"), behind_proxy=True) == "::1"
