"""Sign-in throttling: per-user and per-client budgets of failed attempts kept in the store (so
every instance shares them), 429 with Retry-After once spent; successes, even many at once, cost
nothing and give nothing back."""

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
from shared.throttle import FailureBudget, TooManyAttempts
from tests.support.api import signing_key, unique_name
from tests.support.concurrency import at_once

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


def _users(store: Store, clock: Clock, user: int = 3, client: int = 5, window: int = 60) -> Users:
    limits = SigninLimits(
        FailureBudget(store, f"u-{new_id()}", user, window, clock),
        FailureBudget(store, f"c-{new_id()}", client, window, clock),
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
    assert refused.value.status == 429 and refused.value.retry_after == 61  # window's end + 1
    answer = error_response(refused.value)
    assert answer.status == 429 and answer.headers["retry-after"] == str(refused.value.retry_after)
    clock.now += 61  # the window is over: the budget is back
    assert users.signin(Credentials(name, PASSWORD), "10.0.0.9")


def test_concurrent_sign_ins_with_the_right_password_are_never_throttled(store: Store) -> None:
    """A fleet script signing one user in from many workers at once (the budget used to be
    spent before the password was checked, so more sign-ins in flight than the budget got 429)."""
    users = _users(store, Clock(), user=3, client=5)
    name = unique_name("fleet")
    users.add(new_id(), NewUser(name, PASSWORD, "admin"))
    outcomes = at_once(lambda _: users.signin(Credentials(name, PASSWORD), "192.0.2.10"), 12)
    assert len(outcomes) == 12 and all(isinstance(o, str) for o in outcomes), outcomes


def test_a_success_does_not_reopen_a_name_to_guessing(store: Store) -> None:
    """Failures stay counted whatever the owner does: a script signing in all the time must not
    give someone guessing its password a fresh budget after each of its sign-ins."""
    users = _users(store, Clock(), user=3, client=50)
    name = unique_name("owner")
    users.add(new_id(), NewUser(name, PASSWORD, "member"))
    for n in range(3):
        with pytest.raises(PermissionDenied):
            users.signin(Credentials(name, "wrong"), f"203.0.113.{n}")
        if n < 2:
            assert users.signin(Credentials(name, PASSWORD), "192.0.2.20")
    with pytest.raises(TooManyAttempts):
        users.signin(Credentials(name, "wrong"), "203.0.113.9")
    with pytest.raises(TooManyAttempts):
        users.signin(Credentials(name, PASSWORD), "192.0.2.20")


def test_guesses_in_flight_never_let_a_right_guess_through_once_spent(store: Store) -> None:
    """Many guesses at once all pass the first check; once their failures spend the budget, a
    right password is 429 too (checked again before a success is answered)."""
    users = _users(store, Clock(), user=3, client=100)
    name = unique_name("target")
    users.add(new_id(), NewUser(name, PASSWORD, "member"))
    outcomes = at_once(
        lambda n: users.signin(Credentials(name, f"guess {n}"), f"198.51.100.{n}"), 8
    )
    assert all(isinstance(o, PermissionDenied | TooManyAttempts) for o in outcomes), outcomes
    with pytest.raises(TooManyAttempts):
        users.signin(Credentials(name, PASSWORD), "192.0.2.30")


def test_failures_of_the_window_before_still_count_as_it_fades(store: Store) -> None:
    clock = Clock()  # at the start of a 50 s window
    clock.now += 25
    users = _users(store, clock, user=3, client=50, window=50)
    name = unique_name("slow")
    users.add(new_id(), NewUser(name, PASSWORD, "member"))
    for _ in range(3):
        with pytest.raises(PermissionDenied):
            users.signin(Credentials(name, "wrong"), "198.51.100.50")
    clock.now += 35  # 10 s into the next window: 3 x 0.8 = 2.4 failures counted
    with pytest.raises(PermissionDenied):
        users.signin(Credentials(name, "wrong"), "198.51.100.50")  # 3.4 now
    with pytest.raises(TooManyAttempts) as refused:
        users.signin(Credentials(name, PASSWORD), "198.51.100.50")
    assert refused.value.retry_after == 7  # 3 x (1 - x) + 1 < 3 from x = 1/3, 6.7 s on
    clock.now += 7
    assert users.signin(Credentials(name, PASSWORD), "198.51.100.50")


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
