"""The evaluator core: readings reach the rules that select them (devices, sensor references,
path globs), anomaly events reach the rules of their detector, malformed events are refused."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from functions.evaluator.service import Evaluator
from shared.errors import ValidationError
from shared.rules.engine import Engine
from shared.rules.model import validate_rule
from shared.rules.source import RuleSource
from shared.store.firestore import FirestoreStore
from shared.telemetry.model import NormalizedMessage, Reading, Source
from shared.telemetry.sensors import Sensor
from shared.topics import ALERT_CHANGES
from tests.support.bus import RunningBus, bus_emulator

pytestmark = pytest.mark.process
D, S1, S2 = "d" * 20, "1" * 20, "2" * 20


class Sensors:
    def lookup(self, org: str, device: str) -> Mapping[str, Sensor]:
        return {S1: Sensor(S1, "oil", "engine"), S2: Sensor(S2, "door", "cabin", "boolean")}


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBus]:
    with bus_emulator(tmp_path_factory.mktemp("evaluator-bus"), [ALERT_CHANGES]) as running:
        yield running


def rule(store: FirestoreStore, org: str, rule_id: str, **body: object) -> None:
    fields = validate_rule({"name": rule_id, **body}, partial=False)
    store.create(f"orgs/{org}/rules/{rule_id}", {**fields, "version": 1, "created_ns": 0})


def test_readings_reach_the_rules_that_select_them(
    store: FirestoreStore, bus: RunningBus, org: str
) -> None:
    rule(store, org, "a" * 20, condition="value > 5", select={"path": "engine/*"})
    rule(store, org, "b" * 20, condition="value == true", select={"sensors": [f"{D}/{S2}"]})
    rule(store, org, "c" * 20, condition="value > 5", select={"devices": ["e" * 20]})
    evaluator = Evaluator(Engine(store, lambda: bus.bus), RuleSource(lambda: store, 0), Sensors())
    message = NormalizedMessage(
        org,
        D,
        Source("m", "http"),
        (
            Reading(S1, 10, 9.0, "double"),
            Reading(S2, 10, True, "boolean"),
        ),
    )
    outcome = evaluator.readings(message, "k1", 100)
    assert sorted(c["alert"]["rule"] for c in outcome.changes) == ["a" * 20, "b" * 20]
    assert evaluator.readings(message, "k1", 100).redelivered == 2


def test_anomaly_events_reach_the_rules_of_their_detector(
    store: FirestoreStore, bus: RunningBus, org: str
) -> None:
    rule(store, org, "f" * 20, condition="anomaly and score > 5", select={"detector": "9" * 20})
    evaluator = Evaluator(Engine(store, lambda: bus.bus), RuleSource(lambda: store, 0), Sensors())
    event = {
        "org": org,
        "device": D,
        "sensor": S1,
        "detector": "9" * 20,
        "ts": 5,
        "value": 3.0,
        "score": 7.5,
        "threshold": 4.0,
        "anomaly": True,
    }
    (opened,) = evaluator.anomaly(event, 100).changes
    assert opened["change"] == "opened"
    (cleared,) = evaluator.anomaly({**event, "ts": 6, "score": 1.0, "anomaly": False}, 101).changes
    assert cleared["change"] == "resolved"
    with pytest.raises(ValidationError):
        evaluator.anomaly({"org": org}, 100)
