"""Streaming HTTP responses and Server-Sent Events: a body written while the client listens.

A function answers a `StreamingResponse` (a `Response` whose body is an iterator of byte chunks)
and the platform adapter sends each chunk as it comes: the emulator's host (WSGI on granian) and
functions-framework (Flask, Cloud Run) stream it; an OpenWhisk web action cannot stream and
answers 501 instead (`StreamingUnsupported`). `event_stream` turns a `Feed` (where new events
come from) into an SSE body with `retry`, heartbeats and a bounded lifetime, after which an
`EventSource` reconnects with `Last-Event-ID` (docs/ARCHITECTURE.md "Streaming responses").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from shared.errors import StratusError
from shared.http import Response, dumps
from shared.logs import request_id_var

__all__ = [
    "SSE_HEADERS",
    "Feed",
    "SseEvent",
    "StreamSettings",
    "StreamingResponse",
    "StreamingUnsupported",
    "event_stream",
    "last_event_id",
    "sse_response",
]

_log = logging.getLogger("stratus.streaming")

SSE_HEADERS = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",  # proxies (nginx, Cloud Run's front end) must not buffer events
}


class StreamingUnsupported(StratusError):
    """The platform cannot stream a response body (OpenWhisk web actions)."""

    status, code = 501, "not_implemented"


@dataclass(slots=True)
class StreamingResponse(Response):
    """A response whose body is produced while it is sent: `chunks` yields bytes.

    Adapters send no content-length and call `close()` when the client goes away or the body
    ends, so the producer's `finally` blocks run.
    """

    chunks: Iterable[bytes] = ()

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if callable(close):
            close()


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One Server-Sent Event: `data` is sent as JSON, `id` becomes the client's Last-Event-ID."""

    data: Any
    id: str | None = None
    event: str | None = None

    def encode(self) -> bytes:
        lines = []
        if self.id is not None:
            lines.append(f"id: {_one_line(self.id)}")
        if self.event is not None:
            lines.append(f"event: {_one_line(self.event)}")
        lines.append("data: " + dumps(self.data).decode())
        return ("\n".join(lines) + "\n\n").encode()


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


class Feed(Protocol):
    """Where a stream's events come from; it keeps its own cursor.

    `next_events(timeout)` returns the events that became available, waiting at most `timeout`
    seconds for some (a polling feed sleeps then reads; a push feed waits on its queue). Raising
    ends the stream with an `error` event; the client reconnects from its Last-Event-ID.
    """

    def next_events(self, timeout: float) -> list[SseEvent]: ...


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """How a stream behaves: poll interval, heartbeat period, lifetime and reconnect delay."""

    poll_seconds: float = 1.0
    heartbeat_seconds: float = 15.0
    max_seconds: float = 300.0
    retry_ms: int = 2000

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> StreamSettings:
        """STRATUS_STREAM_POLL_MS, STRATUS_STREAM_HEARTBEAT_SECONDS, STRATUS_STREAM_MAX_SECONDS."""
        from shared.settings import env_int

        return cls(
            poll_seconds=env_int(environ, "STRATUS_STREAM_POLL_MS", 1000, minimum=10) / 1000,
            heartbeat_seconds=float(
                env_int(environ, "STRATUS_STREAM_HEARTBEAT_SECONDS", 15, minimum=1)
            ),
            max_seconds=float(env_int(environ, "STRATUS_STREAM_MAX_SECONDS", 300, minimum=1)),
        )


def event_stream(
    feed: Feed,
    config: StreamSettings,
    *,
    clock: Callable[[], float] = time.monotonic,
    request_id: str | None = None,
) -> Iterator[bytes]:
    """The SSE body: `retry`, then the feed's events as they come, a `: heartbeat` comment when
    nothing was sent for `heartbeat_seconds`, and the end after `max_seconds` (the client
    reconnects with Last-Event-ID). A failing feed ends the stream with an `error` event
    (`{"status", "message"}`: 403 means stop, 503 means reconnect later). The
    feed runs with `request_id` in the logs' context (the server pulls the body after the
    request's own context is gone)."""
    started = last_sent = clock()
    yield f"retry: {config.retry_ms}\n\n".encode()
    while True:
        now = clock()
        left = config.max_seconds - (now - started)
        if left <= 0:
            return
        wait = min(
            config.poll_seconds, left, max(0.0, config.heartbeat_seconds - (now - last_sent))
        )
        token = request_id_var.set(request_id)
        try:
            events = feed.next_events(wait)
        except Exception as exc:
            known = isinstance(exc, StratusError)
            message = exc.message if isinstance(exc, StratusError) else "internal error"
            status = exc.status if isinstance(exc, StratusError) else 500
            _log.warning("stream ended by its feed: %s", exc, exc_info=not known)
            yield SseEvent({"status": status, "message": message}, event="error").encode()
            return
        finally:
            request_id_var.reset(token)
        if events:
            yield b"".join(event.encode() for event in events)
            last_sent = clock()
        elif clock() - last_sent >= config.heartbeat_seconds:
            yield b": heartbeat\n\n"
            last_sent = clock()


def sse_response(
    feed: Feed, config: StreamSettings, headers: Mapping[str, str] | None = None
) -> StreamingResponse:
    """A 200 `text/event-stream` response streaming `feed`."""
    out = dict(SSE_HEADERS)
    if headers:
        out.update(headers)
    body = event_stream(feed, config, request_id=request_id_var.get())
    return StreamingResponse(status=200, headers=out, chunks=body)


def last_event_id(headers: Mapping[str, str], query: Mapping[str, list[str]]) -> str | None:
    """The id to resume after: the `last-event-id` header an EventSource sends on reconnect, or a
    `last_event_id` query parameter (a first connection cannot set headers from a browser)."""
    value = headers.get("last-event-id") or (query.get("last_event_id") or [""])[0]
    value = value.strip()
    return value or None
