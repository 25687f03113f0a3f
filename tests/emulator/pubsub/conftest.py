"""Fixtures: one Pub/Sub emulator subprocess per module and official clients pointed at it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import pubsub_v1

from tests.support.services import RunningService, running_service

PROJECT = "test-project"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with running_service("pubsub", tmp_path_factory.mktemp("pubsub")) as running:
        yield running


@pytest.fixture
def emulator(service: RunningService, monkeypatch: pytest.MonkeyPatch) -> RunningService:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", service.address)
    return service


@pytest.fixture
def publisher(emulator: RunningService) -> Iterator[pubsub_v1.PublisherClient]:
    client = pubsub_v1.PublisherClient()
    yield client
    client.transport.close()


@pytest.fixture
def subscriber(emulator: RunningService) -> Iterator[pubsub_v1.SubscriberClient]:
    client = pubsub_v1.SubscriberClient()
    yield client
    client.close()


@pytest.fixture
def names() -> Callable[[str], str]:
    """A fresh unique id at each call: names('t') -> 't-1a2b3c4d'."""
    return lambda base: f"{base}-{uuid.uuid4().hex[:8]}"


def wait_for(check: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail after a generous timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)


def data_dir(service: RunningService) -> Path:
    return service.data_dir
