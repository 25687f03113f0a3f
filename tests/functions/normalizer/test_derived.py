"""The normalizer rejects readings of a derived sensor (what MQTT and other paths that skip the
HTTP door may carry), with the reason, and keeps the others."""

from __future__ import annotations

import orjson

from functions.normalizer.transform import normalize
from shared.telemetry.sensors import Sensor

NOW = 1_790_000_000_123_456_789
SENSORS = {
    "s1": Sensor("s1", "temperature"),
    "sc": Sensor("sc", "temperature.ab12cd34.score", derived=True),
}


class Directory:
    def lookup(self, org: str, device: str) -> dict[str, Sensor]:
        return SENSORS


def test_reference_and_senml_readings_of_a_derived_sensor_are_rejected() -> None:
    attributes = {"org": "o1", "device": "d1", "request_id": "r"}
    body = [
        {"sensor_id": "s1", "timestamp": 1_790_000_000, "value": 1.0},
        {"sensor_id": "sc", "timestamp": 1_790_000_000, "value": 9.0},
    ]
    outcome = normalize(orjson.dumps(body), {**attributes, "format": "reference"}, Directory(), NOW)
    assert outcome.message is not None
    assert [r.sensor for r in outcome.message.readings] == ["s1"]
    (rejected,) = outcome.rejected
    assert rejected.where == "readings[1]"
    assert "'sc' is a derived sensor" in rejected.reason
    senml = [{"n": "temperature.ab12cd34.score", "v": 3.0, "t": 1_790_000_000}]
    outcome = normalize(orjson.dumps(senml), {**attributes, "format": "senml"}, Directory(), NOW)
    assert outcome.message is None
    assert [r.where for r in outcome.rejected] == ["records[0]"]
    assert "derived sensor" in outcome.rejected[0].reason
