"""Timestamp unit detection (s, ms, us, ns by magnitude) and exact conversion to ns."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.telemetry.timestamps import (
    MAX_NS,
    detect_unit,
    seconds_to_ns,
    timestamp_to_ns,
    to_decimal,
)

# Every instant from 1e11 ms (1973-03-03T09:46:40Z) to the int64 limit is unambiguous in any unit.
UNAMBIGUOUS_NS = st.integers(min_value=10**17, max_value=MAX_NS)


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (0, "s"),
        (1_526_717_967, "s"),  # the reference gateway's example
        (99_999_999_999, "s"),
        (10**11, "ms"),
        (1_526_717_967_123, "ms"),
        (10**14 - 1, "ms"),
        (10**14, "us"),
        (1_526_717_967_123_456, "us"),
        (10**17, "ns"),
        (1_526_717_967_123_456_789, "ns"),
        (1.5e9, "s"),
        (Decimal("1e13"), "ms"),
    ],
)
def test_detect_unit(value: Any, unit: str) -> None:
    assert detect_unit(value) == unit


@pytest.mark.parametrize(
    ("value", "ns"),
    [
        (1_526_717_967, 1_526_717_967_000_000_000),
        ("1526717967", 1_526_717_967_000_000_000),
        (1526717967.5, 1_526_717_967_500_000_000),
        ("1526717967.123456789", 1_526_717_967_123_456_789),
        (1_526_717_967_123, 1_526_717_967_123_000_000),
        ("1526717967123", 1_526_717_967_123_000_000),
        (1_526_717_967_123_456, 1_526_717_967_123_456_000),
        (1_526_717_967_123_456_789, 1_526_717_967_123_456_789),
        (1.276020076001e09, 1_276_020_076_001_000_000),  # no float rounding error
        ("1.5e9", 1_500_000_000_000_000_000),
        (0, 0),
        (0.0, 0),
        ("0.0000000005", 0),  # half a ns rounds to even
        ("0.0000000015", 2),
        (MAX_NS, MAX_NS),
    ],
)
def test_timestamp_to_ns(value: Any, ns: int) -> None:
    assert timestamp_to_ns(value) == ns


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-1, "must not be negative"),
        (-0.5, "must not be negative"),
        ("-1526717967", "must not be negative"),
        (True, "not a boolean"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("nan", "is not a number"),
        ("abc", "is not a number"),
        ("", "is not a number"),
        (" 1", "is not a number"),
        (None, "not NoneType"),
        ([1], "not list"),
        (MAX_NS + 1, "outside"),
        ("1e400", "outside"),
        (1e300, "outside"),
    ],
)
def test_timestamp_refused(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        timestamp_to_ns(value)


@given(UNAMBIGUOUS_NS)
def test_integer_timestamps_in_every_unit(ns: int) -> None:
    for unit, factor in (("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1)):
        count = ns // factor
        assert detect_unit(count) == unit
        assert timestamp_to_ns(count) == count * factor
        assert timestamp_to_ns(str(count)) == count * factor


@given(UNAMBIGUOUS_NS)
def test_decimal_seconds_keep_every_nanosecond(ns: int) -> None:
    text = f"{ns // 10**9}.{ns % 10**9:09d}"
    assert timestamp_to_ns(text) == ns
    assert seconds_to_ns(Decimal(text)) == ns


@given(st.floats(min_value=0, max_value=9.2e9, allow_nan=False))
def test_float_seconds_match_their_decimal_text(seconds: float) -> None:
    ns = timestamp_to_ns(seconds)
    assert ns == seconds_to_ns(Decimal(repr(seconds)))
    assert abs(ns - seconds * 1e9) <= max(1.0, seconds * 1e9 * 1e-15)


@given(st.integers(min_value=0, max_value=MAX_NS))
def test_detection_is_monotonic_in_magnitude(value: int) -> None:
    order = ["s", "ms", "us", "ns"]
    assert order.index(detect_unit(value)) <= order.index(detect_unit(value + 1))


@given(st.integers(max_value=-1))
def test_negative_always_refused(value: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        timestamp_to_ns(value)


def test_to_decimal() -> None:
    assert to_decimal(1) == 1
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal("-2.5e-3") == Decimal("-0.0025")
    with pytest.raises(ValueError):
        to_decimal("0x10")


def test_seconds_to_ns_bounds() -> None:
    assert seconds_to_ns(Decimal(-5) + Decimal("1276020076.001")) == 1_276_020_071_001_000_000
    with pytest.raises(ValueError, match="outside"):
        seconds_to_ns(Decimal(-1))
    with pytest.raises(ValueError, match="outside"):
        seconds_to_ns(Decimal("1e40"))
