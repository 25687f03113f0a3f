"""The SSE body `event_stream` builds from a feed: retry first, events, heartbeats, lifetime,
errors; the wire format of an event; where the resumption id is read from."""

from __future__ import annotations

import logging

import pytest

from shared.errors import Unavailable
from shared.logs import request_id_var
from shared.streaming import (
    SSE_HEADERS,
    SseEvent,
    StreamingResponse,
    StreamSettings,
    event_stream,
    last_event_id,
    sse_response,
)


class Clock:
    """A fake monotonic clock the fake feed advances by the time it waits."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ScriptedFeed:
    """Hands out one scripted batch per call; waits (on the fake clock) when it has none."""

    def __init__(self, clock: Clock, batches: list[list[SseEvent] | Exception]) -> None:
        self.clock, self.batches, self.waits = clock, list(batches), []

    def next_events(self, timeout: float) -> list[SseEvent]:
        self.waits.append(timeout)
        batch = self.batches.pop(0) if self.batches else []
        if isinstance(batch, Exception):
            raise batch
        if not batch:
            self.clock.now += timeout
        return batch


CONFIG = StreamSettings(poll_seconds=1.0, heartbeat_seconds=3.0, max_seconds=10.0, retry_ms=500)


def test_event_wire_format() -> None:
    event = SseEvent({"v": 1.5, "s": "a\nb"}, id="17", event="reading")
    assert event.encode() == b'id: 17\nevent: reading\ndata: {"v":1.5,"s":"a\\nb"}\n\n'
    assert SseEvent([1]).encode() == b"data: [1]\n\n"
    # an id or event name cannot break out of its line
    assert SseEvent(1, id="a\nb", event="x\ry").encode() == b"id: a b\nevent: x y\ndata: 1\n\n"


def test_retry_then_events_then_heartbeats_then_the_end() -> None:
    clock = Clock()
    first, second = SseEvent(1, id="1"), SseEvent(2, id="2")
    feed = ScriptedFeed(clock, [[first, second]])
    body = list(event_stream(feed, CONFIG, clock=clock))
    assert body[0] == b"retry: 500\n\n"
    assert body[1] == first.encode() + second.encode()  # one write for a batch
    heartbeats = body[2:]
    # idle for the rest of the 10 s lifetime: a heartbeat every 3 s, then the body ends
    assert heartbeats == [b": heartbeat\n\n"] * 3
    assert clock.now == pytest.approx(110.0)
    assert max(feed.waits) <= CONFIG.poll_seconds


def test_the_feed_never_waits_past_a_due_heartbeat_or_the_end() -> None:
    clock = Clock()
    config = StreamSettings(poll_seconds=5.0, heartbeat_seconds=2.0, max_seconds=3.0)
    feed = ScriptedFeed(clock, [])
    body = list(event_stream(feed, config, clock=clock))
    assert body[1:] == [b": heartbeat\n\n"]
    assert feed.waits[:2] == [2.0, 1.0]  # heartbeat due at 2 s, lifetime over at 3 s


def test_a_failing_feed_ends_the_stream_with_an_error_event(caplog) -> None:
    clock = Clock()
    feed = ScriptedFeed(clock, [[SseEvent(1, id="1")], Unavailable("store down")])
    with caplog.at_level(logging.WARNING, "stratus.streaming"):
        body = list(event_stream(feed, CONFIG, clock=clock))
    assert body[-1] == b'event: error\ndata: {"status":503,"message":"store down"}\n\n'
    assert "store down" in caplog.text


def test_an_unexpected_feed_error_does_not_leak_its_details() -> None:
    clock = Clock()
    feed = ScriptedFeed(clock, [RuntimeError("secret detail")])
    body = list(event_stream(feed, CONFIG, clock=clock))
    assert body[-1] == b'event: error\ndata: {"status":500,"message":"internal error"}\n\n'


def test_the_feed_runs_with_the_request_id_of_the_request_that_opened_the_stream() -> None:
    seen = []

    class Feed:
        def next_events(self, timeout: float) -> list[SseEvent]:
            seen.append(request_id_var.get())
            raise Unavailable("stop")

    token = request_id_var.set("req-1")
    try:
        response = sse_response(Feed(), CONFIG)  # built inside the request
    finally:
        request_id_var.reset(token)
    list(response)  # the server pulls the body later, outside the request's context
    assert seen == ["req-1"]
    assert request_id_var.get() is None


def test_sse_response_headers_and_close_reaches_the_producer() -> None:
    clock = Clock()
    response = sse_response(ScriptedFeed(clock, []), CONFIG, {"x-extra": "1"})
    assert isinstance(response, StreamingResponse)
    assert response.status == 200 and response.body == b""
    assert response.headers == {**SSE_HEADERS, "x-extra": "1"}
    chunks = iter(response)
    assert next(chunks) == b"retry: 500\n\n"
    response.close()
    assert list(chunks) == []  # the generator is finished


def test_last_event_id_from_the_header_or_the_query() -> None:
    assert last_event_id({"last-event-id": " 42 "}, {}) == "42"
    assert last_event_id({}, {"last_event_id": ["7"]}) == "7"
    assert last_event_id({"last-event-id": "9"}, {"last_event_id": ["7"]}) == "9"
    assert last_event_id({"last-event-id": ""}, {"last_event_id": [" "]}) is None
    assert last_event_id({}, {}) is None


def test_settings_from_the_environment() -> None:
    config = StreamSettings.from_env(
        {
            "STRATUS_STREAM_POLL_MS": "250",
            "STRATUS_STREAM_HEARTBEAT_SECONDS": "5",
            "STRATUS_STREAM_MAX_SECONDS": "60",
        }
    )
    assert (config.poll_seconds, config.heartbeat_seconds, config.max_seconds) == (0.25, 5, 60)
    assert StreamSettings.from_env({}) == StreamSettings()
    with pytest.raises(ValueError, match="STRATUS_STREAM_POLL_MS"):
        StreamSettings.from_env({"STRATUS_STREAM_POLL_MS": "fast"})
