"""Gateway tests publish to the real Pub/Sub emulator and read the bus back with a pull
subscription; each test gets its own project, so topics never leak between tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.bus.pubsub import PubSubBus
from tests.support.bus_reader import BusReader
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


@pytest.fixture
def bus(project: str) -> Iterator[PubSubBus]:
    """The bus port's Pub/Sub adapter on this test's project."""
    adapter = PubSubBus(project)
    yield adapter
    adapter.close()


@pytest.fixture
def reader(project: str) -> Iterator[BusReader]:
    """Reads this test's project; its topics are created by the test (`reader.create`)."""
    reading = BusReader(project)
    yield reading
    reading.close()
