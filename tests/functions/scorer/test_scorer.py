"""The scorer core: readings of bound sensors are scored into derived chunks and state, once per
message; derived messages are not scored again; remote bindings leave on inference-requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from functions.scorer.service import Scorer
from shared.inference.bindings import BindingSource
from shared.inference.scoring import Scoring
from shared.store import Query
from shared.store.firestore import FirestoreStore
from shared.telemetry.chunks import chunks_path, decode_readings
from shared.telemetry.model import NormalizedMessage, Reading, Source
from shared.topics import ANOMALIES, INFERENCE_REQUESTS
from tests.support.bus import RunningBus, bus_emulator

pytestmark = pytest.mark.process
D, S, SCORE, FLAG = "d" * 20, "s" * 20, "1" * 20, "2" * 20


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBus]:
    with bus_emulator(
        tmp_path_factory.mktemp("scorer-bus"), [ANOMALIES, INFERENCE_REQUESTS]
    ) as running:
        yield running


def bind(store: FirestoreStore, org: str, detector: str, kind: str, params: dict[str, Any]) -> None:
    store.create(
        f"orgs/{org}/detectors/{detector}",
        {
            "name": kind,
            "device": D,
            "sensor": S,
            "kind": kind,
            "params": params,
            "threshold": 4.0,
            "enabled": True,
            "score_sensor": SCORE,
            "anomaly_sensor": FLAG,
            "version": 1,
        },
    )


def message(org: str, values: list[float], transport: str = "http") -> NormalizedMessage:
    readings = tuple(Reading(S, i * 10**9, v, "double") for i, v in enumerate(values))
    return NormalizedMessage(org, D, Source("m", transport), readings)


def test_scores_become_derived_series_once(
    store: FirestoreStore, bus: RunningBus, org: str
) -> None:
    bind(store, org, "e" * 20, "ewma", {"alpha": 0.1, "warmup": 3, "clip": 4})
    scorer = Scorer(
        BindingSource(lambda: store, 0), Scoring(store, lambda: bus.bus), lambda: bus.bus
    )
    values = [10.0, 10.2, 9.8, 10.1, 9.9, 10.0, 50.0]
    assert scorer.handle(message(org, values), "k1", 1) == len(values)
    flags = store.query(Query(chunks_path(org, D, FLAG))).documents
    verdicts = [v for doc in flags for v in decode_readings(doc.data["readings"])]
    assert verdicts == [
        (3 * 10**9, False),
        (4 * 10**9, False),
        (5 * 10**9, False),
        (6 * 10**9, True),
    ]
    scorer.handle(message(org, values), "k1", 1)  # redelivered: nothing new
    assert len(store.query(Query(chunks_path(org, D, FLAG))).documents) == len(flags)
    events = bus.reader.wait_for(ANOMALIES, lambda got: len(got) >= 1)
    assert orjson.loads(events[0].data)["ts"] == 6 * 10**9
    assert scorer.handle(message(org, values, "derived"), "k2", 1) == 0


def test_remote_bindings_leave_on_inference_requests(
    store: FirestoreStore, bus: RunningBus, org: str
) -> None:
    bind(store, org, "f" * 20, "remote", {"url": "http://m", "model": "x", "window": 2})
    scorer = Scorer(
        BindingSource(lambda: store, 0), Scoring(store, lambda: bus.bus), lambda: bus.bus
    )
    scorer.handle(message(org, [1.0, 2.0]), "k1", 7)
    got = bus.reader.wait_for(
        INFERENCE_REQUESTS, lambda got: any(m.attributes["org"] == org for m in got)
    )
    request = orjson.loads(next(m for m in got if m.attributes["org"] == org).data)
    assert request["readings"] == [[0, 1.0], [10**9, 2.0]] and request["key"] == "k1"
