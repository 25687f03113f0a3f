"""A normalized message larger than the bus takes is published in parts, no reading lost."""

from __future__ import annotations

import orjson

from functions.normalizer.service import PART_BYTES, encoded_parts
from shared.bus import MAX_MESSAGE_BYTES
from shared.telemetry.model import NormalizedMessage, Reading, Source


def _message(count: int) -> NormalizedMessage:
    readings = tuple(Reading(f"s{n % 7}", n, float(n), "double") for n in range(count))
    return NormalizedMessage("o1", "d1", Source("req-1", "mqtt"), readings)


def test_a_small_message_is_one_part() -> None:
    message = _message(10)
    assert encoded_parts(message, PART_BYTES) == [message.to_bytes()]


def test_a_large_message_is_split_into_parts_that_fit_and_keep_every_reading() -> None:
    message = _message(5000)
    limit = len(message.to_bytes()) // 5
    parts = encoded_parts(message, limit)
    assert len(parts) > 5 and all(len(part) <= limit for part in parts)
    decoded = [NormalizedMessage.from_bytes(part) for part in parts]
    assert [r.ts for m in decoded for r in m.readings] == list(range(5000))
    assert {(m.org, m.device, m.source) for m in decoded} == {("o1", "d1", Source("req-1", "mqtt"))}


def test_a_lone_reading_is_never_split() -> None:
    message = NormalizedMessage(
        "o1", "d1", Source("r", "http"), (Reading("s", 1, {"v": "x" * 100}, "object"),)
    )
    assert encoded_parts(message, 10) == [message.to_bytes()]
    assert orjson.loads(encoded_parts(message, 10)[0])["readings"][0]["ts"] == 1
    assert PART_BYTES < MAX_MESSAGE_BYTES
