"""The device side on the store port (in memory and on the Firestore emulator) and a real broker:
first contact creates the device and its sensors once (also under concurrent first contacts), every
refusal creates nothing, rotation cuts the old key off, and the budget of failed attempts slows
guessing (429 + Retry-After, logged) while right keys, even many at once, cost nothing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

from functions.bootstrap.registrations import Registrations
from functions.bootstrap.service import Bootstrapper
from shared.auth import KeySet, verify_token
from shared.errors import AuthenticationError, NotFound, PermissionDenied
from shared.http import error_response
from shared.store import Query, Store
from shared.throttle import TooManyAttempts
from tests.support.broker import MqttClient
from tests.support.concurrency import at_once

SENSORS = [
    {"name": "temperature", "mapping": {"type": "double", "unit": "Cel"}},
    {"name": "count", "path": "engine", "mapping": {"type": "long"}},
]


def register(registrations: Registrations, org: str, **extra) -> tuple[str, str]:
    body = {
        "external_id": f"SN-{org}",
        "name": "pump",
        "config": {"every_s": 5},
        "sensors": SENSORS,
        **extra,
    }
    created = registrations.create(org, body)
    return created["external_id"], created["external_key"]


def devices_of(store: Store, org: str) -> list[str]:
    return [d.id for d in store.query(Query(f"orgs/{org}/devices")).documents]


def test_first_contact_creates_the_device_then_returns_it(
    registrations, make_bootstrapper, store, keys: KeySet, broker, org
) -> None:
    external, key = register(registrations, org)
    answer = make_bootstrapper().bootstrap(external, f"Bootstrap {key}")
    device = answer["device_id"]
    assert answer["created"] is True and devices_of(store, org) == [device]
    principal = verify_token(answer["device_token"], keys=keys)
    assert (principal.kind, principal.subject, principal.org) == ("device", device, org)
    assert answer["config"] == {"every_s": 5} and answer["http"] == {"ingest": "/ingest"}
    assert answer["broker"] == {
        "url": f"mqtt://{broker.host}:{broker.port}",
        "username": device,
        "topics": {
            "telemetry": f"devices/{device}/events",
            "state": f"devices/{device}/state",
            "config": f"devices/{device}/config",
            "commands": f"devices/{device}/commands/#",
        },
    }
    sensors = {s["tree_path"]: s for s in answer["sensors"]}
    assert sorted(sensors) == ["engine/count", "temperature"]
    assert sensors["temperature"]["mapping"] == {"type": "double", "unit": "Cel"}
    assert store.get(f"device_index/{device}").data == {"org": org}
    assert registrations.get(org, external)["device_id"] == device
    assert registrations.get(org, external)["bootstrapped_at"] is not None
    # the broker takes the device token as the device's MQTT password
    client = MqttClient(broker, device, answer["device_token"])
    assert client.wait_connected()
    client.close()

    again = make_bootstrapper().bootstrap(external, f"bootstrap {key}")
    assert again["created"] is False
    assert (again["device_id"], again["device_token"]) == (device, answer["device_token"])
    assert again["sensors"] == answer["sensors"]
    assert devices_of(store, org) == [device]


def test_concurrent_first_contacts_make_one_device(
    registrations, make_bootstrapper, store, org
) -> None:
    external, key = register(registrations, org)
    answers: list[dict] = []
    errors: list[Exception] = []
    start = threading.Barrier(6)

    def contact() -> None:
        start.wait()
        try:
            answers.append(make_bootstrapper().bootstrap(external, f"Bootstrap {key}"))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=contact) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(answers) == 6
    assert len({a["device_id"] for a in answers}) == 1
    assert sum(a["created"] for a in answers) == 1
    assert devices_of(store, org) == [answers[0]["device_id"]]
    sensors = store.query(Query(f"orgs/{org}/devices/{answers[0]['device_id']}/sensors"))
    assert len(sensors.documents) == 2


def test_refusals_create_nothing(registrations, make_bootstrapper, store, org) -> None:
    external, key = register(registrations, org)
    bootstrapper = make_bootstrapper()
    with pytest.raises(AuthenticationError):
        bootstrapper.bootstrap(external, None)
    with pytest.raises(AuthenticationError):
        bootstrapper.bootstrap(external, f"Bearer {key}")
    with pytest.raises(PermissionDenied, match="wrong external key"):
        bootstrapper.bootstrap(external, "Bootstrap not-the-key-at-all")
    for unknown in ("SN-nobody-registered-this", "bad id!"):
        with pytest.raises(NotFound):
            bootstrapper.bootstrap(unknown, f"Bootstrap {key}")
    registrations.update(org, external, {"enabled": False})
    with pytest.raises(PermissionDenied, match="disabled"):
        bootstrapper.bootstrap(external, f"Bootstrap {key}")
    assert devices_of(store, org) == []
    assert registrations.get(org, external)["device_id"] is None
    registrations.update(org, external, {"enabled": True})
    assert bootstrapper.bootstrap(external, f"Bootstrap {key}")["created"] is True


def test_rotating_the_external_key_cuts_the_old_one_off(
    registrations, make_bootstrapper, org
) -> None:
    external, old = register(registrations, org)
    bootstrapper = make_bootstrapper()
    device = bootstrapper.bootstrap(external, f"Bootstrap {old}")["device_id"]
    new = registrations.rotate(org, external, {})["external_key"]
    with pytest.raises(PermissionDenied):
        bootstrapper.bootstrap(external, f"Bootstrap {old}")
    assert bootstrapper.bootstrap(external, f"Bootstrap {new}")["device_id"] == device


def test_a_deleted_device_is_made_again(registrations, make_bootstrapper, store, org) -> None:
    external, key = register(registrations, org)
    bootstrapper = make_bootstrapper()
    first = bootstrapper.bootstrap(external, f"Bootstrap {key}")["device_id"]
    store.delete(f"orgs/{org}/devices/{first}")  # as the devices API would (sensors aside)
    second = bootstrapper.bootstrap(external, f"Bootstrap {key}")
    assert second["created"] is True and second["device_id"] != first


class Clock:
    """A fixed clock at the start of a throttling window (no test straddles two by chance)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_failure_budget_slows_guessing_and_is_logged(
    registrations, make_bootstrapper, store, org, caplog
) -> None:
    external, key = register(registrations, org)
    clock = Clock()
    bootstrapper = make_bootstrapper(attempts=3, window=60, clock=clock)
    with caplog.at_level(logging.WARNING):
        for attempt in range(3):
            with pytest.raises(PermissionDenied):
                bootstrapper.bootstrap(external, f"Bootstrap guess-{attempt:012d}")
        clock.now += 20
        with pytest.raises(TooManyAttempts) as caught:  # even the right key waits
            bootstrapper.bootstrap(external, f"Bootstrap {key}")
    assert caught.value.retry_after == 41  # 3 failures weigh less than 3 from 40 s on
    answer = error_response(caught.value)
    assert answer.status == 429 and answer.headers["retry-after"] == "41"
    assert "failure 3 of 3" in caplog.text and "budget" in caplog.text
    assert external in caplog.text
    assert devices_of(store, org) == []
    clock.now += 41  # 1 s into the next window: 3 x 59/60 failures counted
    assert bootstrapper.bootstrap(external, f"Bootstrap {key}")["created"] is True


def test_concurrent_bootstraps_with_the_right_key_are_never_throttled(
    registrations, make_bootstrapper, org
) -> None:
    """A provisioning script bootstrapping one device from several workers at once (the budget
    used to be spent before the key was checked: more bootstraps in flight than it got 429)."""
    external, key = register(registrations, org)
    bootstrapper = make_bootstrapper(attempts=2, clock=Clock())
    outcomes = at_once(lambda _: bootstrapper.bootstrap(external, f"Bootstrap {key}"), 8)
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert len({o["device_id"] for o in outcomes if isinstance(o, dict)}) == 1


def test_a_success_does_not_reopen_the_budget_to_guessing(
    registrations, make_bootstrapper, org
) -> None:
    """Failures stay counted whatever the device does: a device bootstrapping at every start
    must not give someone guessing its key a fresh budget each time (a success used to clear
    it)."""
    external, key = register(registrations, org)
    bootstrapper = make_bootstrapper(attempts=3, clock=Clock())
    for n in range(3):
        with pytest.raises(PermissionDenied):
            bootstrapper.bootstrap(external, f"Bootstrap guess-{n:012d}")
        if n < 2:
            assert bootstrapper.bootstrap(external, f"Bootstrap {key}")["device_id"]
    with pytest.raises(TooManyAttempts):
        bootstrapper.bootstrap(external, "Bootstrap guess-000000000009")
    with pytest.raises(TooManyAttempts):
        bootstrapper.bootstrap(external, f"Bootstrap {key}")


def test_guesses_in_flight_never_let_the_right_key_through_once_spent(
    registrations, make_bootstrapper, store, org
) -> None:
    """Guesses at once all pass the first check; once their failures spend the budget, the right
    key is 429 too (checked again before a success is answered) and nothing is created."""
    external, key = register(registrations, org)
    bootstrapper = make_bootstrapper(attempts=3, clock=Clock())
    outcomes = at_once(lambda n: bootstrapper.bootstrap(external, f"Bootstrap guess-{n:012d}"), 8)
    assert all(isinstance(o, PermissionDenied | TooManyAttempts) for o in outcomes), outcomes
    with pytest.raises(TooManyAttempts):
        bootstrapper.bootstrap(external, f"Bootstrap {key}")
    assert devices_of(store, org) == []


def test_no_broker_means_no_broker_address(registrations, store, keys, org) -> None:
    from functions.bootstrap.service import BOOTSTRAP_SCOPE
    from shared.auth import issue_device_token
    from shared.throttle import FailureBudget

    def issue(device: str, org: str, version: int, issued_at: int) -> str:
        return issue_device_token(device, org, version, issued_at, keys=keys)

    bootstrapper = Bootstrapper(
        store, None, None, FailureBudget(store, BOOTSTRAP_SCOPE), issue=issue
    )
    external, key = register(registrations, org)
    answer = bootstrapper.bootstrap(external, f"Bootstrap {key}")
    assert answer["broker"] is None and verify_token(answer["device_token"], keys=keys)


_ = Callable  # typing only
