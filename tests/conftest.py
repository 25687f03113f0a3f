"""Suite-wide fixtures: one running emulator per test session for end-to-end tests, and one
Firestore emulator per session for the store-backed tests of function cores (each test module
works in a project of its own, so modules never see each other's documents)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.store.firestore import FirestoreStore
from tests.support.emulator import RunningEmulator, start_emulator
from tests.support.services import RunningService, running_service


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """The whole platform, started once per session with `python -m emulator` on free ports."""
    # rate(1 minute) schedules tick every 3 s (the deadman e2e test waits for ticks)
    emulator = start_emulator(
        tmp_path_factory.mktemp("platform") / "data", STRATUS_SCHEDULE_SCALE="0.05"
    )
    try:
        yield emulator
    finally:
        if emulator.process and emulator.process.poll() is None:
            emulator.stop()


@pytest.fixture(scope="session")
def firestore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """A standalone `python -m emulator.firestore` for the session (tests never stop it)."""
    with running_service("firestore", tmp_path_factory.mktemp("firestore")) as service:
        yield service


@pytest.fixture(scope="module")
def store(firestore: RunningService, request: pytest.FixtureRequest) -> Iterator[FirestoreStore]:
    """The store port on the session's Firestore emulator, in a project of this module's own."""
    module = request.module.__name__.rsplit(".", 1)[-1].replace("_", "-")[:16]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", firestore.address)
        yield FirestoreStore(project=f"{module}-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def org() -> str:
    """An organisation id no other test uses."""
    return f"o{uuid.uuid4().hex[:12]}"
