"""Aggregates of a time series per interval: mean, min, max, sum, count, first, last.

Intervals are aligned to the epoch (`floor(ts / every) * every`), so the same `every` always
gives the same boundaries; the first and last interval of a range may be partial. An interval is
reported with its start as `timestamp`, only when it holds at least one reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
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


_NUMBERS = frozenset({int, float})


def _result(agg: str, values: list[Any], descending: bool) -> Any:
    """The aggregate of one interval's values (in the order they came: `descending` when the
    later reading came first)."""
    if agg == "count":
        return len(values)
    if agg == "first":
        return values[-1] if descending else values[0]
    if agg == "last":
        return values[0] if descending else values[-1]
    if not {type(value) for value in values} <= _NUMBERS:  # bool is not int here
        return None
    if agg == "min":
        return min(values)
    if agg == "max":
        return max(values)
    total = sum(values)  # added in the order they came, from 0
    return total if agg == "sum" else total / len(values)


def aggregate(samples: Iterable[Sequence[Any]], agg: str, every: int) -> Iterator[Sample]:
    """One sample per non-empty interval, in the order the samples come (ascending or
    descending by time); `samples` are time-ordered `(ts, value)` pairs."""
    start: int | None = None
    opened = ts = previous = 0  # the first, the latest and the one before, in this interval
    values: list[Any] = []
    for ts, value in samples:  # the hot loop: one day of one-second readings is 86,400 turns
        if start is None or not start <= ts < start + every:
            if start is not None:
                yield Sample(start, _result(agg, values, previous < opened))
            start, opened = ts - ts % every, ts
            values = []
        values.append(value)
        previous = ts
    if start is not None:
        yield Sample(start, _result(agg, values, ts < opened))
