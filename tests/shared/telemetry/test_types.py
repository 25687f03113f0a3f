"""Sensor value types: what each mapping type accepts, what it returns and what it refuses."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.telemetry.types import INT64_MAX, TypeMismatch, canonical_type, coerce


@pytest.mark.parametrize(
    ("value", "type_", "expected"),
    [
        (21.5, "double", 21.5),
        (3, "double", 3.0),
        ("91827364", "double", 91827364.0),  # the reference gateway's example
        ("-1.5e3", "double", -1500.0),
        ("0", "double", 0.0),
        (7, "long", 7),
        (7.0, "long", 7),
        ("42", "long", 42),
        ("-42", "long", -42),
        ("4.0", "long", 4),
        ("1e3", "long", 1000),
        (str(INT64_MAX), "long", INT64_MAX),
        (7, "integer", 7),
        (True, "boolean", True),
        (False, "boolean", False),
        ("true", "boolean", True),
        ("false", "boolean", False),
        ("on", "string", "on"),
        ("", "string", ""),
        ({"x": 1}, "object", {"x": 1}),
        ([1, 2], "object", [1, 2]),
        (1.5, "float", 1.5),
    ],
)
def test_accepted(value: Any, type_: str, expected: Any) -> None:
    result = coerce(value, type_)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "type_", "reason"),
    [
        ("abc", "double", "is not a number"),
        ("", "double", "is not a number"),
        (" 1", "double", "is not a number"),
        ("1_000", "double", "is not a number"),
        ("nan", "double", "is not a number"),
        ("inf", "double", "is not a number"),
        ("1e999", "double", "too large"),
        (math.nan, "double", "not a finite number"),
        (math.inf, "double", "not a finite number"),
        (True, "double", "is a boolean"),
        (None, "double", "is not a number"),
        ({"a": 1}, "double", "is not a number"),
        (10**400, "double", "too large"),
        (1.5, "long", "not an integer"),
        ("1.5", "long", "not an integer"),
        ("abc", "long", "not an integer"),
        (False, "long", "is a boolean"),
        (2**63, "long", "outside the 64-bit"),
        (-(2**63) - 1, "long", "outside the 64-bit"),
        (1e19, "long", "outside the 64-bit"),
        (math.inf, "long", "not an integer"),
        ("1e400", "long", "not an integer"),
        (1, "boolean", "not true or false"),
        ("yes", "boolean", "not true or false"),
        ("True", "boolean", "not true or false"),
        (21.5, "string", "not a string"),
        (None, "string", "not a string"),
        ("x", "object", "not a JSON object or array"),
    ],
)
def test_refused(value: Any, type_: str, reason: str) -> None:
    with pytest.raises(TypeMismatch, match=reason):
        coerce(value, type_)


def test_type_names() -> None:
    assert canonical_type("integer") == "long"
    assert canonical_type("Double") == "double"
    with pytest.raises(ValueError, match="unknown sensor type 'keyword'"):
        canonical_type("keyword")
    with pytest.raises(ValueError, match="unknown sensor type"):
        coerce(1, "decimal")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_double_strings_round_trip(number: float) -> None:
    assert coerce(repr(number), "double") == number


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_long_strings_round_trip(number: int) -> None:
    assert coerce(str(number), "long") == number


def test_an_object_value_nesting_too_deep_is_refused_not_a_crash_downstream() -> None:
    value: object = 1
    for _ in range(40):
        value = {"x": value}
    with pytest.raises(TypeMismatch, match="more than 32 levels"):
        coerce(value, "object")
    assert coerce({"x": [1, {"y": 2}]}, "object") == {"x": [1, {"y": 2}]}
