"""The reading feed on the store port (in memory and on the Firestore emulator): readings in commit
order after a cursor, resumption from any event id without a gap or a repeat, the late bound, the
per-poll cap, access re-checks."""

from __future__ import annotations

import pytest

from functions.streams.feed import Cursor, ReadingFeed, Target, commit_us
from shared.errors import BadRequest, NotFound
from shared.store import Store
from shared.telemetry.chunks import chunks_path, encode_readings

S = 10**9
DEVICE, SENSOR, OTHER = "d" * 20, "a" * 20, "b" * 20


def store_chunk(store: Store, org: str, sensor: str, name: str, readings, received: int):
    """A chunk as the writer creates it; returns its document."""
    path = f"{chunks_path(org, DEVICE, sensor)}/{name}"
    store.create(
        path,
        {
            "bucket": 0,
            "first": readings[0][0],
            "last": readings[-1][0],
            "count": len(readings),
            "readings": encode_readings(readings),
            "type": "double",
            "received": received,
            "message": name,
            "transport": "http",
        },
    )
    document = store.get(path)
    assert document is not None
    return document


def feed(store, org, cursor, sensors=(SENSOR,), **options) -> ReadingFeed:
    targets = [Target(org, DEVICE, sensor) for sensor in sensors]
    return ReadingFeed(store, lambda: targets, cursor, sleep=lambda s: None, **options)


def values(events) -> list:
    return [event.data["value"] for event in events]


def test_readings_in_commit_order_then_only_new_ones(store: Store, org: str) -> None:
    import time

    now = time.time_ns()
    before = store_chunk(store, org, SENSOR, "000000000001-old", [(1 * S, 0.0)], now)
    stream = feed(store, org, Cursor.after_time(commit_us(before)))  # opened after `before`
    assert stream.poll() == []
    store_chunk(store, org, SENSOR, "000000000001-b", [(5 * S, 1.0), (6 * S, 2.0)], now)
    store_chunk(store, org, OTHER, "000000000001-c", [(2 * S, 3.0)], now)  # not a target
    store_chunk(store, org, SENSOR, "000000000001-a", [(3 * S, 4.0)], now)  # older ts, later
    events = stream.poll()
    assert values(events) == [1.0, 2.0, 4.0]  # commit order, not timestamp order
    assert [e.data["timestamp"] for e in events] == [5 * S, 6 * S, 3 * S]
    assert events[0].data == {
        "device_id": DEVICE,
        "sensor_id": SENSOR,
        "timestamp": 5 * S,
        "value": 1.0,
    }
    assert all(e.event == "reading" for e in events)
    assert stream.poll() == []
    assert stream.cursor == Cursor.decode(events[-1].id)


def test_resuming_after_any_event_continues_without_gap_or_repeat(store, org) -> None:
    import time

    now = time.time_ns()
    start = store_chunk(store, org, SENSOR, "000000000001-0", [(0, -1.0)], now)
    for n in range(4):
        readings = [((10 * n + i) * S, float(10 * n + i)) for i in range(3)]
        store_chunk(store, org, SENSOR if n % 2 else OTHER, f"000000000001-{n + 1}", readings, now)
    whole = values(
        feed(store, org, Cursor.after_time(commit_us(start)), sensors=(SENSOR, OTHER)).poll()
    )
    assert len(whole) == 12
    everything = feed(
        store, org, Cursor.after_time(commit_us(start)), sensors=(SENSOR, OTHER)
    ).poll()
    for cut in range(len(everything)):  # disconnect after any event, resume from its id
        resumed = feed(store, org, Cursor.decode(everything[cut].id), sensors=(SENSOR, OTHER))
        assert values(everything[: cut + 1]) + values(resumed.poll()) == whole


def test_the_cap_and_the_late_bound(store, org) -> None:
    import time

    now = time.time_ns()
    start = store_chunk(store, org, SENSOR, "000000000001-0", [(0, 0.0)], now)
    store_chunk(store, org, SENSOR, "000000000001-1", [(i * S, float(i)) for i in range(10)], now)
    capped = feed(store, org, Cursor.after_time(commit_us(start)), max_events=4)
    assert [values(capped.poll()) for _ in range(4)] == [
        [0.0, 1.0, 2.0, 3.0],
        [4.0, 5.0, 6.0, 7.0],
        [8.0, 9.0],
        [],
    ]
    # a chunk stored long after the platform received it (an outage) is past the late bound
    store_chunk(store, org, SENSOR, "000000000001-2", [(99 * S, 99.0)], now - 3600 * S)
    assert capped.poll() == []
    generous = feed(store, org, Cursor.after_time(commit_us(start)), late_ns=7200 * S)
    assert 99.0 in values(generous.poll())


def test_targets_are_checked_again_and_can_end_the_stream(store, org) -> None:
    clock = [0.0]
    calls = []

    def targets():
        calls.append(clock[0])
        if len(calls) > 1:
            raise NotFound("no sensor")
        return [Target(org, DEVICE, SENSOR)]

    stream = ReadingFeed(
        store, targets, Cursor(0), recheck_seconds=5, clock=lambda: clock[0], sleep=lambda s: None
    )
    stream.next_events(0.1)
    clock[0] = 6
    with pytest.raises(NotFound):
        stream.next_events(0.1)


@pytest.mark.parametrize(
    "text",
    ["", "1.2.3", "x.aaaaaaaaaaaaaaaaaaaa.c.0", "1.short.c.0", "1.aaaaaaaaaaaaaaaaaaaa.c/d.0"],
)
def test_foreign_event_ids_are_400(text: str) -> None:
    with pytest.raises(BadRequest) as caught:
        Cursor.decode(text)
    assert caught.value.field == "last-event-id"


def test_cursor_round_trip() -> None:
    cursor = Cursor(1_790_000_000_000_000, "a" * 20, "000000496111-0123456789abcdef0123-1", 41)
    assert Cursor.decode(cursor.encode()) == cursor
