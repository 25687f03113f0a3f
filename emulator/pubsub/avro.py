"""Avro schemas for Pub/Sub: parse a definition (fastavro) and check messages in Avro's JSON or
binary encoding the way Pub/Sub does.

Pub/Sub decodes JSON with Avro's Java JsonDecoder, measured against Google's emulator: every field
of a record must be present (defaults are not filled in), unknown fields and anything after the
first JSON value are ignored, numbers of any form fit int/long (within range), float and double,
a union value is `null` or `{"<type name>": value}`, bytes and fixed are strings. Binary messages
must decode from the start; trailing bytes are ignored.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import fastavro

__all__ = ["AvroSchema"]

_INT = (-(2**31), 2**31 - 1)
_LONG = (-(2**63), 2**63 - 1)
_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AvroSchema:
    """A parsed Avro definition; ValueError (with the parser's reason) when it is not one."""

    def __init__(self, definition: str) -> None:
        try:
            raw = json.loads(definition)
            _check_names(raw)
            self.named: dict[str, Any] = {}
            self.parsed = fastavro.parse_schema(raw, named_schemas=self.named)
        except Exception as error:  # fastavro raises several types for a bad schema
            raise ValueError(f"{type(error).__name__}: {error}") from None

    def check_json(self, data: bytes) -> bool:
        try:
            text = data.decode()
            value, _ = json.JSONDecoder().raw_decode(text.lstrip())
        except ValueError:  # UnicodeDecodeError and JSONDecodeError included
            return False
        return self._fits(self.parsed, value)

    def check_binary(self, data: bytes) -> bool:
        try:
            fastavro.schemaless_reader(io.BytesIO(data), self.parsed, None)
        except Exception:  # EOFError, ValueError, UnicodeDecodeError...: not a message
            return False
        return True

    def _fits(self, schema: Any, value: Any) -> bool:
        if isinstance(schema, str):
            schema = self.named.get(schema, schema)
            if isinstance(schema, str):
                return self._primitive(schema, value)
        if isinstance(schema, list):
            return self._union(schema, value)
        kind = schema["type"]
        if kind == "record" or kind == "error":
            return isinstance(value, dict) and all(
                f["name"] in value and self._fits(f["type"], value[f["name"]])
                for f in schema["fields"]
            )
        if kind == "enum":
            return isinstance(value, str) and value in schema["symbols"]
        if kind == "array":
            return isinstance(value, list) and all(self._fits(schema["items"], v) for v in value)
        if kind == "map":
            return isinstance(value, dict) and all(
                self._fits(schema["values"], v) for v in value.values()
            )
        if kind == "fixed":
            return isinstance(value, str) and len(value) == schema["size"]
        return self._fits(kind, value)  # {"type": "int", "logicalType": ...} and the like

    def _union(self, branches: list[Any], value: Any) -> bool:
        if value is None:
            return "null" in branches
        if not isinstance(value, dict) or len(value) != 1:
            return False
        ((label, inner),) = value.items()
        for branch in branches:
            if _label(branch) == label:
                return self._fits(branch, inner)
        return False

    @staticmethod
    def _primitive(kind: str, value: Any) -> bool:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if kind == "null":
            return value is None
        if kind == "boolean":
            return isinstance(value, bool)
        if kind in ("int", "long"):
            low, high = _INT if kind == "int" else _LONG
            return number and low <= int(value) <= high
        if kind in ("float", "double"):
            return number
        if kind in ("string", "bytes"):
            return isinstance(value, str)
        return False


def _label(branch: Any) -> str:
    """The name a union branch goes by in Avro's JSON encoding (full name for named types)."""
    if isinstance(branch, str):
        return branch
    if branch.get("type") in _PRIMITIVES:
        return str(branch["type"])
    return str(branch.get("name", branch.get("type")))


def _check_names(schema: Any) -> None:
    """What Avro's Java parser refuses and fastavro lets through: records without fields, names
    that are not identifiers, fields or symbols given twice."""
    if isinstance(schema, list):
        for branch in schema:
            _check_names(branch)
        return
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind in ("record", "error", "enum", "fixed"):
        name = schema.get("name")
        if not isinstance(name, str) or not all(_NAME.match(p) for p in name.split(".")):
            raise ValueError(f"invalid name {name!r}")
    if kind in ("record", "error"):
        fields = schema.get("fields")
        if not isinstance(fields, list):
            raise ValueError(f"record {schema.get('name')!r} has no fields")
        _unique([f.get("name") if isinstance(f, dict) else None for f in fields], "field")
        for f in fields:
            _check_names(f.get("type"))
    elif kind == "enum":
        _unique(schema.get("symbols") or [], "symbol")
    elif kind == "array":
        _check_names(schema.get("items"))
    elif kind == "map":
        _check_names(schema.get("values"))
    elif isinstance(kind, dict | list):
        _check_names(kind)


def _unique(names: list[Any], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name) or name in seen:
            raise ValueError(f"invalid or repeated {what} name {name!r}")
        seen.add(name)
