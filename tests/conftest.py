"""Suite-wide fixtures: one running emulator per test session for end-to-end tests, and one
Firestore emulator per session for the store-backed tests of function cores (each test module
works in a project of its own, so modules never see each other's documents); and the test tiers:
every test that starts a process is marked `process`, and `make test-fast` refuses to start one
(tests/support/tiers.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.store import Store
from shared.store.firestore import FirestoreStore
from tests.support.costs import Costs
from tests.support.emulator import RunningEmulator, start_emulator
from tests.support.google_emulators import GoogleEmulator, google_emulator, missing_reason
from tests.support.memory_store import MemoryStore
from tests.support.services import RunningService, running_service
from tests.support.tiers import FAST, Guard, uses_processes

_guard = Guard(refuse=FAST)
_costs = Costs()


def pytest_configure(config: pytest.Config) -> None:
    _guard.install()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `process` every test that starts one, itself or through its fixtures (before -m)."""
    for item in items:
        if item.get_closest_marker("process") is None and uses_processes(item):
            item.add_marker(pytest.mark.process)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    _guard.current = item
    _guard.marked = item.get_closest_marker("process") is not None
    try:
        return (yield)
    finally:
        _guard.current = None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _costs.add(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    _costs.summary(terminalreporter)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    result = yield
    started = _guard.unmarked_starts(item)
    if started:
        pytest.fail(
            f"{item.nodeid} is not marked `process` but " + "; ".join(started), pytrace=False
        )
    return result


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


@pytest.fixture(scope="session")
def pubsub_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """A standalone `python -m emulator.pubsub` for the session (tests never stop it)."""
    with running_service("pubsub", tmp_path_factory.mktemp("pubsub")) as service:
        yield service


def _google(kind: str) -> Iterator[GoogleEmulator]:
    reason = missing_reason(kind)  # type: ignore[arg-type]
    if reason is not None:
        pytest.skip(f"needs Google's {kind} emulator: {reason}")
    with google_emulator(kind) as emulator:  # type: ignore[arg-type]
        yield emulator


@pytest.fixture(scope="session")
def google_firestore() -> Iterator[GoogleEmulator]:
    """Google's `gcloud beta emulators firestore start` on a free port (memory only), started
    once per session by the first test that asks (about 2.3 s and 240 MiB); skipped, saying why,
    where gcloud or Java is missing."""
    yield from _google("firestore")


@pytest.fixture(scope="session")
def google_pubsub() -> Iterator[GoogleEmulator]:
    """Google's `gcloud beta emulators pubsub start` on a free port, data in a temporary
    directory, once per session; skipped, saying why, where gcloud or Java is missing."""
    yield from _google("pubsub")


@pytest.fixture(scope="module")
def firestore_store(
    firestore: RunningService, request: pytest.FixtureRequest
) -> Iterator[FirestoreStore]:
    """The store port on the session's Firestore emulator, in a project of this module's own;
    FIRESTORE_EMULATOR_HOST points at it for the module (for code that builds its own client)."""
    module = request.module.__name__.rsplit(".", 1)[-1].replace("_", "-")[:16]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", firestore.address)
        yield FirestoreStore(project=f"{module}-{uuid.uuid4().hex[:8]}")


@pytest.fixture(
    scope="module",
    params=[pytest.param("memory"), pytest.param("firestore", marks=pytest.mark.process)],
)
def store(request: pytest.FixtureRequest) -> Store:
    """The store port, twice: the in-memory fake (fast tier) and the Firestore adapter on the
    session's emulator (`process`); the contract suite holds them to the same behaviour. A module
    that needs the real one only (code that builds its own client) uses `firestore_store`."""
    if request.param == "memory":
        return MemoryStore()
    adapter: FirestoreStore = request.getfixturevalue("firestore_store")
    return adapter


@pytest.fixture
def org() -> str:
    """An organisation id no other test uses."""
    return f"o{uuid.uuid4().hex[:12]}"
