"""The rule engine on the Firestore and Pub/Sub emulators: one alert per burst, `for`, windows over
out-of-order readings (any arrival order gives the same state), redelivery changes nothing,
deadman on a tick, and the outbox published after the commit."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.directory import new_id
from shared.rules.alerts import alert_path, series_path
from shared.rules.engine import Engine, SeriesInput
from shared.rules.model import Rule, validate_rule
from shared.store.firestore import FirestoreStore
from shared.topics import ALERT_CHANGES
from tests.support.bus import RunningBus, bus_emulator

pytestmark = pytest.mark.process

S = 10**9
DEVICE, SENSOR = "d" * 20, "s" * 20


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBus]:
    with bus_emulator(tmp_path_factory.mktemp("engine-bus"), [ALERT_CHANGES]) as running:
        yield running


def make_rule(org: str, condition: str, **body: Any) -> Rule:
    fields = validate_rule({"name": "r", "condition": condition, **body}, partial=False)
    return Rule.from_document(org, new_id(), {**fields, "version": 1, "created_ns": 0})


def feed(
    engine: Engine, rule: Rule, points: list[tuple[int, Any]], key: str, now: int
) -> list[dict[str, Any]]:
    series = [(ts, value, None, None) for ts, value in points]
    item = SeriesInput(rule, DEVICE, SENSOR, {"device": DEVICE, "sensor": SENSOR}, series)
    return engine.apply(rule.org, [item], key, now).changes


def state(store: FirestoreStore, rule: Rule) -> dict[str, Any]:
    document = store.get(series_path(rule.org, rule.id, DEVICE, SENSOR))
    assert document is not None
    return document.data


def test_a_burst_opens_one_alert_and_values_back_resolve_it(
    store: FirestoreStore, bus: RunningBus, org: str
) -> None:
    engine = Engine(store, lambda: bus.bus)
    rule = make_rule(org, "value > 30")
    opened = feed(engine, rule, [(1 * S, 31.0), (2 * S, 35.0)], "m1", 10 * S)
    assert [c["change"] for c in opened] == ["opened"]
    assert feed(engine, rule, [(3 * S, 40.0)], "m2", 11 * S) == []  # still firing: same alert
    alert_id = opened[0]["alert"]["id"]
    assert state(store, rule)["alert"] == alert_id
    resolved = feed(engine, rule, [(4 * S, 20.0)], "m3", 12 * S)
    assert [(c["change"], c["alert"]["id"], c["by"]) for c in resolved] == [
        ("resolved", alert_id, "rule")
    ]
    alert = store.get(alert_path(org, alert_id))
    assert alert is not None and alert.data["state"] == "resolved"
    assert [h["state"] for h in alert.data["history"]] == ["open", "resolved"]
    published = bus.reader.wait_for(ALERT_CHANGES, lambda got: len(got) >= 2)
    mine = [orjson.loads(m.data) for m in published if m.attributes["rule"] == rule.id]
    assert [m["change"] for m in mine] == ["opened", "resolved"]
    assert state(store, rule)["outbox"] == b"[]"  # published, then dropped from the outbox


def test_redelivery_changes_nothing(store: FirestoreStore, bus: RunningBus, org: str) -> None:
    engine = Engine(store, lambda: bus.bus)
    rule = make_rule(org, "avg(value, 1m) > 10")
    feed(engine, rule, [(1 * S, 30.0)], "m1", 5 * S)
    before = state(store, rule)
    again = engine.apply(
        org,
        [SeriesInput(rule, DEVICE, SENSOR, {}, [(1 * S, 30.0, None, None)])],
        "m1",
        6 * S,
    )
    assert again.redelivered == 1 and again.changes == []
    after = state(store, rule)
    assert {k: v for k, v in after.items() if k != "updated_ns"} == {
        k: v for k, v in before.items() if k != "updated_ns"
    }


def test_for_needs_the_condition_to_hold_long_enough(
    store: FirestoreStore, bus: RunningBus, org: str
) -> None:
    engine = Engine(store, lambda: bus.bus)
    rule = make_rule(org, "value > 5", **{"for": "30s"})
    assert feed(engine, rule, [(0, 6.0), (10 * S, 7.0), (20 * S, 8.0)], "a", S) == []
    assert feed(engine, rule, [(25 * S, 1.0)], "b", S) == []  # broken: starts again
    assert feed(engine, rule, [(40 * S, 9.0), (60 * S, 9.0)], "c", S) == []  # 20 s held
    changes = feed(engine, rule, [(70 * S, 9.0)], "d", S)  # 40 s..70 s: 30 s held
    assert [c["change"] for c in changes] == ["opened"]


def test_windows_over_out_of_order_readings(
    store: FirestoreStore, bus: RunningBus, org: str
) -> None:
    engine = Engine(store, lambda: bus.bus)
    rule = make_rule(org, "avg(value, 1m) > 10")
    assert feed(engine, rule, [(100 * S, 12.0)], "a", S)  # avg 12: fires
    # a late reading inside the window pulls the average down: resolves
    changes = feed(engine, rule, [(70 * S, 0.0)], "b", S)
    assert [c["change"] for c in changes] == ["resolved"]
    # a reading older than the window changes nothing
    assert feed(engine, rule, [(10 * S, -100.0)], "c", S) == []
    assert state(store, rule)["watermark"] == 100 * S


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.randoms(use_true_random=False))
def test_any_arrival_order_gives_the_same_state(
    store: FirestoreStore, bus: RunningBus, org: str, shuffle: random.Random
) -> None:
    engine = Engine(store, lambda: bus.bus)
    condition = "avg(value, 30s) > 10 and max(value, 1m) < 50"
    readings = [(t * 10 * S, float(v)) for t, v in enumerate([5, 12, 14, 30, 9, 11, 60, 13, 12])]
    finals = []
    for order in (list(readings), shuffle.sample(readings, len(readings))):
        rule = make_rule(org, condition, **{"for": "20s"})
        for index, reading in enumerate(order):
            feed(engine, rule, [reading], f"k{index}", S)
        data = state(store, rule)
        finals.append((data["points"], data["firing"], data["since"], data["watermark"]))
    assert finals[0] == finals[1]


def test_deadman_fires_on_a_tick_and_a_reading_resolves_it(
    store: FirestoreStore, bus: RunningBus, org: str
) -> None:
    engine = Engine(store, lambda: bus.bus)
    rule = make_rule(org, "deadman(5m)")
    assert feed(engine, rule, [(1 * S, 1.0)], "a", 100 * S) == []
    tick = SeriesInput(rule, DEVICE, SENSOR, {})
    assert engine.apply(org, [tick], None, 200 * S).changes == []  # 100 s of silence
    fired = engine.apply(org, [tick], None, 401 * S).changes  # 301 s of silence
    assert [c["change"] for c in fired] == ["opened"]
    assert engine.apply(org, [tick], None, 460 * S).changes == []  # one alert, not one per tick
    back = feed(engine, rule, [(2 * S, 1.0)], "b", 470 * S)
    assert [c["change"] for c in back] == ["resolved"]
