"""Readings as devices give them: every accepted form, sensors by id, tree path or name, times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from stratus_sdk.models import Mapping, Sensor
from stratus_sdk.readings import Reading, SensorIndex, encode, timestamp_ns

NOW = 1_790_000_000_000_000_000
A, B, C = "a" * 20, "b" * 20, "c" * 20
SENSORS = SensorIndex([
    Sensor(A, "d", "temperature", Mapping("double")),
    Sensor(B, "d", "temperature", Mapping("double"), path="engine", tree_path="engine/temperature"),
    Sensor(C, "d", "count", Mapping("long"), tree_path="count"),
])  # fmt: skip


def decoded(reading) -> dict:
    return json.loads(encode(reading, SENSORS, NOW))


def test_forms_of_a_reading() -> None:
    expected = {"sensor_id": C, "timestamp": NOW, "value": 3}
    assert decoded(Reading("count", 3)) == expected
    assert decoded(("count", 3)) == expected
    assert decoded({"sensor": "count", "value": 3}) == expected
    assert decoded({"sensor_id": C, "value": 3, "timestamp": NOW}) == expected
    assert decoded((C, 3, 1_790_000_000.5))["timestamp"] == 1_790_000_000_500_000_000


def test_sensors_by_id_tree_path_or_unique_name() -> None:
    assert decoded(("engine/temperature", 1.0))["sensor_id"] == B
    assert decoded((A, 1.0))["sensor_id"] == A
    with pytest.raises(ValueError, match="several sensors"):
        decoded(("temperature", 1.0))  # two sensors have that name
    with pytest.raises(ValueError, match="none of the device's sensors"):
        decoded(("pressure", 1.0))
    # a device whose sensors we were not told: ids go through as given
    assert json.loads(encode(("x" * 20, 1), SensorIndex([]), NOW))["sensor_id"] == "x" * 20


def test_timestamps() -> None:
    assert timestamp_ns(None, NOW) == NOW
    assert timestamp_ns(5, NOW) == 5
    assert timestamp_ns(1.25, NOW) == 1_250_000_000
    moment = datetime(2026, 9, 21, 14, 13, 20, 123456, tzinfo=UTC)
    assert timestamp_ns(moment, NOW) == 1_790_000_000_123_456_000
    shifted = moment.astimezone(timezone(timedelta(hours=2)))
    assert timestamp_ns(shifted, NOW) == 1_790_000_000_123_456_000
    for bad in (datetime(2026, 1, 1), "now", True, float("nan")):
        with pytest.raises(ValueError):
            timestamp_ns(bad, NOW)


def test_bad_readings_are_refused_before_buffering() -> None:
    for bad in ((C,), (C, None), {"value": 1}, ("", 1), (C, 1, 2, 3)):
        with pytest.raises(ValueError):
            decoded(bad)
