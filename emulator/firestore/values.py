"""Firestore values: their documented total order, equality, and nested field access."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from google.cloud.firestore_v1.types import document as _document
from google.protobuf import timestamp_pb2

from .paths import check_reference, path_key

__all__ = [
    "ARRAY",
    "MAP",
    "NULL",
    "NUMBER",
    "Document",
    "MapValue",
    "Timestamp",
    "Value",
    "check_references",
    "delete_field",
    "get_field",
    "is_nan",
    "project",
    "set_field",
    "sort_key",
    "timestamp_from_us",
    "type_rank",
    "us_from_timestamp",
]

Document: Any = _document.Document.pb()
Value: Any = _document.Value.pb()
MapValue: Any = _document.MapValue.pb()
Timestamp: Any = timestamp_pb2.Timestamp

# Ranks of the type classes in Firestore's order; a filter only matches values of its value's rank.
NULL, BOOLEAN, NUMBER, TIMESTAMP, STRING, BYTES, REFERENCE, GEO_POINT, ARRAY, VECTOR, MAP = range(
    11
)
_OTHER = 11

FieldMap = MutableMapping[str, Any]


def _is_vector(map_value: Any) -> bool:
    fields = map_value.fields
    kind = fields.get("__type__")
    return (
        kind is not None
        and kind.WhichOneof("value_type") == "string_value"
        and kind.string_value == "__vector__"
        and fields.get("value") is not None
        and fields["value"].WhichOneof("value_type") == "array_value"
    )


def sort_key(value: Any) -> tuple[Any, ...]:
    """A tuple that orders like Firestore orders values (null < bool < NaN < numbers < ... < map).

    Integers and doubles compare numerically (1 == 1.0, -0.0 == 0.0), NaN sorts below every
    number and equals NaN, strings compare by UTF-8 bytes (code points), references segment-wise.
    """
    kind = value.WhichOneof("value_type")
    if kind == "integer_value":
        return (NUMBER, 1, value.integer_value)
    if kind == "string_value":
        return (STRING, value.string_value)
    if kind == "double_value":
        number = value.double_value
        return (NUMBER, 0) if number != number else (NUMBER, 1, number)
    if kind == "boolean_value":
        return (BOOLEAN, value.boolean_value)
    if kind == "null_value" or kind is None:
        return (NULL,)
    if kind == "timestamp_value":
        return (TIMESTAMP, value.timestamp_value.seconds, value.timestamp_value.nanos)
    if kind == "bytes_value":
        return (BYTES, value.bytes_value)
    if kind == "reference_value":
        return (REFERENCE, path_key(value.reference_value))
    if kind == "geo_point_value":
        return (GEO_POINT, value.geo_point_value.latitude, value.geo_point_value.longitude)
    if kind == "array_value":
        return (ARRAY, tuple(sort_key(v) for v in value.array_value.values))
    if kind == "map_value":
        if _is_vector(value.map_value):
            items = value.map_value.fields["value"].array_value.values
            return (VECTOR, len(items), tuple(sort_key(v) for v in items))
        fields = value.map_value.fields
        return (MAP, tuple((k, sort_key(fields[k])) for k in sorted(fields)))
    return (_OTHER, value.SerializeToString())


def check_references(value: Any) -> None:
    """INVALID_ARGUMENT when a reference anywhere in the value does not name a document."""
    kind = value.WhichOneof("value_type")
    if kind == "reference_value":
        check_reference(value.reference_value)
    elif kind == "array_value":
        for item in value.array_value.values:
            check_references(item)
    elif kind == "map_value":
        for item in value.map_value.fields.values():
            check_references(item)


def type_rank(value: Any) -> int:
    """The rank of the value's type class in Firestore's order (NULL, BOOLEAN, NUMBER, ...)."""
    return int(sort_key(value)[0])


def is_nan(value: Any) -> bool:
    """Whether the value is a double NaN."""
    return bool(
        value.WhichOneof("value_type") == "double_value"
        and value.double_value != value.double_value
    )


def get_field(fields: FieldMap, path: tuple[str, ...]) -> Any | None:
    """The value at a field path (segments) of a document's fields, or None when absent."""
    container = fields
    last = len(path) - 1
    for i, segment in enumerate(path):
        value = container.get(segment)
        if value is None:
            return None
        if i == last:
            return value
        if value.WhichOneof("value_type") != "map_value":
            return None
        container = value.map_value.fields
    return None


def set_field(fields: FieldMap, path: tuple[str, ...], value: Any) -> None:
    """Set the value at a field path, creating (or replacing non-map) intermediate maps."""
    container = fields
    for segment in path[:-1]:
        current = container.get(segment)
        if current is None or current.WhichOneof("value_type") != "map_value":
            container[segment].map_value.SetInParent()
            container[segment].map_value.Clear()
        container = container[segment].map_value.fields
    container[path[-1]].CopyFrom(value)


def delete_field(fields: FieldMap, path: tuple[str, ...]) -> None:
    """Remove the value at a field path if present (empty parent maps stay, as in Firestore)."""
    container = fields
    for segment in path[:-1]:
        current = container.get(segment)
        if current is None or current.WhichOneof("value_type") != "map_value":
            return
        container = current.map_value.fields
    if path[-1] in container:
        del container[path[-1]]


def project(fields: FieldMap, paths: Iterable[tuple[str, ...]], out: FieldMap) -> None:
    """Copy only the given field paths of `fields` into the (empty) map `out` (select, masks)."""
    for path in paths:
        value = get_field(fields, path)
        if value is not None:
            set_field(out, path, value)


def timestamp_from_us(micros: int) -> Any:
    """A protobuf Timestamp for integer microseconds since the epoch."""
    seconds, rest = divmod(micros, 1_000_000)
    return Timestamp(seconds=seconds, nanos=rest * 1000)


def us_from_timestamp(stamp: Any) -> int:
    """Integer microseconds since the epoch of a protobuf Timestamp (sub-microseconds dropped)."""
    return int(stamp.seconds) * 1_000_000 + int(stamp.nanos) // 1000
