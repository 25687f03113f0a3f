"""Coalescing at the door: the checked bodies of concurrent requests of one organisation travel
to the bus as one fleet-batch message, published when its window is full or a few ms old."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field

import orjson

from shared.bus import Bus
from shared.errors import Unavailable

__all__ = [
    "DEFAULT_IN_FLIGHT",
    "DEFAULT_MAX_BODIES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_WINDOW_MS",
    "Coalescer",
    "Coalescing",
    "Pending",
    "encode_entry",
]

_log = logging.getLogger("stratus.ingest")

DEFAULT_WINDOW_MS = 5.0
# Raw bytes per message. A body grows up to ~12 times as normalized readings (tiny SenML
# records), and the normalizer splits a normalized message past 5 MB: under this bound a
# coalesced message is never split, so an idempotency key's readings stay in one message.
DEFAULT_MAX_BYTES = 256 * 1024
DEFAULT_MAX_BODIES = 1000
DEFAULT_IN_FLIGHT = 1


@dataclass(frozen=True, slots=True)
class Coalescing:
    """How long a window stays open at most (ms, 0 = one message per request, as without
    coalescing), how much it holds, and how many messages may be unconfirmed before new bodies
    wait for a window (0: every body waits for its window): `STRATUS_INGEST_WINDOW_MS`,
    `..._WINDOW_BYTES`, `..._WINDOW_BODIES`, `STRATUS_INGEST_IN_FLIGHT`."""

    window_ms: float = DEFAULT_WINDOW_MS
    max_bytes: int = DEFAULT_MAX_BYTES
    max_bodies: int = DEFAULT_MAX_BODIES
    in_flight: int = DEFAULT_IN_FLIGHT

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Coalescing:
        def number(name: str, default: float, low: float, high: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{name} must be a number, not {raw!r}") from None
            if not low <= value <= high:
                raise ValueError(f"{name} must be within {low:g}..{high:g}, not {raw!r}")
            return value

        return cls(
            number("STRATUS_INGEST_WINDOW_MS", DEFAULT_WINDOW_MS, 0, 1000),
            int(number("STRATUS_INGEST_WINDOW_BYTES", DEFAULT_MAX_BYTES, 1024, 4 * 1024 * 1024)),
            int(number("STRATUS_INGEST_WINDOW_BODIES", DEFAULT_MAX_BODIES, 1, 100_000)),
            int(number("STRATUS_INGEST_IN_FLIGHT", DEFAULT_IN_FLIGHT, 0, 64)),
        )

    @property
    def enabled(self) -> bool:
        return self.window_ms > 0


@dataclass(slots=True)
class Pending:
    """One checked body waiting for its message: `future` gives the message id once the bus
    confirmed the message that carries it, or raises Unavailable."""

    org: str
    device: str
    format: str
    received_ns: int
    body: bytes
    request_id: str
    idempotency_key: str | None = None
    future: Future[str] = field(default_factory=Future)


def encode_entry(pending: Pending) -> bytes:
    """One entry of a fleet batch (docs/ARCHITECTURE.md "MQTT batch messages"): `{"format",
    "received_ns", "device", "request_id", "idempotency_key"?, "payload"}`, the payload the
    body's JSON text as the device sent it (the door parsed it: splicing it keeps JSON)."""
    key = pending.idempotency_key
    return b"".join(
        (
            b'{"format":"',
            pending.format.encode(),
            b'","received_ns":',
            str(pending.received_ns).encode(),
            b',"device":',
            orjson.dumps(pending.device),
            b',"request_id":',
            orjson.dumps(pending.request_id),
            b"" if key is None else b',"idempotency_key":' + orjson.dumps(key),
            b',"payload":',
            pending.body,
            b"}",
        )
    )


@dataclass(slots=True)
class _Window:
    org: str
    deadline: float
    entries: list[Pending] = field(default_factory=list)
    size: int = 2


class Coalescer:
    """Collects pending bodies per organisation and publishes each window as one message.

    Group commit: while fewer than `in_flight` of its messages are unconfirmed, a body is
    published at once (no wait at low load); otherwise it joins its organisation's window, which
    is published when a message is confirmed, when it is full (`max_bodies`, or `max_bytes` of
    entries: by the request that fills it) or `window_ms` after it opened (by one flusher
    thread, started on first use), whichever comes first. The busier the bus, the more bodies
    share a message. A window of one body is published as today (its own format, the body as
    data); more make a `batch` message. Each body's future follows its message's: a failed
    publish fails exactly the bodies of that message. Nothing outlives the futures.
    """

    def __init__(
        self,
        bus: Bus,
        topic: str,
        transport: str,
        config: Coalescing,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus, self.topic, self.transport, self.config = bus, topic, transport, config
        self.clock = clock
        self._window = config.window_ms / 1000
        self._open: dict[str, _Window] = {}
        self._lock = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._closed = False
        self._in_flight = 0

    def add(self, pending: Pending) -> None:
        """Publish `pending` at once when the bus has room, else hold it for its organisation's
        window (publishing a window it fills)."""
        cost = len(pending.body) + 160
        full: list[_Window] = []
        with self._lock:
            if self._closed:
                raise Unavailable("ingest is shutting down; send the readings again")
            window = self._open.get(pending.org)
            if window is not None and window.size + cost > self.config.max_bytes:
                full.append(self._open.pop(pending.org))
                window = None
            if window is None:
                window = self._open[pending.org] = _Window(pending.org, self.clock() + self._window)
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="stratus-coalescer", daemon=True
                    )
                    self._thread.start()
                self._lock.notify()
            window.entries.append(pending)
            window.size += cost
            if (
                len(window.entries) >= self.config.max_bodies
                or window.size >= self.config.max_bytes
                or self._in_flight + len(full) < self.config.in_flight  # the bus has room
            ):
                full.append(self._open.pop(pending.org))
            self._in_flight += len(full)
        for each in full:
            self._publish(each)

    def flush(self) -> None:
        """Publish every open window now."""
        with self._lock:
            windows = list(self._open.values())
            self._open.clear()
            self._in_flight += len(windows)
        for window in windows:
            self._publish(window)

    def _confirmed(self) -> None:
        """A message is answered: the oldest open window goes now if the bus has room."""
        with self._lock:
            self._in_flight -= 1
            ready = None
            if self._open and self._in_flight < self.config.in_flight:
                ready = self._open.pop(next(iter(self._open)))
                self._in_flight += 1
        if ready is not None:
            self._publish(ready)

    def close(self) -> None:
        """Publish what is open and stop the flusher; later bodies get Unavailable."""
        with self._lock:
            self._closed = True
            self._lock.notify()
        self.flush()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._closed:
                    if not self._open:
                        self._lock.wait()
                        continue
                    wait = min(w.deadline for w in self._open.values()) - self.clock()
                    if wait <= 0:
                        break
                    self._lock.wait(wait)
                if self._closed:
                    return
                now = self.clock()
                due = [w for w in self._open.values() if w.deadline <= now]
                for window in due:
                    del self._open[window.org]
                self._in_flight += len(due)
            for window in due:
                self._publish(window)

    def _publish(self, window: _Window) -> None:
        """Publish a window taken out of `_open` (and counted in `_in_flight`)."""
        entries = window.entries
        data, attributes = _message(entries, self.transport)
        try:
            published = self.bus.publish(self.topic, data, attributes)
        except Exception as exc:  # refused outright: every body of this message fails
            error = (
                exc if isinstance(exc, Unavailable) else Unavailable(f"bus publish failed: {exc}")
            )
            for pending in entries:
                pending.future.set_exception(error)
            self._confirmed()
            return

        def done(future: Future[str]) -> None:
            error = future.exception()
            if error is not None:
                _log.warning("a message of %d coalesced bodies failed: %s", len(entries), error)
                for pending in entries:
                    pending.future.set_exception(error)
            else:
                message_id = future.result()
                for pending in entries:
                    pending.future.set_result(message_id)
            self._confirmed()

        published.add_done_callback(done)


def _message(entries: list[Pending], transport: str) -> tuple[bytes, dict[str, str]]:
    """The data and attributes of one window's message."""
    first = entries[0]
    if len(entries) == 1:  # as without coalescing
        attributes = {
            "org": first.org,
            "device": first.device,
            "format": first.format,
            "received_ns": str(first.received_ns),
            "transport": transport,
            "request_id": first.request_id,
        }
        if first.idempotency_key is not None:
            attributes["idempotency_key"] = first.idempotency_key
        return first.body, attributes
    attributes = {
        "org": first.org,
        "format": "batch",
        "received_ns": str(max(p.received_ns for p in entries)),
        "transport": transport,
        "request_id": f"{first.request_id}+{len(entries) - 1}",
    }
    if all(p.device == first.device for p in entries):
        attributes["device"] = first.device
    return b"[" + b",".join(encode_entry(p) for p in entries) + b"]", attributes
