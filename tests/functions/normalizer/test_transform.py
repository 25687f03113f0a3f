"""The normalizer core: each format to typed readings, and every unstorable reading rejected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from functions.normalizer.transform import Outcome, normalize
from shared.errors import BadRequest
from shared.telemetry.model import NormalizedMessage, Reading, Source
from shared.telemetry.sensors import Sensor, SensorIndex

NOW = 1_790_000_000_123_456_789
LATER = NOW + 5_000_000_000
S = 10**9

SENSORS = {
    "s1": Sensor("s1", "temperature", "", "double", "Cel"),
    "s2": Sensor("s2", "count", "", "long"),
    "s3": Sensor("s3", "open", "", "boolean"),
    "s4": Sensor("s4", "label", "", "string"),
    "s5": Sensor("s5", "gyro", "", "object"),
    "fl": Sensor("fl", "pressure", "front/left", "double", "kPa"),
    "fr": Sensor("fr", "pressure", "front/right", "double", "kPa"),
    "odd": Sensor("odd", "odd", "", "decimal"),
}


class Directory:
    def __init__(self, sensors: Mapping[str, Sensor] = SENSORS) -> None:
        self.sensors = sensors
        self.calls: list[tuple[str, str]] = []

    def lookup(self, org: str, device: str) -> Mapping[str, Sensor]:
        self.calls.append((org, device))
        return self.sensors


def _attrs(fmt: str, **more: str) -> dict[str, str]:
    return {"org": "o1", "device": "d1", "format": fmt, "request_id": "req-1", **more}


def _run(body: Any, fmt: str, directory: Directory | None = None, **more: str) -> Outcome:
    return normalize(orjson.dumps(body), _attrs(fmt, **more), directory or Directory(), NOW)


def _reasons(outcome: Outcome) -> list[tuple[str, str]]:
    return [(r.where, r.reason) for r in outcome.rejected]


def test_reference_example_string_value_for_a_double_sensor() -> None:
    outcome = _run({"sensor_id": "s1", "timestamp": 1526717967, "value": "91827364"}, "reference")
    assert outcome.rejected == ()
    assert outcome.message == NormalizedMessage(
        "o1",
        "d1",
        Source("req-1", "http"),
        (Reading("s1", 1_526_717_967 * S, 91827364.0, "double", "Cel"),),
    )
    again = NormalizedMessage.from_bytes(outcome.message.to_bytes())
    assert again == outcome.message


def test_reference_batch_with_rejections() -> None:
    body = [
        {"sensor_id": "s1", "timestamp": 1526717967123, "value": 21.5},
        {"sensor_id": "s1", "timestamp": 1526717967124, "value": "abc"},
        {"sensor_id": "s2", "timestamp": 1526717967123456, "value": "42"},
        {"sensor_id": "nope", "timestamp": 1526717967, "value": 1},
        {"sensor_id": "s3", "timestamp": 1526717967, "value": "true"},
        {"sensor_id": "s4", "timestamp": 1526717967, "value": 5},
        {"sensor_id": "s5", "timestamp": 1526717967, "value": {"x": 1, "y": 2}},
        {"sensor_id": "odd", "timestamp": 1526717967, "value": 1},
    ]
    outcome = _run(body, "reference", transport="websocket")
    assert outcome.message is not None
    assert outcome.message.source == Source("req-1", "websocket")
    assert outcome.message.readings == (
        Reading("s1", 1_526_717_967_123_000_000, 21.5, "double", "Cel"),
        Reading("s2", 1_526_717_967_123_456_000, 42, "long"),
        Reading("s3", 1_526_717_967 * S, True, "boolean"),
        Reading("s5", 1_526_717_967 * S, {"x": 1, "y": 2}, "object"),
    )
    assert _reasons(outcome) == [
        ("readings[1]", "sensor 's1': 'abc' is not a number (sensor type double)"),
        ("readings[3]", "unknown sensor 'nope': not a sensor of device 'd1'"),
        ("readings[5]", "sensor 's4': 5 is not a string (sensor type string)"),
        (
            "readings[7]",
            "sensor 'odd': unknown sensor type 'decimal' (expected one of double, "
            "long, boolean, string, object or integer)",
        ),
    ]
    rejected = outcome.rejected[1]
    assert rejected.original == body[3]
    assert rejected.to_dict() == {
        "reason": "unknown sensor 'nope': not a sensor of device 'd1'",
        "where": "readings[3]",
        "format": "reference",
        "received_ns": NOW,
        "original": body[3],
    }


def test_invalid_reference_body_is_rejected_whole() -> None:
    body = [{"sensor_id": "s1", "timestamp": 1, "value": 1}, {"sensor_id": "s1", "timestamp": -1}]
    outcome = _run(body, "reference")
    assert outcome.message is None
    assert _reasons(outcome) == [
        ("body", "readings[1].value: is missing; readings[1].timestamp: must not be negative")
    ]
    assert outcome.rejected[0].original == body


def test_nothing_accepted_means_no_message() -> None:
    outcome = _run({"sensor_id": "zz", "timestamp": 1, "value": 1}, "reference")
    assert outcome.message is None
    assert len(outcome.rejected) == 1


def test_senml_names_resolve_by_id_tree_path_name_and_urn_suffix() -> None:
    pack = [
        {"bn": "urn:dev:ow:10e2073a01080063:", "n": "temperature", "u": "Cel", "v": 23.1},
        {"bn": "", "n": "front/left/pressure", "t": -1, "v": 210},
        {"n": "front/right/pressure", "vs": "205.5"},
        {"n": "s2", "v": 7.0},
        {"n": "open", "vb": False},
        {"n": "label", "vs": "Machine Room"},
    ]
    outcome = _run(pack, "senml", received_ns=str(LATER))
    assert outcome.rejected == ()
    assert outcome.message is not None
    assert outcome.message.readings == (
        Reading("s1", LATER, 23.1, "double", "Cel"),
        Reading("fl", LATER - S, 210.0, "double", "kPa"),
        Reading("fr", LATER, 205.5, "double", "kPa"),
        Reading("s2", LATER, 7, "long"),
        Reading("s3", LATER, False, "boolean"),
        Reading("s4", LATER, "Machine Room", "string"),
    )


def test_senml_rejections() -> None:
    pack = [
        {"bn": "car/", "n": "pressure", "v": 1},  # two sensors are named pressure
        {"bn": "", "n": "wheel", "v": 1},
        {"n": "temperature", "u": "K", "v": 300},
        {"n": "temperature", "s": 5},
        {"n": "temperature", "v": 20, "s": 5},
        {"n": "open", "v": 1},
        {"n": "label", "vd": "aGkgCg"},
    ]
    outcome = _run(pack, "senml")
    assert outcome.message is not None
    assert outcome.message.readings == (
        Reading("s1", NOW, 20.0, "double", "Cel"),
        Reading("s4", NOW, "aGkgCg", "string"),
    )
    assert _reasons(outcome) == [
        (
            "records[0]",
            "no sensor of the device has the id, tree path or name 'car/pressure' (device 'd1')",
        ),
        (
            "records[1]",
            "no sensor of the device has the id, tree path or name 'wheel' (device 'd1')",
        ),
        ("records[2]", "sensor 's1': unit 'K' is not the sensor's 'Cel'"),
        ("records[3]", "sensor 's1': a sum (s) without a value is not stored"),
        ("records[4].s", "sensor 's1': the sum (s) next to the value is not stored"),
        ("records[5]", "sensor 's3': 1 is not true or false (sensor type boolean)"),
    ]
    assert outcome.rejected[4].original == pack[4]


def test_ambiguous_name() -> None:
    index = SensorIndex(SENSORS)
    assert index.find("pressure") == (
        "name 'pressure' matches several sensors of the device; use the tree path"
    )
    assert index.find("front/left/pressure") is SENSORS["fl"]
    assert index.find("fl") is SENSORS["fl"]
    assert index.find("urn:dev:x:front/right/pressure") is SENSORS["fr"]


def test_invalid_senml_pack_is_rejected_whole() -> None:
    outcome = _run([{"n": "temperature", "v": 1}, {"n": "x y", "v": 2}], "senml")
    assert outcome.message is None
    assert [r.where for r in outcome.rejected] == ["body"]
    assert outcome.rejected[0].reason.startswith("records[1].n: name 'x y' must start")


def test_mqtt_batch() -> None:
    entries = [
        {
            "format": "reference",
            "received_ns": NOW,
            "topic": "devices/d1/events",
            "payload": {"sensor_id": "s1", "timestamp": 1790000000, "value": 21.5},
        },
        {
            "format": "senml",
            "received_ns": LATER,
            "topic": "devices/d1/events/engine",
            "payload": [{"bn": "front/", "n": "left/pressure", "t": -2, "v": 3.2}],
        },
        {"format": "senml", "received_ns": NOW, "topic": "devices/d1/events", "payload": []},
        {"format": "state", "received_ns": NOW, "topic": "devices/d1/state", "payload": {}},
        {"format": "reference", "received_ns": "soon", "topic": "d1", "payload": {}},
        "junk",
        {
            "format": "reference",
            "received_ns": NOW,
            "topic": "d1",
            "payload": [{"sensor_id": "s9", "timestamp": 1, "value": 1}],
        },
    ]
    directory = Directory()
    outcome = normalize(orjson.dumps(entries), _attrs("batch", transport="mqtt"), directory, 0)
    assert directory.calls == [("o1", "d1")]  # one lookup for the whole batch
    assert outcome.message is not None
    assert outcome.message.source == Source("req-1", "mqtt")
    assert outcome.message.readings == (
        Reading("s1", 1_790_000_000 * S, 21.5, "double", "Cel"),
        Reading("fl", LATER - 2 * S, 3.2, "double", "kPa"),
    )
    assert _reasons(outcome) == [
        ("entries[2].payload", "records: a SenML pack must be a non-empty JSON array of records"),
        ("entries[3]", "a state entry belongs on the device-state topic, not telemetry"),
        ("entries[4]", "batch entry received_ns must be a non-negative integer"),
        ("entries[5]", "a batch entry must be an object {format, received_ns, topic, payload}"),
        ("entries[6].payload.readings[0]", "unknown sensor 's9': not a sensor of device 'd1'"),
    ]
    assert [(r.format, r.received_ns, r.topic) for r in outcome.rejected] == [
        ("senml", NOW, "devices/d1/events"),
        ("state", NOW, "devices/d1/state"),
        ("reference", 0, "d1"),
        ("batch", 0, ""),
        ("reference", NOW, "d1"),
    ]
    assert outcome.rejected[3].original == "junk"


class FleetDirectory(Directory):
    """d1 has every sensor of SENSORS, d2 only s1; other devices have none."""

    def lookup(self, org: str, device: str) -> Mapping[str, Sensor]:
        self.calls.append((org, device))
        return {"d1": SENSORS, "d2": {"s1": SENSORS["s1"]}}.get(device, {})


def test_mqtt_batch_of_several_devices() -> None:
    """The bridge's fleet batch: no device attribute, each entry names its device; one
    normalized message whose readings name their devices, rejections name theirs."""

    def entry(device: str | None, sensor: str, ts: int) -> dict[str, Any]:
        payload = {"sensor_id": sensor, "timestamp": ts, "value": 1}
        out = {"format": "reference", "received_ns": NOW, "topic": "x", "payload": payload}
        return out if device is None else out | {"device": device}

    entries = [
        entry("d1", "s1", 1),
        entry("d2", "s1", 2),
        entry("d1", "s2", 3),
        entry("d2", "s2", 4),  # s2 is d1's sensor, not d2's
        entry(None, "s1", 5),  # no device, and the message has none
        entry("", "s1", 6),
        entry("d3", "s1", 7),  # a device without sensors (deleted)
    ]
    attributes = {"org": "o1", "format": "batch", "transport": "mqtt", "request_id": "b-1"}
    directory = FleetDirectory()
    outcome = normalize(orjson.dumps(entries), attributes, directory, 0)
    assert directory.calls == [("o1", "d1"), ("o1", "d2"), ("o1", "d3")]  # once per device
    assert outcome.message is not None and outcome.message.device == ""
    assert outcome.message.readings == (
        Reading("s1", 1 * S, 1.0, "double", "Cel", "d1"),
        Reading("s1", 2 * S, 1.0, "double", "Cel", "d2"),
        Reading("s2", 3 * S, 1, "long", None, "d1"),
    )
    assert [(r.where, r.device) for r in outcome.rejected] == [
        ("entries[3].payload.readings[0]", "d2"),
        ("entries[4]", ""),
        ("entries[5]", ""),
        ("entries[6].payload.readings[0]", "d3"),
    ]
    assert "not a sensor of device 'd2'" in outcome.rejected[0].reason
    assert outcome.rejected[1].reason == (
        "a batch entry must name its device when the message has none"
    )
    assert outcome.rejected[0].to_dict()["device"] == "d2"
    # a batch naming its device on the message: entries may leave it out
    one = normalize(orjson.dumps(entries[4:5]), attributes | {"device": "d2"}, directory, 0)
    assert one.message is not None and one.message.readings[0].device == ""
    assert one.message.device == "d2" and one.rejected == ()


def test_received_ns_attribute_or_argument() -> None:
    pack = [{"n": "s1", "v": 1}]
    outcome = normalize(orjson.dumps(pack), _attrs("senml"), Directory(), NOW)
    assert outcome.message is not None and outcome.message.readings[0].ts == NOW
    outcome = normalize(orjson.dumps(pack), _attrs("senml", received_ns="12"), Directory(), NOW)
    assert outcome.message is not None and outcome.message.readings[0].ts == 12


def test_no_lookup_without_readings() -> None:
    directory = Directory()
    _run([{"n": "x y", "v": 1}], "senml", directory)
    assert directory.calls == []


@pytest.mark.parametrize(
    ("raw", "attributes", "message"),
    [
        (b"{}", {"device": "d1", "format": "reference"}, "without org and device"),
        (b"{}", {"org": "o1", "format": "reference"}, "without org and device"),
        (b"[]", {"device": "d1", "format": "batch"}, "without org and device"),
        (b"{}", {"org": "o1", "device": "d1"}, "unknown format ''"),
        (b"{}", {"org": "o1", "device": "d1", "format": "cbor"}, "unknown format 'cbor'"),
        (b"{nope", {"org": "o1", "device": "d1", "format": "senml"}, "not valid JSON"),
        (b"{}", {"org": "o1", "device": "d1", "format": "batch"}, "non-empty JSON array"),
        (b"[]", {"org": "o1", "device": "d1", "format": "batch"}, "non-empty JSON array"),
    ],
)
def test_broken_envelope(raw: bytes, attributes: dict[str, str], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        normalize(raw, attributes, Directory(), NOW)


def test_tree_path() -> None:
    assert Sensor("a", "p", "front/left/").tree_path == "front/left/p"
    assert Sensor("a", "p").tree_path == "p"
