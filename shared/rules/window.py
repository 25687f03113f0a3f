"""Window state of one rule on one series, and how readings and clock ticks move it.

The state lives in one store document per (rule, device, sensor) and is changed only inside a
store transaction (`shared.rules.engine`), so concurrent deliveries serialize. Semantics:

- **event time**: readings are kept sorted by their own `ts`; the rule is evaluated at the
  *watermark* (the greatest `ts` seen), windows looking back from there. A late reading lands in
  its place and changes every window that covers it, so the state after a set of readings is the
  same in whatever order they arrived; a reading older than everything the rule still needs
  (`for` + the longest window before the watermark) changes nothing.
- **for**: the condition must hold at every stored reading from some reading at or before
  `watermark - for` up to the watermark.
- **idempotent**: the keys of the last `SEEN` messages are kept; a message seen before changes
  nothing, and a reading of an instant already stored replaces its value (the same message twice
  gives the same state).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.redelivery import pack_keys, unpack_keys
from shared.rules.check import Checked
from shared.rules.evaluate import Frame, Point, holds

__all__ = ["MAX_POINTS", "SEEN", "SeriesState", "Status", "evaluate_status", "merge_points"]

SEEN = 64  # message keys remembered per state
MAX_POINTS = 4000  # readings kept per state (about 100 KiB encoded; a document holds 1 MiB)


@dataclass(frozen=True, slots=True)
class Status:
    """The rule at the watermark: whether the condition holds, since when, and whether it fires
    (held for at least `for`)."""

    holds: bool
    since: int | None
    firing: bool


@dataclass
class SeriesState:
    """The stored state of one (rule, device, sensor)."""

    points: list[Point] = field(default_factory=list)
    received: int = 0  # the latest arrival (ns, processing time) of a reading (before any: a
    # sensor made after the rule, its creation; deadman counts silence from it)
    firing: bool = False
    since: int | None = None
    alert: str | None = None  # the open (or acknowledged) alert of this series
    seen: list[str] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)  # bus messages not yet confirmed
    version: int = 0  # the rule version last evaluated

    @property
    def watermark(self) -> int | None:
        return self.points[-1][0] if self.points else None

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> SeriesState:
        if not data:
            return cls()
        raw = data.get("points") or b"[]"
        points: list[Point] = [
            (int(p[0]), p[1], p[2] if len(p) > 2 else None, p[3] if len(p) > 3 else None)
            for p in orjson.loads(raw)
        ]
        outbox = orjson.loads(data.get("outbox") or b"[]")
        return cls(
            points=points,
            received=int(data.get("received") or 0),
            firing=bool(data.get("firing")),
            since=data.get("since"),
            alert=data.get("alert") or None,
            seen=unpack_keys(data.get("seen")),
            outbox=list(outbox),
            version=int(data.get("version") or 0),
        )

    def to_data(self) -> dict[str, Any]:
        encoded = [
            [ts, value] if score is None and anomaly is None else [ts, value, score, anomaly]
            for ts, value, score, anomaly in self.points
        ]
        return {
            "points": orjson.dumps(encoded),
            "watermark": self.watermark,
            "received": self.received,
            "firing": self.firing,
            "since": self.since,
            "alert": self.alert,
            "seen": pack_keys(self.seen[-SEEN:]),
            "outbox": orjson.dumps(self.outbox),
            "version": self.version,
        }

    def remember(self, key: str) -> bool:
        """Record a message key; False when it was seen before (a redelivery)."""
        if key in self.seen:
            return False
        self.seen = [*self.seen[-(SEEN - 1) :], key]
        return True


def merge_points(points: list[Point], new: Iterable[Point]) -> list[Point]:
    """`points` with `new` in event-time order; a new reading of a stored instant replaces it."""
    by_ts = {p[0]: p for p in points}
    for point in new:
        by_ts[point[0]] = point
    return [by_ts[ts] for ts in sorted(by_ts)]


def keep_from(points: Sequence[Point], condition: Checked, for_ns: int) -> int:
    """The index of the oldest reading the rule still needs: those after `watermark - for -
    horizon`, plus the one just before (the reading a `for` walk may end on)."""
    if not points:
        return 0
    cutoff = points[-1][0] - for_ns - condition.horizon_ns
    times = [p[0] for p in points]
    start = max(0, bisect.bisect_left(times, cutoff) - 1)
    return max(start, len(points) - MAX_POINTS)


def evaluate_status(
    points: Sequence[Point],
    condition: Checked,
    for_ns: int,
    names: Mapping[str, Any],
    now_ns: int,
    received_ns: int,
) -> Status:
    """Evaluate at the watermark; without readings, at `now_ns` with an unknown value (so only a
    deadman can hold)."""
    series: Sequence[Point] = points or [(now_ns, None, None, None)]
    times = [p[0] for p in series]
    last = len(series) - 1

    def at(index: int) -> bool:
        return holds(
            condition.tree, Frame(series, times, index, names, now_ns, received_ns or now_ns)
        )

    if not at(last):
        return Status(False, None, False)
    watermark = times[last]
    since = watermark
    index = last - 1
    while index >= 0 and watermark - since < for_ns and at(index):
        since = times[index]
        index -= 1
    return Status(True, since, watermark - since >= for_ns)
