"""Sensor value types (a sensor's `mapping.type`): check a reading's value and return it typed."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.http import MAX_JSON_DEPTH, too_deep

__all__ = ["INT64_MAX", "INT64_MIN", "TYPES", "TypeMismatch", "canonical_type", "coerce"]

TYPES = ("double", "long", "boolean", "string", "object")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_ALIASES = {
    "double": "double",
    "float": "double",
    "long": "long",
    "integer": "long",
    "boolean": "boolean",
    "string": "string",
    "object": "object",
}
# A JSON number written as a string ("91827364", "-1.5e3"); no spaces, "_", "nan" or "inf".
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?\Z")


class TypeMismatch(ValueError):
    """The value does not fit the sensor's type; `str(error)` is the reason."""


def canonical_type(name: str) -> str:
    """The canonical name of a mapping type ("integer" -> "long", "float" -> "double")."""
    try:
        return _ALIASES[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(
            f"unknown sensor type {name!r} (expected one of {', '.join(TYPES)} or integer)"
        ) from None


def _describe(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _double(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeMismatch(f"{value!r} is a boolean, not a number (sensor type double)")
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            raise TypeMismatch(f"{value} is too large for a double") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeMismatch(f"{value!r} is not a finite number (sensor type double)")
        return value
    if isinstance(value, str):
        if not _NUMBER.match(value):
            raise TypeMismatch(f"{_describe(value)} is not a number (sensor type double)")
        number = float(value)
        if not math.isfinite(number):
            raise TypeMismatch(f"{_describe(value)} is too large for a double")
        return number
    raise TypeMismatch(f"{_describe(value)} is not a number (sensor type double)")


def _long(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeMismatch(f"{value!r} is a boolean, not an integer (sensor type long)")
    number: int
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise TypeMismatch(f"{value!r} is not an integer (sensor type long)")
        number = int(value)
    elif isinstance(value, str) and _NUMBER.match(value):
        try:
            exact = Decimal(value)
            if exact != exact.to_integral_value() or abs(exact.adjusted()) > 30:
                raise TypeMismatch(f"{_describe(value)} is not an integer (sensor type long)")
            number = int(exact)
        except InvalidOperation:
            raise TypeMismatch(f"{_describe(value)} is not an integer") from None
    else:
        raise TypeMismatch(f"{_describe(value)} is not an integer (sensor type long)")
    if not INT64_MIN <= number <= INT64_MAX:
        raise TypeMismatch(f"{_describe(value)} is outside the 64-bit integer range")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise TypeMismatch(f"{_describe(value)} is not true or false (sensor type boolean)")


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeMismatch(f"{_describe(value)} is not a string (sensor type string)")


def _object(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        if too_deep(value, MAX_JSON_DEPTH):
            raise TypeMismatch(f"the value nests more than {MAX_JSON_DEPTH} levels deep")
        return value
    raise TypeMismatch(f"{_describe(value)} is not a JSON object or array (sensor type object)")


_COERCE = {
    "double": _double,
    "long": _long,
    "boolean": _boolean,
    "string": _string,
    "object": _object,
}


def coerce(value: Any, type_: str) -> Any:
    """`value` as the sensor type `type_` wants it (canonical or alias name), or TypeMismatch.

    double: numbers and numeric strings ("91827364") -> float; booleans, NaN, infinities and
    other strings are refused. long: integers, integral floats and integral numeric strings in
    the signed 64-bit range -> int. boolean: true/false and the strings "true"/"false".
    string: strings only. object: JSON objects and arrays at most MAX_JSON_DEPTH levels deep.
    """
    if type(value) is float and type_ == "double" and math.isfinite(value):
        return value  # by far the most common reading: no conversion to look up
    convert = _COERCE.get(type_)
    if convert is None:
        convert = _COERCE[canonical_type(type_)]
    result: Any = convert(value)
    return result
