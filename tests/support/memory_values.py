"""Firestore's value rules in plain Python for the in-memory store: the total order of values,
filters, field paths, transforms and the document size, as Firestore documents them.

Order: null < booleans < NaN < numbers (int and float compare numerically) < timestamps <
strings (by code point, as UTF-8 bytes) < bytes < arrays < maps. A filter only matches values of
its operand's type class; `!=` and `not-in` also need the field to exist and not be null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shared.errors import BadRequest
from shared.store import DELETE_FIELD, SERVER_TIMESTAMP, ArrayRemove, ArrayUnion, Increment

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MISSING",
    "copy_in",
    "document_size",
    "get_field",
    "matches",
    "set_field",
    "sort_key",
    "transform",
]

MAX_DOCUMENT_BYTES = 1_048_576
NULL, BOOLEAN, NUMBER, TIMESTAMP, STRING, BYTES, ARRAY, MAP = range(8)
MISSING: Any = object()  # a field a document does not have
_LIST_LIMITS = {"in": 30, "not-in": 10, "array-contains-any": 30}


def sort_key(value: Any) -> tuple[Any, ...]:
    """A tuple that orders like Firestore orders values."""
    if value is None:
        return (NULL,)
    if isinstance(value, bool):
        return (BOOLEAN, value)
    if isinstance(value, int):
        return (NUMBER, 1, value)
    if isinstance(value, float):
        return (NUMBER, 0) if math.isnan(value) else (NUMBER, 1, value)
    if isinstance(value, datetime):
        return (TIMESTAMP, value)
    if isinstance(value, str):
        return (STRING, value)
    if isinstance(value, bytes):
        return (BYTES, value)
    if isinstance(value, list):
        return (ARRAY, tuple(sort_key(item) for item in value))
    if isinstance(value, Mapping):
        return (MAP, tuple((key, sort_key(value[key])) for key in sorted(value)))
    raise TypeError(f"not a Firestore value: {value!r}")


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def copy_in(value: Any) -> Any:
    """A stored copy of a value the caller gave (tuples become arrays, times become UTC)."""
    if isinstance(value, Mapping):
        return {str(key): copy_in(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        items = [copy_in(item) for item in value]
        if any(isinstance(item, list) for item in items):
            raise BadRequest("Cannot have nested arrays (an array may not contain an array)")
        return items
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise OverflowError(f"{value} does not fit a 64-bit integer")
    sort_key(value)  # refuses what Firestore cannot store
    return value


def get_field(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def set_field(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set (or, for MISSING, delete) the field at `path`, creating maps on the way."""
    for part in path[:-1]:
        inner = data.get(part)
        if not isinstance(inner, dict):
            if value is MISSING:
                return
            inner = data[part] = {}
        data = inner
    if value is MISSING:
        data.pop(path[-1], None)
    else:
        data[path[-1]] = value


def transform(current: Any, change: Any, now: datetime) -> Any:
    """The new value of a field after a sentinel or transform (DELETE_FIELD gives MISSING)."""
    if change is DELETE_FIELD:
        return MISSING
    if change is SERVER_TIMESTAMP:
        return now
    if isinstance(change, Increment):
        number = current if isinstance(current, int | float) else 0
        return (0 if isinstance(number, bool) else number) + copy_in(change.amount)
    if isinstance(change, ArrayUnion):
        result = list(current) if isinstance(current, list) else []
        for value in copy_in(change.values):
            if all(sort_key(value) != sort_key(item) for item in result):
                result.append(value)
        return result
    if isinstance(change, ArrayRemove):
        removed = {sort_key(value) for value in copy_in(change.values)}
        kept = current if isinstance(current, list) else []
        return [item for item in kept if sort_key(item) not in removed]
    if isinstance(change, Mapping):
        resolved = {str(key): transform(MISSING, item, now) for key, item in change.items()}
        return {key: item for key, item in resolved.items() if item is not MISSING}
    return copy_in(change)


def matches(value: Any, op: str, operand: Any) -> bool:
    """Whether a document whose field holds `value` (MISSING when absent) passes the filter."""
    if op in _LIST_LIMITS:
        operands = list(operand) if isinstance(operand, list | tuple) else None
        if not operands:
            raise BadRequest(f"'{op}' requires a non-empty list of values")
        if len(operands) > _LIST_LIMITS[op]:
            raise BadRequest(f"'{op}' supports up to {_LIST_LIMITS[op]} comparison values")
        keys = [sort_key(v) for v in operands if v is not None and not _is_nan(v)]
        if op == "in":
            return value is not MISSING and sort_key(value) in keys
        if op == "not-in":
            return (
                value is not MISSING
                and value is not None
                and None not in operands
                and sort_key(value) not in keys
            )
        return isinstance(value, list) and any(sort_key(item) in keys for item in value)
    if value is MISSING:
        return False
    key = sort_key(operand)
    if op == "==":
        return sort_key(value) == key
    if op == "!=":
        return value is not None and sort_key(value) != key
    if op == "array-contains":
        if operand is None or _is_nan(operand):
            return False
        return isinstance(value, list) and any(sort_key(item) == key for item in value)
    # <, <=, >, >=: only values of the operand's type class, never NaN or null
    if operand is None or _is_nan(operand) or _is_nan(value):
        return False
    mine = sort_key(value)
    if mine[0] != key[0]:
        return False
    return {"<": mine < key, "<=": mine <= key, ">": mine > key, ">=": mine >= key}[op]


def _value_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float | datetime):
        return 8
    if isinstance(value, str):
        return len(value.encode()) + 1
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, list):
        return sum(_value_size(item) for item in value)
    return sum(len(key.encode()) + 1 + _value_size(item) for key, item in value.items())


def document_size(path: str, data: Mapping[str, Any]) -> int:
    """A document's storage size as Firestore documents it (name, fields, 32 bytes)."""
    name = sum(len(part.encode()) + 1 for part in path.split("/")) + 16
    return name + _value_size(data) + 32
