"""SenML (RFC 8428) in its JSON form, `application/senml+json`, resolved per section 4.6.

CBOR, XML and EXI representations (`application/senml+cbor`, `+xml`, `senml-exi`) are not
supported, nor is SenSML streaming: a pack is one complete JSON array of records.

Resolution, record by record in order:
- base fields (`bn`, `bt`, `bu`, `bv`, `bs`, `bver`) apply to the record that carries them and
  to every later one until a record carries that base field again;
- name = bn + n, non-empty, first character a letter or digit, then only letters, digits and
  `-:./_` (section 4.5.1);
- exactly one value field, `v` (number), `vs` (string), `vb` (boolean) or `vd` (data:
  base64url without padding); a record may have none when it has a sum `s`;
  v = bv + v and s = bs + s; a record of base fields only (section 5.1.7's thermostat starts
  with `{"bn": ...}`) sets them and resolves to nothing;
- time = bt + t in seconds (t missing = 0); a resolved time below 2**28 is relative to the
  time of reception (so no time at all means "now", and negative times are in the past),
  anything else is absolute; kept exactly to the nanosecond;
- unit = u, else bu;
- `bver` must be an integer 1..10 (10 is RFC 8428); a field whose name ends in `_` is a
  must-understand extension and, as none is understood, refuses the pack; other unknown
  fields are ignored (section 4.4); `ut` must be a number.

All-or-nothing, like the reference format: `resolve` returns every record or raises
InvalidReadings naming `records[<i>].<field>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import orjson

from shared.errors import BadRequest
from shared.telemetry.errors import _Collector
from shared.telemetry.timestamps import MAX_NS, seconds_to_ns, to_decimal

__all__ = [
    "CONTENT_TYPE",
    "FIELDS",
    "VERSION",
    "Record",
    "is_pack",
    "is_senml",
    "resolve",
    "resolve_bytes",
]

CONTENT_TYPE = "application/senml+json"
VERSION = 10
RELATIVE_LIMIT = 2**28  # seconds; resolved times below it are relative to reception
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-:./_]*\Z")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*\Z")
_VALUE_FIELDS = ("v", "vs", "vb", "vd")
_KINDS = {"v": "number", "vs": "string", "vb": "boolean", "vd": "data"}
_STRINGS = ("bn", "bu", "n", "u")
_NUMBERS = ("bt", "bv", "bs", "t", "ut")
_REGULAR = frozenset({"n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"})
FIELDS = frozenset({"bn", "bt", "bu", "bv", "bs", "bver"}) | _REGULAR  # RFC 8428's, section 4


@dataclass(frozen=True, slots=True)
class Record:
    """One resolved record. `kind` is number, string, boolean, data (base64url text) or sum
    (a record with only a sum: `value` is the resolved sum); `sum` is the resolved sum of a
    record that also has a value. `time` is ns since the epoch."""

    name: str
    time: int
    value: Any
    unit: str | None
    kind: str
    index: int
    original: dict[str, Any]
    sum: float | int | None = None

    def to_resolved(self) -> dict[str, Any]:
        """The record in RFC 8428 resolved form (t in seconds as a float)."""
        out: dict[str, Any] = {"n": self.name, "t": self.time / 1e9}
        if self.unit is not None:
            out["u"] = self.unit
        if self.kind == "sum":
            out["s"] = self.value
            return out
        out[{"number": "v", "string": "vs", "boolean": "vb", "data": "vd"}[self.kind]] = self.value
        if self.sum is not None:
            out["s"] = self.sum
        return out


def is_pack(value: Any) -> bool:
    """Whether a parsed JSON body looks like a SenML pack: a non-empty array whose first record is
    a non-empty object of SenML fields only (reference readings carry `sensor_id`, never one)."""
    if not isinstance(value, list) or not value:
        return False
    first = value[0]
    return isinstance(first, dict) and bool(first) and first.keys() <= FIELDS


def is_senml(content_type: str) -> bool:
    """Whether a Content-Type header names SenML JSON (parameters and case ignored)."""
    return content_type.split(";", 1)[0].strip().lower() == CONTENT_TYPE


def resolve_bytes(data: bytes, received_ns: int) -> list[Record]:
    """`resolve` of a JSON body; BadRequest when it is not JSON."""
    try:
        pack = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    return resolve(pack, received_ns)


class _Base:
    __slots__ = ("name", "sum", "time", "unit", "value", "version")

    def __init__(self) -> None:
        self.name = ""
        self.time = Decimal(0)
        self.unit: str | None = None
        self.value: int | float | None = None
        self.sum: int | float | None = None
        self.version = VERSION


def resolve(pack: Any, received_ns: int) -> list[Record]:
    """The resolved records of a parsed SenML pack (a non-empty array of record objects),
    relative times taken from `received_ns`; InvalidReadings listing every problem."""
    problems = _Collector()
    if not isinstance(pack, list) or not pack:
        problems.add("records", "a SenML pack must be a non-empty JSON array of records")
        problems.raise_if_any()
    base = _Base()
    records: list[Record] = []
    for index, raw in enumerate(pack):
        record = _record(raw, index, base, received_ns, problems)
        if record is not None:
            records.append(record)
    problems.raise_if_any()
    return records


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _record(
    raw: Any, index: int, base: _Base, received_ns: int, problems: _Collector
) -> Record | None:
    where = f"records[{index}]"
    if not isinstance(raw, dict):
        problems.add(where, "must be an object")
        return None
    before = problems.total
    for key in raw:
        if key.endswith("_"):
            problems.add(f"{where}.{key}", "unsupported must-understand field")
    for key in _STRINGS:
        if key in raw and not isinstance(raw[key], str):
            problems.add(f"{where}.{key}", "must be a string")
    for key in _NUMBERS:
        if key in raw and not _is_number(raw[key]):
            problems.add(f"{where}.{key}", "must be a number")
    if "bver" in raw:
        bver = raw["bver"]
        if not isinstance(bver, int) or isinstance(bver, bool) or not 1 <= bver <= VERSION:
            problems.add(f"{where}.bver", f"unsupported SenML version {bver!r} (1..{VERSION})")
    if problems.total != before:
        return None
    # Base fields apply from this record on.
    if "bn" in raw:
        base.name = raw["bn"]
    if "bt" in raw:
        base.time = to_decimal(raw["bt"])
    if "bu" in raw:
        base.unit = raw["bu"]
    if "bv" in raw:
        base.value = raw["bv"]
    if "bs" in raw:
        base.sum = raw["bs"]
    if raw.keys().isdisjoint(_REGULAR):
        return None  # only base fields, as the thermostat example of 5.1.7: nothing to resolve
    name = base.name + raw.get("n", "")
    if not name:
        problems.add(f"{where}.n", "the name (bn + n) is empty")
    elif not _NAME.match(name):
        problems.add(
            f"{where}.n",
            f"name {name[:60]!r} must start with a letter or digit and contain only "
            "letters, digits and - : . / _",
        )
    present = [key for key in _VALUE_FIELDS if key in raw]
    if len(present) > 1:
        problems.add(f"{where}.{present[1]}", f"more than one value field ({', '.join(present)})")
        return None
    if not present and "s" not in raw:
        problems.add(where, "needs a value (v, vs, vb or vd) or a sum (s)")
        return None
    value: Any = None
    kind = "sum"
    if present:
        key = present[0]
        kind, value = _KINDS[key], raw[key]
        if not _value_ok(key, value, where, problems):
            return None
        if key == "v" and base.value is not None:
            value = base.value + value
    total: int | float | None = None
    if "s" in raw:
        total = raw["s"] if base.sum is None else base.sum + raw["s"]
        if not present:
            value, total = total, None
    time = _time(base.time + to_decimal(raw.get("t", 0)), received_ns, where, problems)
    if problems.total != before or time is None:
        return None
    unit = raw.get("u", base.unit)
    return Record(name, time, value, unit, kind, index, raw, total)


def _value_ok(key: str, value: Any, where: str, problems: _Collector) -> bool:
    if key == "v" and not _is_number(value):
        problems.add(f"{where}.v", "must be a number")
    elif key == "vs" and not isinstance(value, str):
        problems.add(f"{where}.vs", "must be a string")
    elif key == "vb" and not isinstance(value, bool):
        problems.add(f"{where}.vb", "must be true or false")
    elif key == "vd" and (
        not isinstance(value, str) or not _BASE64URL.match(value) or len(value) % 4 == 1
    ):
        problems.add(f"{where}.vd", "must be base64url data without padding")
    else:
        return True
    return False


def _time(seconds: Decimal, received_ns: int, where: str, problems: _Collector) -> int | None:
    try:
        if seconds < RELATIVE_LIMIT:
            offset = int((seconds * 10**9).to_integral_value(ROUND_HALF_EVEN))
            ns = received_ns + offset
            if not 0 <= ns <= MAX_NS:
                raise ValueError("is before 1970-01-01 once added to the time of reception")
            return ns
        return seconds_to_ns(seconds)
    except ValueError as exc:
        problems.add(f"{where}.t", f"the time (bt + t = {seconds} s) {exc}")
        return None
