"""Timestamps to the internal unit, integer nanoseconds since the epoch, exactly (no float math).

The reference format does not say its timestamp unit, so it is detected per reading from the
magnitude of the number (`detect_unit`):

| magnitude `m` | unit | covers |
| --- | --- | --- |
| `m < 1e11` | seconds | up to the year 5138 |
| `1e11 <= m < 1e14` | milliseconds | 1973-03-03 to 5138 |
| `1e14 <= m < 1e17` | microseconds | 1973-03-03 to 5138 |
| `m >= 1e17` | nanoseconds | 1973-03-03 to 2262-04-11 (the int64 limit) |

so every instant from 1973-03-03T09:46:40Z to 2262 is read correctly in any of the four units
(before 1973 a millisecond count would be taken for seconds). Fractions are kept down to the
nanosecond and rounded half to even below it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

__all__ = [
    "MAX_NS",
    "UNITS",
    "detect_unit",
    "seconds_to_ns",
    "timestamp_to_ns",
    "to_decimal",
]

MAX_NS = 2**63 - 1
UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_S_LIMIT, _MS_LIMIT, _US_LIMIT = 10**11, 10**14, 10**17
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?\Z")


def detect_unit(magnitude: int | float | Decimal) -> str:
    """The unit ("s", "ms", "us" or "ns") of a non-negative timestamp, by its magnitude."""
    if magnitude < _S_LIMIT:
        return "s"
    if magnitude < _MS_LIMIT:
        return "ms"
    if magnitude < _US_LIMIT:
        return "us"
    return "ns"


def to_decimal(value: object) -> Decimal:
    """A JSON number (int or float) or numeric string as an exact Decimal; ValueError (the
    reason) for booleans, NaN, infinities, other strings and other types."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return Decimal(repr(value))  # the shortest text that reads back as this float
    if isinstance(value, str):
        if not _NUMBER.match(value):
            raise ValueError(f"{value[:40]!r} is not a number")
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
            raise ValueError(f"{value[:40]!r} is not a number") from None
    raise ValueError(f"must be a number or a numeric string, not {type(value).__name__}")


def _checked(ns: int) -> int:
    if not 0 <= ns <= MAX_NS:
        raise ValueError("is outside 1970-01-01..2262-04-11 (ns since the epoch must fit int64)")
    return ns


def seconds_to_ns(seconds: Decimal) -> int:
    """Seconds (exact) to integer ns, rounded half to even; ValueError outside 0..2**63-1."""
    if seconds.adjusted() > 30:  # far beyond int64 ns; tiny values just round to 0
        raise ValueError("is outside 1970-01-01..2262-04-11 (ns since the epoch must fit int64)")
    return _checked(int((seconds * UNITS["s"]).to_integral_value(ROUND_HALF_EVEN)))


def timestamp_to_ns(value: object) -> int:
    """A reference-format timestamp (number or numeric string, unit detected) in ns; ValueError
    (the reason) when it is negative, not a number, or beyond the int64 range in ns."""
    if isinstance(value, int) and not isinstance(value, bool):  # the common case, exact ints
        if value < 0:
            raise ValueError("must not be negative")
        return _checked(value * UNITS[detect_unit(value)])
    exact = to_decimal(value)
    if exact < 0:
        raise ValueError("must not be negative")
    if exact.adjusted() > 30:
        return _checked(MAX_NS + 1)
    scaled = exact * UNITS[detect_unit(exact)]
    return _checked(int(scaled.to_integral_value(ROUND_HALF_EVEN)))
