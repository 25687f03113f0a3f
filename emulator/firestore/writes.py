"""One `Write` applied to one document: preconditions, update masks and field transforms.

Pure functions over protobuf messages; `service.py` runs them for every write of a request and
stores the results atomically.
"""

from __future__ import annotations

from typing import Any

from google.cloud.firestore_v1.types import write as _write

from .errors import already_exists, failed_precondition, invalid, not_found
from .paths import check_reference, parse_field_path
from .storage import Stored
from .values import (
    MapValue,
    Value,
    delete_field,
    get_field,
    set_field,
    sort_key,
    timestamp_from_us,
    us_from_timestamp,
)
from .vectors import vector_of

__all__ = ["MAX_DOCUMENT_BYTES", "apply_write", "check_values", "target_of"]

WriteResult: Any = _write.WriteResult.pb()
MAX_DOCUMENT_BYTES = 1_048_576
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_REQUEST_TIME = 1  # DocumentTransform.FieldTransform.ServerValue.REQUEST_TIME


def target_of(write: Any) -> str:
    """The document name a write addresses."""
    kind = write.WhichOneof("operation")
    if kind == "update":
        return str(write.update.name)
    if kind == "delete":
        return str(write.delete)
    if kind == "transform":
        return str(write.transform.document)
    raise invalid("a write needs one of update, delete or transform")


def _check_precondition(write: Any, name: str, current: Stored | None) -> None:
    if not write.HasField("current_document"):
        return
    precondition = write.current_document
    kind = precondition.WhichOneof("condition_type")
    if kind == "exists":
        if precondition.exists and current is None:
            raise not_found(f"No document to update: {name}")
        if not precondition.exists and current is not None:
            raise already_exists(f"Document already exists: {name}")
    elif kind == "update_time":
        # as Google's emulator answers: a base version later than the stored one is a bad
        # request, an earlier one (or a missing document, version 0) a failed precondition
        wanted = us_from_timestamp(precondition.update_time)
        stored = current.update_us if current is not None else 0
        if current is not None and wanted > stored:
            raise invalid(f"Invalid base version, it is greater than the stored version: {name}")
        if stored != wanted:
            raise failed_precondition(
                f"the stored version ({stored}) does not match the required base version ({wanted})"
            )


def check_values(fields: Any, in_array: bool = False) -> None:
    """INVALID_ARGUMENT for what Firestore cannot store: an array directly in an array, or a
    zero length vector (anywhere in the document)."""
    for value in fields.values() if not in_array else fields:
        kind = value.WhichOneof("value_type")
        if kind == "reference_value":
            check_reference(value.reference_value)
        elif kind == "map_value":
            inner = value.map_value.fields
            if "__type__" in inner and (vector := vector_of(value)) is not None:
                if not vector:
                    raise invalid("Cannot have a zero length vector.")
                if in_array:
                    raise invalid("Cannot convert a vector value in an array value.")
            check_values(inner)
        elif kind == "array_value":
            if in_array:
                raise invalid("Cannot convert an array value in an array value.")
            check_values(value.array_value.values, in_array=True)


def _number(value: Any) -> int | float | None:
    kind = value.WhichOneof("value_type") if value is not None else None
    if kind == "integer_value":
        return int(value.integer_value)
    if kind == "double_value":
        return float(value.double_value)
    return None


def _numeric_value(number: int | float) -> Any:
    if isinstance(number, int):
        return Value(integer_value=max(_INT64_MIN, min(_INT64_MAX, number)))
    return Value(double_value=number)


def _increment(current: Any, operand: Any) -> Any:
    add = _number(operand)
    if add is None:
        raise invalid("increment needs a numeric operand")
    base = _number(current)
    if base is None:
        return operand
    if isinstance(base, int) and isinstance(add, int):
        return _numeric_value(base + add)
    return Value(double_value=float(base) + float(add))


def _extreme(current: Any, operand: Any, larger: bool) -> Any:
    other = _number(operand)
    if other is None:
        raise invalid("maximum and minimum need a numeric operand")
    base = _number(current)
    if base is None:
        return operand
    if base != base:  # NaN wins
        return current
    if other != other:
        return operand
    if base == other:
        return current  # equal values of mixed types: the stored type wins
    return operand if (other > base) == larger else current


def _elements(current: Any) -> list[Any]:
    if current is not None and current.WhichOneof("value_type") == "array_value":
        return list(current.array_value.values)
    return []


def _array(values: list[Any]) -> Any:
    result = Value()
    result.array_value.SetInParent()
    result.array_value.values.extend(values)
    return result


def _union(current: Any, operand: Any) -> Any:
    values = _elements(current)
    keys = [sort_key(v) for v in values]
    for value in operand.values:
        key = sort_key(value)
        if key not in keys:  # Firestore equality: 1 == 1.0, NaN == NaN
            keys.append(key)
            values.append(value)
    return _array(values)


def _remove(current: Any, operand: Any) -> Any:
    gone = [sort_key(v) for v in operand.values]
    return _array([v for v in _elements(current) if sort_key(v) not in gone])


def _transform(fields: Any, transform: Any, commit_us: int) -> Any:
    """Apply one FieldTransform to `fields` in place; return its transform result."""
    path = parse_field_path(transform.field_path)
    current = get_field(fields, path)
    kind = transform.WhichOneof("transform_type")
    null = Value(null_value=0)
    if kind == "set_to_server_value":
        if transform.set_to_server_value != _REQUEST_TIME:
            raise invalid(f"unknown server value {transform.set_to_server_value}")
        new = Value(timestamp_value=timestamp_from_us(commit_us))
        result = new
    elif kind == "increment":
        new = result = _increment(current, transform.increment)
    elif kind == "maximum":
        new = result = _extreme(current, transform.maximum, larger=True)
    elif kind == "minimum":
        new = result = _extreme(current, transform.minimum, larger=False)
    elif kind == "append_missing_elements":
        new, result = _union(current, transform.append_missing_elements), null
    elif kind == "remove_all_from_array":
        new, result = _remove(current, transform.remove_all_from_array), null
    else:
        raise invalid(f"unsupported field transform on {transform.field_path!r}")
    set_field(fields, path, new)
    return result


def apply_write(write: Any, current: Stored | None, commit_us: int) -> tuple[Stored | None, Any]:
    """The document after `write` (None when deleted) and the write's WriteResult.

    An update without a mask replaces the whole document; with a mask, each masked field path
    takes the update's value or, when the update lacks it, is deleted. Transforms run after the
    update, on the result. A write that changes nothing keeps the document's update time.
    """
    name = target_of(write)
    _check_precondition(write, name, current)
    kind = write.WhichOneof("operation")
    if kind == "delete":
        return None, WriteResult()

    data = MapValue()
    if kind == "update":
        check_values(write.update.fields)
        if write.HasField("update_mask"):
            if current is not None:
                data.CopyFrom(current.data)
            for field_path in write.update_mask.field_paths:
                path = parse_field_path(field_path)
                value = get_field(write.update.fields, path)
                if value is None:
                    delete_field(data.fields, path)
                else:
                    set_field(data.fields, path, value)
        else:
            for key, value in write.update.fields.items():
                data.fields[key].CopyFrom(value)
        transforms = list(write.update_transforms)
    else:  # a legacy transform-only write
        if current is not None:
            data.CopyFrom(current.data)
        transforms = list(write.transform.field_transforms)

    results = [_transform(data.fields, t, commit_us) for t in transforms]
    _check_size(name, data)
    unchanged = current is not None and data == current.data
    update_us = current.update_us if unchanged and current else commit_us
    create_us = current.create_us if current is not None else commit_us
    result = WriteResult(update_time=timestamp_from_us(update_us), transform_results=results)
    return Stored(name, data, create_us, update_us), result


def _check_size(name: str, data: Any) -> None:
    size = data.ByteSize() + len(name) + 16
    if size > MAX_DOCUMENT_BYTES:
        raise invalid(
            f"Document {name!r} cannot be written because its size ({size:,} bytes) exceeds "
            f"the maximum allowed size of {MAX_DOCUMENT_BYTES:,} bytes."
        )
