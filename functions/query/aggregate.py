"""Aggregates of a time series per interval: mean, min, max, sum, count, first, last.

Intervals are aligned to the epoch (`floor(ts / every) * every`), so the same `every` always
gives the same boundaries; the first and last interval of a range may be partial. An interval is
reported with its start as `timestamp`, only when it holds at least one reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from functions.query.series import Sample
from shared.errors import BadRequest

__all__ = ["NUMERIC_AGGREGATES", "NUMERIC_TYPES", "aggregate", "check_type"]

NUMERIC_AGGREGATES = frozenset({"mean", "min", "max", "sum"})
NUMERIC_TYPES = frozenset({"double", "long"})  # canonical types: sensors store "integer" as "long"


def check_type(agg: str, sensor_type: str | None) -> None:
    """400 (field `agg`) when a numeric aggregate is asked of a non-numeric sensor."""
    if agg in NUMERIC_AGGREGATES and sensor_type not in NUMERIC_TYPES:
        raise BadRequest(
            f"agg={agg} needs a numeric sensor; this sensor's type is {sensor_type}; "
            "count, first and last work for every type",
            field="agg",
        )


@dataclass
class _Interval:
    start: int
    count: int = 0
    total: Any = 0
    low: Any = None
    high: Any = None
    earliest: tuple[int, Any] | None = None
    latest: tuple[int, Any] | None = None
    numeric: bool = field(default=True)

    def add(self, sample: Sample) -> None:
        value = sample.value
        self.count += 1
        if self.earliest is None or sample.ts < self.earliest[0]:
            self.earliest = (sample.ts, value)
        if self.latest is None or sample.ts > self.latest[0]:
            self.latest = (sample.ts, value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.numeric = False
            return
        self.total += value
        self.low = value if self.low is None or value < self.low else self.low
        self.high = value if self.high is None or value > self.high else self.high

    def result(self, agg: str) -> Any:
        if agg == "count":
            return self.count
        if agg == "first":
            return self.earliest[1] if self.earliest else None
        if agg == "last":
            return self.latest[1] if self.latest else None
        if not self.numeric:
            return None
        if agg == "sum":
            return self.total
        if agg == "min":
            return self.low
        if agg == "max":
            return self.high
        return self.total / self.count


def aggregate(samples: Iterable[Sample], agg: str, every: int) -> Iterator[Sample]:
    """One sample per non-empty interval, in the order the samples come (ascending or
    descending by time); `samples` must be time-ordered."""
    current: _Interval | None = None
    for sample in samples:
        start = sample.ts - sample.ts % every
        if current is not None and current.start != start:
            yield Sample(current.start, current.result(agg))
            current = None
        if current is None:
            current = _Interval(start)
        current.add(sample)
    if current is not None:
        yield Sample(current.start, current.result(agg))
