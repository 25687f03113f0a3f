"""The chunk layout: ids, buckets, encoding, splitting and determinism of a message's documents."""

from __future__ import annotations

import orjson

from shared.telemetry.chunks import (
    BUCKET_NS,
    bucket_of,
    decode_readings,
    encode_readings,
    message_key,
    plan,
)
from shared.telemetry.model import NormalizedMessage, Reading, Source

H = BUCKET_NS
T0 = 493_000 * H  # the start of an hour bucket (2026)
RECEIVED = T0 + 7 * H


def message(*readings: Reading, message_id: str = "req-1") -> NormalizedMessage:
    return NormalizedMessage("o1", "d1", Source(message_id, "http"), tuple(readings))


def r(sensor: str, ts: int, value: object, type_: str = "double") -> Reading:
    return Reading(sensor, ts, value, type_)


def test_bucket_is_the_hour_since_the_epoch() -> None:
    assert bucket_of(0) == 0
    assert bucket_of(H - 1) == 0
    assert bucket_of(H) == 1
    assert bucket_of(1_790_000_000_000_000_000) == 1_790_000_000_000_000_000 // 3_600_000_000_000


def test_one_document_per_sensor_and_hour_bucket() -> None:
    msg = message(
        r("s1", T0 + 5, 1.0),
        r("s2", T0 + 6, 2, "long"),
        r("s1", T0 + H + 1, 3.0),
        r("s1", T0 + 1, 4.0),
    )
    chunks = plan(msg, RECEIVED)
    key = message_key(msg, RECEIVED)
    by_path = {chunk.path: chunk.data for chunk in chunks}
    first = f"orgs/o1/devices/d1/sensors/s1/chunks/{T0 // H:012d}-{key}"
    second = f"orgs/o1/devices/d1/sensors/s1/chunks/{T0 // H + 1:012d}-{key}"
    other = f"orgs/o1/devices/d1/sensors/s2/chunks/{T0 // H:012d}-{key}"
    assert set(by_path) == {first, second, other}
    assert decode_readings(by_path[first]["readings"]) == [(T0 + 1, 4.0), (T0 + 5, 1.0)]
    assert by_path[first] | {"readings": None} == {
        "bucket": T0 // H,
        "first": T0 + 1,
        "last": T0 + 5,
        "count": 2,
        "readings": None,
        "type": "double",
        "received": RECEIVED,
        "message": "req-1",
        "transport": "http",
    }
    assert decode_readings(by_path[second]["readings"]) == [(T0 + H + 1, 3.0)]
    assert decode_readings(by_path[other]["readings"]) == [(T0 + 6, 2)]
    assert [chunk.path for chunk in chunks] == sorted(by_path)


def test_a_message_of_several_devices_writes_under_each_device() -> None:
    """A bridge batch: the message has no device, each reading names its own; sensors of the
    same id under two devices stay apart, with their own types."""
    msg = NormalizedMessage(
        "o1",
        "",
        Source("bridge-1", "mqtt"),
        (
            Reading("s1", T0 + 1, 1.0, "double", device="d1"),
            Reading("s1", T0 + 2, 2, "long", device="d2"),
            Reading("s1", T0 + 3, 3.0, "double", device="d1"),
        ),
    )
    key = message_key(msg, RECEIVED)
    by_path = {chunk.path: chunk.data for chunk in plan(msg, RECEIVED)}
    one = f"orgs/o1/devices/d1/sensors/s1/chunks/{T0 // H:012d}-{key}"
    two = f"orgs/o1/devices/d2/sensors/s1/chunks/{T0 // H:012d}-{key}"
    assert set(by_path) == {one, two}
    assert decode_readings(by_path[one]["readings"]) == [(T0 + 1, 1.0), (T0 + 3, 3.0)]
    assert decode_readings(by_path[two]["readings"]) == [(T0 + 2, 2)]
    assert (by_path[one]["type"], by_path[two]["type"]) == ("double", "long")


def test_a_timestamp_repeated_in_one_message_keeps_its_last_value() -> None:
    chunks = plan(message(r("s1", T0, 1.0), r("s1", T0, 2.0), r("s1", T0 + 1, 3.0)), RECEIVED)
    assert len(chunks) == 1
    assert chunks[0].data["count"] == 2
    assert decode_readings(chunks[0].data["readings"]) == [(T0, 2.0), (T0 + 1, 3.0)]


def test_the_same_message_always_gives_the_same_documents() -> None:
    readings = [r("s1", T0 + i * 10**9, float(i)) for i in range(50)]
    first = plan(message(*readings), RECEIVED)
    again = plan(message(*readings), RECEIVED)
    assert [(c.path, c.data) for c in first] == [(c.path, c.data) for c in again]


def test_messages_that_differ_in_anything_get_different_ids() -> None:
    base = message(r("s1", T0, 1.0))
    key = message_key(base, RECEIVED)
    assert message_key(message(r("s1", T0, 1.5)), RECEIVED) != key
    assert message_key(message(r("s1", T0, 1.0), message_id="req-2"), RECEIVED) != key
    assert message_key(base, RECEIVED + 1) != key
    assert len(key) == 20 and all(c in "0123456789abcdef" for c in key)


def test_typed_values_survive_the_encoding() -> None:
    values = [21.5, 21.0, -3, 2**62, True, False, "abc", "", {"x": [1, 2.5, None]}, [1, "a"]]
    pairs = [(T0 + i, value) for i, value in enumerate(values)]
    decoded = decode_readings(encode_readings(pairs))
    assert decoded == pairs
    assert [type(value) for _, value in decoded] == [type(value) for value in values]


def test_a_chunk_too_big_for_one_document_is_split_with_suffixes() -> None:
    readings = [r("s1", T0 + i, "x" * 100, "string") for i in range(100)]
    msg = message(*readings)
    chunks = plan(msg, RECEIVED, max_bytes=2_000)
    key = message_key(msg, RECEIVED)
    base = f"orgs/o1/devices/d1/sensors/s1/chunks/{T0 // H:012d}-{key}"
    paths = {chunk.path for chunk in chunks}
    assert base in paths
    assert paths == {base} | {f"{base}-{i}" for i in range(1, len(chunks))}
    assert len(chunks) > 5
    back = sorted(
        reading for chunk in chunks for reading in decode_readings(chunk.data["readings"])
    )
    assert back == [(reading.ts, reading.value) for reading in readings]
    for chunk in chunks:
        assert len(chunk.data["readings"]) <= 2_000
        pairs = decode_readings(chunk.data["readings"])
        assert (chunk.data["first"], chunk.data["last"], chunk.data["count"]) == (
            pairs[0][0],
            pairs[-1][0],
            len(pairs),
        )


def test_a_single_reading_bigger_than_the_limit_still_gets_a_document() -> None:
    chunks = plan(message(r("s1", T0, "y" * 5_000, "string")), RECEIVED, max_bytes=1_000)
    assert len(chunks) == 1 and chunks[0].data["count"] == 1


def test_a_default_sized_chunk_stays_far_below_firestores_document_limit() -> None:
    readings = [r("s1", T0 + i, {"payload": "z" * 900}, "object") for i in range(1500)]
    chunks = plan(message(*readings), RECEIVED)
    assert len(chunks) >= 3
    assert all(len(chunk.data["readings"]) < 1024 * 1024 - 100_000 for chunk in chunks)


def test_chunk_readings_are_compact_json() -> None:
    chunk = plan(message(r("s1", T0, 1.5), r("s1", T0 + 1, 2.5)), RECEIVED)[0]
    assert chunk.data["readings"] == orjson.dumps([[T0, 1.5], [T0 + 1, 2.5]])


def test_a_keyed_request_gets_the_same_chunks_alone_or_coalesced_with_others() -> None:
    keyed = [r("s1", T0 + 1, 1.0), r("s1", T0 + H + 2, 2.0), r("s2", T0 + 3, 3.0)]
    alone = plan(message(*keyed), RECEIVED, idempotency_key="batch-7")
    shared = [
        Reading("s9", T0 + 4, 9.0, "double", None, "d2"),  # another device's request, no key
        *(Reading(x.sensor, x.ts, x.value, x.type, None, "d1", "batch-7") for x in keyed),
        Reading("s1", T0 + 5, 5.0, "double", None, "d1"),  # the same device, another request
    ]
    coalesced = NormalizedMessage("o1", "", Source("req-1+2", "http"), tuple(shared))
    chunks = plan(coalesced, RECEIVED + 99)
    by_key = [(c.path, c.data["readings"], c.data["count"]) for c in chunks if c.keyed]
    assert by_key == [(c.path, c.data["readings"], c.data["count"]) for c in alone]
    assert all(c.keyed for c in alone)
    plain = [c for c in chunks if not c.keyed]
    assert sorted(c.path.split("/")[3] for c in plain) == ["d1", "d2"]  # one chunk each
    assert sum(c.count for c in chunks) == len(shared)
