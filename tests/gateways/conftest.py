"""Gateway tests publish on the bus port and read the bus back: each test runs on the in-memory
fake (fast tier) and on the real Pub/Sub emulator through a pull subscription (`process`), in a
project of its own, so topics never leak between tests. A test that needs the emulator itself
(to kill it) asks for `pubsub` and pins `bus_backend` to "pubsub"."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.bus import Bus
from shared.bus.pubsub import PubSubBus
from tests.support.bus_reader import BusReader, MemoryReader
from tests.support.memory_bus import MemoryBus
from tests.support.services import RunningService, running_service

BRIDGE_TOPICS = ("telemetry-raw", "device-state", "telemetry-dead")


@pytest.fixture(scope="module")
def pubsub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """`python -m emulator.pubsub`, with PUBSUB_EMULATOR_HOST pointing at it for the module."""
    with (
        running_service("pubsub", tmp_path_factory.mktemp("pubsub")) as service,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("PUBSUB_EMULATOR_HOST", service.address)
        yield service


@pytest.fixture
def project(pubsub: RunningService) -> str:
    """A project of the emulator that only this test uses (no topics yet)."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=[pytest.param("memory"), pytest.param("pubsub", marks=pytest.mark.process)])
def bus_backend(request: pytest.FixtureRequest) -> str:
    """Which bus this test runs on: the in-memory fake or the Pub/Sub emulator."""
    return str(request.param)


@pytest.fixture
def bus_and_reader(
    bus_backend: str, request: pytest.FixtureRequest
) -> Iterator[tuple[Bus, BusReader | MemoryReader]]:
    if bus_backend == "memory":
        memory = MemoryBus(topics=())
        yield memory, MemoryReader(memory)
        return
    project: str = request.getfixturevalue("project")
    adapter = PubSubBus(project)
    reading = BusReader(project)
    yield adapter, reading
    adapter.close()
    reading.close()


@pytest.fixture
def bus(bus_and_reader: tuple[Bus, BusReader | MemoryReader]) -> Bus:
    """The bus port of this test's backend (no topics yet: `reader.create` makes them)."""
    return bus_and_reader[0]


@pytest.fixture
def reader(bus_and_reader: tuple[Bus, BusReader | MemoryReader]) -> BusReader | MemoryReader:
    """Reads this test's bus; its topics are created by the test (`reader.create`)."""
    return bus_and_reader[1]
