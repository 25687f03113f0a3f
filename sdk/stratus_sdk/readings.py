"""Readings as a device gives them, turned into the platform's reference format for the buffer."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stratus_sdk.models import Sensor

__all__ = ["Reading", "ReadingLike", "SensorIndex", "encode", "timestamp_ns"]


@dataclass(frozen=True, slots=True)
class Reading:
    """`sensor`: id, tree path or unique name; `timestamp`: ns, seconds or datetime (None: now)."""

    sensor: str
    value: Any
    timestamp: Any = None


ReadingLike = Reading | tuple[Any, ...] | Mapping[str, Any]


class SensorIndex:
    """A device's sensors by id, tree path and (when unique) name."""

    def __init__(self, sensors: Iterable[Sensor]) -> None:
        self.ids: set[str] = set()
        self.names: dict[str, str | None] = {}
        for sensor in sensors:
            self.ids.add(sensor.id)
            if sensor.tree_path:
                self.names[sensor.tree_path] = sensor.id
            if sensor.name and sensor.name != sensor.tree_path:
                taken = sensor.name in self.names and self.names[sensor.name] != sensor.id
                self.names[sensor.name] = None if taken else sensor.id

    def resolve(self, sensor: str) -> str:
        if sensor in self.ids or not (self.ids or self.names):
            return sensor  # a known id, or a device whose sensors we were not told
        found = self.names.get(sensor)
        if found is None:
            why = "several sensors" if sensor in self.names else "none of the device's sensors"
            raise ValueError(f"sensor {sensor!r} names {why}; use its id or tree path")
        return found


def timestamp_ns(value: Any, now: int) -> int:
    """Nanoseconds since the epoch from None (now), an int (ns), a float (s) or a datetime."""
    if value is None:
        return now
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime timestamp needs a time zone")
        return int(value.timestamp()) * 10**9 + value.microsecond * 1000
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"timestamp must be ns (int), seconds (float) or a datetime: {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("timestamp must be finite")
        return round(value * 10**9)
    return value


def _parts(reading: ReadingLike) -> tuple[str, Any, Any]:
    if isinstance(reading, Reading):
        return reading.sensor, reading.value, reading.timestamp
    if isinstance(reading, tuple):
        if len(reading) not in (2, 3):
            raise ValueError("a reading tuple is (sensor, value) or (sensor, value, timestamp)")
        return reading[0], reading[1], reading[2] if len(reading) == 3 else None
    sensor = reading.get("sensor", reading.get("sensor_id"))
    return sensor, reading.get("value"), reading.get("timestamp")


def encode(reading: ReadingLike, sensors: SensorIndex, now: int) -> bytes:
    """One reading as the JSON the buffer keeps: `{"sensor_id", "timestamp" (ns), "value"}`."""
    sensor, value, timestamp = _parts(reading)
    if not isinstance(sensor, str) or not sensor:
        raise ValueError(f"a reading needs a sensor: {reading!r}")
    if value is None:
        raise ValueError(f"a reading needs a value: {reading!r}")
    body = {
        "sensor_id": sensors.resolve(sensor),
        "timestamp": timestamp_ns(timestamp, now),
        "value": value,
    }
    return json.dumps(body, separators=(",", ":")).encode()
