"""The writer's pure parts: commits that Firestore accepts, when the readings were received, and
the dead letter of a message it refuses."""

from __future__ import annotations

import orjson
import pytest

from functions.writer.service import MAX_BATCH_WRITES, _batches, dead_letter_body, received_ns
from shared.errors import ValidationError
from shared.events import Message
from shared.telemetry.chunks import BUCKET_NS, plan
from shared.telemetry.model import NormalizedMessage, Reading, Source

H = BUCKET_NS
T0 = 493_000 * H
RECEIVED = T0 + 7 * H


def r(sensor: str, ts: int, value: object, type_: str = "double") -> Reading:
    return Reading(sensor, ts, value, type_)


def message(*readings: Reading) -> NormalizedMessage:
    return NormalizedMessage("o1", "d1", Source("req-1", "http"), tuple(readings))


def test_commits_stay_within_firestores_batch_limits() -> None:
    readings = [r("s1", T0 + i * H, float(i)) for i in range(1_200)]  # one bucket each
    chunks = plan(message(*readings), RECEIVED)
    groups = _batches(chunks)
    assert [len(group) for group in groups] == [MAX_BATCH_WRITES, MAX_BATCH_WRITES, 200]
    assert [c for group in groups for c in group] == chunks
    assert _batches(chunks[:3]) == [chunks[:3]]


@pytest.mark.parametrize(
    ("attributes", "publish_time", "expected"),
    [
        ({"received_ns": "1790000000123456789"}, "", 1_790_000_000_123_456_789),
        ({}, "2026-09-21T12:00:00.123456Z", 1_789_992_000_123_456_000),
        ({"received_ns": "soon"}, "2026-09-21T12:00:00Z", 1_789_992_000_000_000_000),
        ({}, "not a time", 0),
        ({}, "", 0),
    ],
)
def test_received_time_comes_from_ingest_then_the_publish_time(
    attributes: dict[str, str], publish_time: str, expected: int
) -> None:
    assert received_ns(attributes, publish_time) == expected


def test_a_dead_letter_body_keeps_the_whole_reason_the_original_and_the_problems() -> None:
    refused = Message("m1", b'{"org": 1}', {"received_ns": "12"})
    error = ValidationError("é" * 2000, field="org", problems=[{"field": "org"}])
    body = orjson.loads(dead_letter_body(refused, error))
    assert body == {
        "reason": "é" * 2000,
        "where": "org",
        "stage": "writer",
        "received_ns": 12,
        "original": {"org": 1},
        "problems": [{"field": "org"}],
    }
