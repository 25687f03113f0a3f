"""The inference core over httpx's MockTransport speaking the Open Inference Protocol: scores
applied like in-process ones, a failure retried, the last attempt dead-lettered with the reason
(the real MLServer is in tests/e2e/test_inference.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from functions.inference.service import RemoteScorer
from shared.errors import Unavailable
from shared.inference.remote import RemoteModelFailed
from shared.inference.scoring import Scoring
from shared.store import Query
from shared.store.firestore import FirestoreStore
from shared.telemetry.chunks import chunks_path, decode_readings
from shared.topics import ANOMALIES
from tests.support.bus import RunningBus, bus_emulator

pytestmark = pytest.mark.process
D, S, SCORE, FLAG, DET = "d" * 20, "s" * 20, "1" * 20, "2" * 20, "9" * 20


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBus]:
    with bus_emulator(tmp_path_factory.mktemp("inference-bus"), [ANOMALIES]) as running:
        yield running


def setup(store: FirestoreStore, org: str) -> dict[str, Any]:
    store.create(
        f"orgs/{org}/detectors/{DET}",
        {
            "name": "r",
            "device": D,
            "sensor": S,
            "kind": "remote",
            "threshold": 5.0,
            "params": {
                "url": "http://models",
                "model": "m",
                "window": 2,
                "output": "score",
                "input": "input-0",
                "timeout": 1.0,
            },
            "enabled": True,
            "score_sensor": SCORE,
            "anomaly_sensor": FLAG,
            "version": 1,
        },
    )
    return {
        "org": org,
        "detector": DET,
        "readings": [[1, 1.0], [2, 2.0], [3, 9.0]],
        "key": "k",
        "received_ns": 5,
    }


def test_scores_from_the_model(store: FirestoreStore, bus: RunningBus, org: str) -> None:
    bodies: list[Any] = []

    def kserve(request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        bodies.append((str(request.url), body))
        rows = body["inputs"][0]["shape"][0]
        return httpx.Response(
            200,
            json={
                "outputs": [
                    {
                        "name": "s",
                        "shape": [rows, 1],
                        "datatype": "FP64",
                        "data": [float(i * 6) for i in range(rows)],
                    }
                ]
            },
        )

    scorer = RemoteScorer(
        store,
        Scoring(store, lambda: bus.bus),
        httpx.Client(transport=httpx.MockTransport(kserve)),
        5,
    )
    scorer.handle(setup(store, org), 1)
    ((url, body),) = bodies
    assert url == "http://models/v2/models/m/infer"
    assert body["inputs"][0] == {
        "name": "input-0",
        "shape": [2, 2],
        "datatype": "FP32",
        "data": [1.0, 2.0, 2.0, 9.0],
    }
    flags = store.query(Query(chunks_path(org, D, FLAG))).documents
    assert [v for d in flags for v in decode_readings(d.data["readings"])] == [
        (2, False),
        (3, True),
    ]


def test_failures_retry_then_park(store: FirestoreStore, bus: RunningBus, org: str) -> None:
    down = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503, text="busy")))
    scorer = RemoteScorer(store, Scoring(store, lambda: bus.bus), down, 5)
    request = setup(store, org)
    with pytest.raises(Unavailable, match="answered 503"):
        scorer.handle(request, 4)
    with pytest.raises(RemoteModelFailed, match="remote model m failed"):
        scorer.handle(request, 5)
