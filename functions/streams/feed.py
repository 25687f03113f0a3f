"""Core of the streams function: each newly stored reading of some sensors, in the order the
store committed them, from a cursor that a reconnecting client hands back (Last-Event-ID).

Readings are read from the writer's chunks by polling: every poll asks each sensor's chunks for
those the platform *received* since `cursor - late` (the `received` index) and keeps the ones
*committed* after the cursor (`create_time`), sorted by (commit time, sensor, chunk, position).
An event's id is that position, so resuming after it continues exactly where the client left:
no reading is skipped or repeated, provided its chunk was stored within `late` of its
reception (STRATUS_STREAM_LATE_SECONDS; a chunk stored later, after a long outage, is not
streamed: query it). The chunks are create-only, so a chunk's commit time never changes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.errors import BadRequest
from shared.store import Document, Filter, Query, Store
from shared.streaming import SseEvent
from shared.telemetry.chunks import chunks_path, decode_readings

__all__ = ["Cursor", "ReadingFeed", "commit_us"]

_CURSOR = re.compile(r"^(\d{1,20})\.([0-9a-f]{20})\.([0-9A-Za-z_-]{1,80})\.(\d{1,9})$")
_PAGE = 300


def commit_us(document: Document) -> int:
    """A chunk's commit time in microseconds since the epoch (exact, from its create_time)."""
    moment = document.create_time
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """The position of the last reading sent: commit time, sensor, chunk id, index in chunk."""

    commit: int
    sensor: str = ""
    chunk: str = ""
    index: int = -1

    @classmethod
    def after_time(cls, commit: int) -> Cursor:
        """Past every reading committed at or before `commit` (us): where a new stream starts."""
        return cls(commit, "~")  # "~" sorts after every sensor id

    def encode(self) -> str:
        return f"{self.commit}.{self.sensor}.{self.chunk}.{self.index}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """A cursor from an event id this function sent; 400 (field `last-event-id`) else."""
        found = _CURSOR.match(text)
        if not found:
            raise BadRequest(
                "last-event-id is not an event id of this stream", field="last-event-id"
            )
        return cls(int(found[1]), found[2], found[3], int(found[4]))


@dataclass(frozen=True, slots=True)
class Target:
    """One readable sensor of the stream."""

    org: str
    device: str
    sensor: str


class ReadingFeed:
    """A `shared.streaming.Feed` of readings of `targets()` after `cursor`.

    `targets` is asked again every `recheck_seconds` (it also re-checks the caller's access and
    raises to end the stream when it is gone); `late_ns` bounds how long after its reception a
    chunk may be stored and still be streamed; `max_events` caps one poll's events (the cursor
    continues at the next).
    """

    def __init__(
        self,
        store: Store,
        targets: Callable[[], Sequence[Target]],
        cursor: Cursor,
        *,
        late_ns: int = 30 * 10**9,
        recheck_seconds: float = 10.0,
        max_events: int = 5000,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self._targets_of = targets
        self.cursor = cursor
        self.late_ns = late_ns
        self.recheck_seconds = recheck_seconds
        self.max_events = max_events
        self.clock = clock
        self.sleep = sleep
        self._targets = list(targets())
        self._checked = clock()

    def next_events(self, timeout: float) -> list[SseEvent]:
        if self.clock() - self._checked >= self.recheck_seconds:
            self._targets = list(self._targets_of())
            self._checked = self.clock()
        events = self.poll()
        if not events:
            self.sleep(timeout)
        return events

    def poll(self) -> list[SseEvent]:
        """The readings committed after the cursor, in order (at most `max_events`)."""
        found: list[tuple[Cursor, Target, Any, Any]] = []
        for target in self._targets:
            for chunk in self._chunks(target):
                commit = commit_us(chunk)
                if commit < self.cursor.commit:
                    continue  # sent before (or by an earlier stream of the client)
                readings = decode_readings(chunk.data.get("readings", b"[]"))
                for index, (ts, value) in enumerate(readings):
                    position = Cursor(commit, target.sensor, chunk.id, index)
                    if position > self.cursor:
                        found.append((position, target, ts, value))
        found.sort(key=lambda item: item[0])
        events = []
        for position, target, ts, value in found[: self.max_events]:
            data = {"device_id": target.device, "sensor_id": target.sensor, "timestamp": ts,
                    "value": value}  # fmt: skip
            events.append(SseEvent(data, id=position.encode(), event="reading"))
        if events:
            self.cursor = found[min(len(found), self.max_events) - 1][0]
        return events

    def _chunks(self, target: Target) -> list[Document]:
        """The target's chunks received since `cursor - late` (all pages)."""
        floor = self.cursor.commit * 1000 - self.late_ns
        collection = chunks_path(target.org, target.device, target.sensor)
        out: list[Document] = []
        after = None
        while True:
            page = self.store.query(
                Query(
                    collection,
                    where=(Filter("received", ">=", max(0, floor)),),
                    order_by=(("received", "asc"),),
                    limit=_PAGE,
                    after=after,
                )
            )
            out.extend(page.documents)
            if page.next is None:
                return out
            after = page.next
