"""A Pub/Sub emulator (`python -m emulator.pubsub`) for tests of cores that publish: the official
client's bus port on it, and a reader of what was published."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.bus.pubsub import PubSubBus
from tests.support.bus_reader import BusReader
from tests.support.services import running_service

__all__ = ["RunningBus", "bus_emulator"]


@dataclass
class RunningBus:
    """A project of its own on a running bus emulator: the port to publish, a reader to check."""

    project: str
    bus: PubSubBus
    reader: BusReader


@contextmanager
def bus_emulator(data_dir: Path, topics: Iterable[str]) -> Iterator[RunningBus]:
    """A bus emulator with `topics` (each with a reader subscription) in a fresh project."""
    with running_service("pubsub", data_dir) as service, pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", service.address)
        project = f"p{uuid.uuid4().hex[:10]}"
        reader = BusReader(project, topics)
        bus = PubSubBus(project)
        try:
            yield RunningBus(project, bus, reader)
        finally:
            bus.close()
