"""The reference ingest format: one reading `{"sensor_id", "timestamp", "value"}` or a non-empty
array of them, as the TUM iotplatform gateways accept it.

- `sensor_id`: a non-empty string (the sensor's id);
- `timestamp`: a non-negative number or numeric string, unit detected by magnitude
  (`shared.telemetry.timestamps`), converted to integer ns;
- `value`: any JSON value except null (strings such as "91827364" included; whether it fits
  is the sensor type's decision, `shared.telemetry.types`); objects and arrays only suit
  `object` sensors;
- no other fields, and no arrays inside the array.

Validation is all-or-nothing per body: `parse` returns every reading or raises InvalidReadings
listing each problem as `readings[<i>].<field>: <reason>` (index 0 for a single object).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from shared.errors import BadRequest
from shared.telemetry.errors import _Collector
from shared.telemetry.timestamps import timestamp_to_ns

__all__ = ["FIELDS", "RawReading", "parse", "parse_bytes"]

FIELDS = ("sensor_id", "timestamp", "value")
_FIELD_SET = frozenset(FIELDS)


@dataclass(slots=True)
class RawReading:
    """One valid reading, its time in ns; `value` still as sent (typed later against the sensor);
    `original` is the reading object as the device sent it. Treated as immutable (not frozen:
    see `shared.telemetry.model.Reading`)."""

    sensor_id: str
    ts: int
    value: Any
    index: int
    original: dict[str, Any]


def parse_bytes(data: bytes) -> list[RawReading]:
    """`parse` of a JSON body; BadRequest when it is not JSON."""
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    return parse(body)


def parse(body: Any) -> list[RawReading]:
    """The readings of a parsed body (object or non-empty array), or InvalidReadings."""
    problems = _Collector()
    if isinstance(body, dict):
        items: list[Any] = [body]
    elif isinstance(body, list):
        items = body
        if not items:
            problems.add("readings", "must not be an empty array")
    else:
        kind = "null" if body is None else type(body).__name__
        problems.add("readings", f"must be a reading object or an array of them, not {kind}")
        items = []
    readings: list[RawReading] = []
    for index, item in enumerate(items):
        reading = _valid_reading(item, index) or _reading(item, index, problems)
        if reading is not None:
            readings.append(reading)
    problems.raise_if_any()
    return readings


def _valid_reading(item: Any, index: int) -> RawReading | None:
    """The reading of a well-formed item with an integer timestamp, or None when anything is
    off or unusual (then `_reading` decides and names every problem): the hot loop of ingest
    and the normalizer."""
    if type(item) is not dict or len(item) != 3:
        return None
    sensor_id, ts, value = item.get("sensor_id"), item.get("timestamp"), item.get("value")
    if type(sensor_id) is not str or not sensor_id or type(ts) is not int or value is None:
        return None  # a missing field is None here too: three fields, all of them present
    try:
        ns = timestamp_to_ns(ts)
    except ValueError:
        return None
    return RawReading(sensor_id, ns, value, index, item)


def _reading(item: Any, index: int, problems: _Collector) -> RawReading | None:
    where = f"readings[{index}]"
    if not isinstance(item, dict):
        what = "an array (arrays cannot nest)" if isinstance(item, list) else repr(item)[:40]
        problems.add(where, f"must be an object {{sensor_id, timestamp, value}}, not {what}")
        return None
    before = problems.total
    if item.keys() != _FIELD_SET:
        for key in FIELDS:
            if key not in item:
                problems.add(f"{where}.{key}", "is missing")
        for key in sorted(item.keys() - _FIELD_SET):
            problems.add(f"{where}.{key}", "unknown field (expected sensor_id, timestamp, value)")
    sensor_id = item.get("sensor_id")
    if "sensor_id" in item and (not isinstance(sensor_id, str) or not sensor_id):
        problems.add(f"{where}.sensor_id", "must be a non-empty string")
    ts = 0
    if "timestamp" in item:
        try:
            ts = timestamp_to_ns(item["timestamp"])
        except ValueError as exc:
            problems.add(f"{where}.timestamp", str(exc))
    if "value" in item and item["value"] is None:
        problems.add(f"{where}.value", "must not be null")
    if problems.total != before or not isinstance(sensor_id, str):
        return None
    return RawReading(sensor_id, ts, item["value"], index, item)
