"""Ingest on the bus port (the in-memory fake, and the Pub/Sub emulator): a device directory held
by the test, real tokens."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from google.cloud import pubsub_v1

from functions.ingest.api import build_router
from shared.auth import Authenticator, KeySet, Principal, issue_device_token
from shared.bus import Bus
from shared.bus.pubsub import PubSubBus
from shared.function import HttpFunction
from shared.telemetry.ingest import RAW_TOPIC, Ingest
from shared.telemetry.sensors import CachedSensorDirectory, Sensor
from tests.support.bus_reader import pull_all
from tests.support.memory_bus import MemoryBus
from tests.support.services import RunningService, running_service

PROJECT = "ingest-test"
ORG, DEVICE, OTHER_DEVICE = "o" * 20, "d" * 20, "e" * 20
S1, S2, FOREIGN = "1" * 20, "2" * 20, "f" * 20
RECEIVED_NS = 1_790_000_000_123_456_789
_names = itertools.count()


@pytest.fixture(scope="module")
def pubsub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with (
        running_service("pubsub", tmp_path_factory.mktemp("ingest-bus")) as service,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("PUBSUB_EMULATOR_HOST", service.address)
        publisher = pubsub_v1.PublisherClient()
        publisher.create_topic(name=publisher.topic_path(PROJECT, RAW_TOPIC))
        publisher.transport.close()
        yield service


@dataclass
class Directory:
    """What the store would say: key versions (None = deleted) and sensors per device (S1 is
    `temperature` in `room/`, S2 `humidity`; SenML names find them by id, path or name)."""

    versions: dict[str, int | None] = field(default_factory=lambda: {DEVICE: 1})
    sensors: dict[str, dict[str, Sensor]] = field(
        default_factory=lambda: {
            DEVICE: {S1: Sensor(S1, "temperature", "room"), S2: Sensor(S2, "humidity")},
            OTHER_DEVICE: {FOREIGN: Sensor(FOREIGN, "pressure")},
        }
    )
    sensor_reads: int = 0

    def version(self, principal: Principal) -> int | None:
        return self.versions.get(principal.subject)

    def lookup(self, org: str, device: str) -> dict[str, Sensor]:
        self.sensor_reads += 1
        return dict(self.sensors.get(device, {})) if org == ORG else {}


@dataclass
class Setup:
    """The ingest function on a bus (`bus`), and what that bus carried (`drain`)."""

    app: HttpFunction
    directory: Directory
    keys: KeySet
    bus: Bus
    drain: Callable[[], list[Any]]  # messages published since the last drain (.data, .attributes)
    broken_bus: Callable[[], Bus]  # a bus whose telemetry-raw topic does not exist

    def token(self, device: str = DEVICE, version: int = 1) -> str:
        return issue_device_token(device, ORG, version, 1_700_000_000, keys=self.keys)


def _memory_drain(bus: MemoryBus) -> Callable[[], list[Any]]:
    seen = [0]

    def drain() -> list[Any]:
        fresh = bus.published[seen[0] :]
        seen[0] = len(bus.published)
        return list(fresh)

    return drain


def make_app(
    directory: Directory, keys: KeySet, bus: Bus, *, max_body_bytes: int | None = None
) -> HttpFunction:
    ingest = Ingest(
        bus,
        Authenticator(directory.version, keys=keys, cache_seconds=0),
        CachedSensorDirectory(directory.lookup, ttl=60, min_age=0),
        clock=lambda: RECEIVED_NS,
    )
    return HttpFunction("ingest", build_router(lambda: ingest), max_body_bytes=max_body_bytes)


@pytest.fixture(params=[pytest.param("memory"), pytest.param("pubsub", marks=pytest.mark.process)])
def setup(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    """Ingest on the in-memory bus (fast tier) and on the Pub/Sub emulator (`process`)."""
    keys = KeySet.from_private_key(ec.generate_private_key(ec.SECP256R1()))
    directory = Directory()
    if request.param == "memory":
        memory = MemoryBus(topics={RAW_TOPIC})
        yield Setup(
            make_app(directory, keys, memory), directory, keys, memory, _memory_drain(memory),
            lambda: MemoryBus(topics=()),
        )  # fmt: skip
        return
    service: RunningService = request.getfixturevalue("pubsub")
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", service.address)
    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(PROJECT, f"raw-{next(_names)}")
    subscriber.create_subscription(
        name=subscription, topic=f"projects/{PROJECT}/topics/{RAW_TOPIC}"
    )
    bus = PubSubBus(PROJECT)
    yield Setup(
        make_app(directory, keys, bus), directory, keys, bus,
        lambda: pull_all(subscriber, subscription),
        lambda: PubSubBus("no-such-project"),
    )  # fmt: skip
    bus.close()
    subscriber.close()
