"""`MemoryBus`: the bus port in memory, for fast unit tests of cores that publish (no process).

It keeps what the Pub/Sub adapter shows (tests/shared/bus/test_contract.py holds it to the adapter
on our emulator and Google's): a future per message resolving to a unique id; attribute names the
client reserves refused at once; a missing topic, an empty message, over 100 attributes, an
attribute name over 256 bytes or a value over 1024 bytes failing through the future with
Unavailable; Unavailable at once when closed. `fail_next` makes the next publishes fail with
Unavailable, for the bad paths of a core.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass

from shared.errors import Unavailable

__all__ = ["MemoryBus", "Published"]

_RESERVED = frozenset({"topic", "data", "ordering_key", "retry", "timeout"})
MAX_KEY_BYTES, MAX_VALUE_BYTES = 256, 1024


@dataclass(frozen=True, slots=True)
class Published:
    """One message the bus accepted."""

    id: str
    topic: str
    data: bytes
    attributes: dict[str, str]


class MemoryBus:
    """`Bus` in memory. `topics` lists the topics that exist (None: every topic exists)."""

    def __init__(self, topics: Iterable[str] | None = None) -> None:
        self.topics = None if topics is None else set(topics)
        self.published: list[Published] = []
        self.closed = False
        self._failures = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def fail_next(self, count: int = 1) -> None:
        """Make the next `count` publishes fail (through their futures) with Unavailable."""
        self._failures = count

    def messages(self, topic: str) -> list[Published]:
        """What was published to `topic`, in order."""
        return [message for message in self.published if message.topic == topic]

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> Future[str]:
        clash = _RESERVED.intersection(attributes)
        if clash:
            raise ValueError(f"attribute names reserved by the Pub/Sub client: {sorted(clash)}")
        if self.closed:
            raise Unavailable(f"bus publish to {topic!r} failed: the bus is closed")
        if not isinstance(data, bytes):
            raise Unavailable(f"bus publish to {topic!r} failed: data must be bytes")
        result: Future[str] = Future()
        with self._lock:
            problem = self._problem(topic, data, attributes)
            if problem is None:
                message_id = str(next(self._ids))
                self.published.append(Published(message_id, topic, data, dict(attributes)))
                result.set_result(message_id)
            else:
                result.set_exception(Unavailable(f"bus publish to {topic!r} failed: {problem}"))
        return result

    def _problem(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str | None:
        if self._failures:
            self._failures -= 1
            return "an outage the test asked for"
        if self.topics is not None and topic not in self.topics:
            return f"404 Topic not found: {topic}"
        if not data and not attributes:
            return "400 a message needs data or attributes"
        if len(attributes) > 100:
            return f"400 {len(attributes)} attributes; the maximum allowed is 100"
        for key, value in attributes.items():
            if not isinstance(key, str) or not isinstance(value, str):
                return "attribute names and values must be strings"
            if len(key.encode()) > MAX_KEY_BYTES:
                return f"400 attribute name over {MAX_KEY_BYTES} bytes: {key[:40]!r}..."
            if len(value.encode()) > MAX_VALUE_BYTES:
                return f"400 attribute {key!r} is over {MAX_VALUE_BYTES} bytes"
        return None

    def close(self) -> None:
        self.closed = True
