"""shared.clients: each client is built once per process, even when first asked concurrently."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from shared import clients
from shared.clients import once
from tests.support.concurrency import at_once

THREADS = 16


def test_concurrent_first_calls_build_once() -> None:
    built: list[object] = []
    others_waiting = threading.Event()

    @once
    def thing() -> object:
        built.append(object())
        others_waiting.wait(0.2)  # a slow build: the other first calls arrive meanwhile
        return built[-1]

    results = at_once(lambda _: thing(), THREADS)
    assert len(built) == 1
    assert all(result is built[0] for result in results)


def test_cache_clear_builds_again() -> None:
    counter = iter(range(10))
    numbers = once(lambda: next(counter))
    assert (numbers(), numbers()) == (0, 0)
    numbers.cache_clear()
    assert numbers() == 1


def test_an_error_is_not_kept() -> None:
    attempts: list[int] = []

    @once
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("first attempt")
        return "up"

    with pytest.raises(ConnectionError):
        flaky()
    assert flaky() == "up"


def test_one_broker_admin_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two admin clients of one MQTT account kicked each other off the broker for good (the
    broker ties a session to its account): concurrent first device creations in a fresh worker
    then timed out with 503. The admin is built once however many requests ask at once."""
    from shared.broker import mosquitto

    constructed: list[tuple[Any, ...]] = []
    others_waiting = threading.Event()

    class CountingAdmin:
        def __init__(self, *args: Any) -> None:
            constructed.append(args)
            others_waiting.wait(0.2)

    monkeypatch.setattr(mosquitto, "MosquittoAdmin", CountingAdmin)
    for name, value in {
        "STRATUS_MQTT_HOST": "127.0.0.1",
        "STRATUS_MQTT_PORT": "1883",
        "STRATUS_MQTT_API_USERNAME": "stratus-api-1",
        "STRATUS_MQTT_API_PASSWORD": "api-secret",
        "STRATUS_MQTT_ADMIN_USERNAME": "stratus-admin-1",
        "STRATUS_MQTT_ADMIN_PASSWORD": "admin-secret",
    }.items():
        monkeypatch.setenv(name, value)
    clients.broker_settings.cache_clear()
    clients.broker_admin.cache_clear()
    try:
        admins = at_once(lambda _: clients.broker_admin(), THREADS)
    finally:
        clients.broker_settings.cache_clear()
        clients.broker_admin.cache_clear()
    assert len(constructed) == 1
    assert all(admin is admins[0] for admin in admins)
