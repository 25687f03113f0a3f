"""The deadman core: a tick evaluates every enabled deadman rule of every organisation, including
sensors named by a rule that never reported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from functions.deadman.main import tick_time
from functions.deadman.service import Deadman
from shared.events import Message
from shared.rules.engine import Engine
from shared.rules.model import validate_rule
from shared.store import Query
from shared.store.firestore import FirestoreStore
from shared.topics import ALERT_CHANGES
from tests.support.bus import RunningBus, bus_emulator

pytestmark = pytest.mark.process
S = 10**9


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBus]:
    with bus_emulator(tmp_path_factory.mktemp("deadman-bus"), [ALERT_CHANGES]) as running:
        yield running


def test_silence_of_a_named_sensor_opens_one_alert(
    store: FirestoreStore, bus: RunningBus, org: str
) -> None:
    fields = validate_rule(
        {
            "name": "quiet",
            "condition": "deadman(1m)",
            "select": {"sensors": ["d" * 20 + "/" + "5" * 20]},
        },
        partial=False,
    )
    store.create(f"orgs/{org}/rules/{'r' * 20}", {**fields, "version": 1, "created_ns": 1000 * S})
    deadman = Deadman(store, Engine(store, lambda: bus.bus))
    assert deadman.tick(1030 * S) == 0  # 30 s of silence
    assert deadman.tick(1061 * S) == 1  # 61 s: opened
    assert deadman.tick(1121 * S) == 0  # still silent: the same alert
    alerts = store.query(Query(f"orgs/{org}/alerts")).documents
    assert len(alerts) == 1 and alerts[0].data["state"] == "open"


def test_the_tick_time() -> None:
    assert tick_time(Message("1", b'{"scheduled_ns": 42}')) == 42
    assert (
        tick_time(Message("1", b"{}", publish_time="2026-12-01T00:00:01.5Z"))
        == 1_796_083_201_500_000_000
    )
