"""HTTP ingest through its routes, publishing on the bus port (the in-memory fake, and the Pub/Sub
emulator): what is accepted arrives as one raw message per request; everything refused is refused
before anything is published."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import KeySet, issue_user_token
from shared.http import Request, Response
from shared.platforms import openwhisk
from shared.telemetry.ingest import SENML
from shared.telemetry.sensors import Sensor
from tests.functions.ingest.conftest import (
    DEVICE,
    FOREIGN,
    ORG,
    OTHER_DEVICE,
    RECEIVED_NS,
    S1,
    S2,
    Setup,
    make_app,
)


def post(
    setup: Setup,
    body: Any,
    *,
    token: str | None = "",
    content_type: str | None = "application/json",
    path: str = "/ingest",
    headers: dict[str, str] | None = None,
) -> Response:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["content-type"] = content_type
    if token is not None:
        all_headers["authorization"] = f"Bearer {token or setup.token()}"
    return setup.app(Request("POST", path, headers=all_headers, body=raw))


def reading(sensor: str = S1, value: Any = 21.5, timestamp: Any = 1526717967) -> dict[str, Any]:
    return {"sensor_id": sensor, "timestamp": timestamp, "value": value}


@pytest.mark.parametrize("path", ["/ingest", "/", "/ingest/"])
def test_a_batch_is_one_raw_message_with_the_body_as_sent(setup: Setup, path: str) -> None:
    body = orjson.dumps([reading(S1), reading(S2, "91827364", 1526717967000)])
    response = post(setup, body, path=path, headers={"x-request-id": "req-42"})
    assert response.status == 200
    assert response.json() == {"accepted": 2}
    [message] = setup.drain()
    assert message.data == body
    assert dict(message.attributes) == {
        "org": ORG,
        "device": DEVICE,
        "format": "reference",
        "received_ns": str(RECEIVED_NS),
        "transport": "http",
        "request_id": "req-42",
    }


def test_one_object_and_a_generated_request_id(setup: Setup) -> None:
    response = post(setup, reading(value="91827364"))
    assert response.status == 200
    assert response.json() == {"accepted": 1}
    [message] = setup.drain()
    assert message.attributes["request_id"] == response.headers["x-request-id"]
    assert orjson.loads(message.data) == reading(value="91827364")


def test_senml_is_published_as_senml(setup: Setup) -> None:
    pack = [
        {"bn": "urn:dev:ow:10e2073a01080063:", "n": "temperature", "u": "Cel", "v": 23.1, "t": -2}
    ]
    response = post(setup, pack, content_type=f"{SENML}; charset=utf-8")
    assert response.status == 200
    assert response.json() == {"accepted": 1}
    [message] = setup.drain()
    assert message.attributes["format"] == "senml"
    assert orjson.loads(message.data) == pack


@pytest.mark.parametrize(
    ("authorization", "status", "message"),
    [
        (None, 401, "authorization header missing"),
        ("Basic dXNlcjpwdw==", 401, "Bearer <token>"),
        ("Bearer not-a-token", 403, "malformed"),
    ],
)
def test_unreadable_or_invalid_credentials(
    setup: Setup, authorization: str | None, status: int, message: str
) -> None:
    headers = {"content-type": "application/json"}
    if authorization is not None:
        headers["authorization"] = authorization
    response = setup.app(Request("POST", "/ingest", headers=headers, body=orjson.dumps(reading())))
    assert response.status == status
    assert message in response.json()["error"]["message"]
    assert setup.drain() == []


def test_a_token_of_another_key_is_403(setup: Setup) -> None:
    stranger = KeySet.from_private_key(ec.generate_private_key(ec.SECP256R1()))
    token = dataclasses.replace(setup, keys=stranger).token()
    response = post(setup, reading(), token=token)
    assert response.status == 403
    assert "not one of our keys" in response.json()["error"]["message"]


def test_rotated_and_deleted_devices_are_403(setup: Setup) -> None:
    old = setup.token(version=1)
    setup.directory.versions[DEVICE] = 2
    response = post(setup, reading(), token=old)
    assert response.status == 403
    assert response.json()["error"]["message"] == "token revoked: the device key was rotated"
    assert post(setup, reading(), token=setup.token(version=2)).status == 200
    setup.directory.versions[DEVICE] = None
    response = post(setup, reading(), token=setup.token(version=2))
    assert response.status == 403
    assert "no longer exists" in response.json()["error"]["message"]
    assert len(setup.drain()) == 1


def test_a_user_token_cannot_send_telemetry(setup: Setup) -> None:
    setup.directory.versions["u" * 20] = 0
    token = issue_user_token("u" * 20, ORG, "admin", 0, keys=setup.keys)
    response = post(setup, reading(), token=token)
    assert response.status == 403
    assert "use the device's token" in response.json()["error"]["message"]


def test_a_sensor_of_another_device_refuses_the_whole_batch(setup: Setup) -> None:
    response = post(setup, [reading(S1), reading(FOREIGN), reading(S2)])
    assert response.status == 403
    error = response.json()["error"]
    assert error["field"] == "readings[1].sensor_id"
    assert "is not a sensor of this device" in error["message"]
    assert setup.drain() == []


def test_a_sensor_created_after_the_cache_was_filled_is_accepted(setup: Setup) -> None:
    assert post(setup, reading(S1)).status == 200
    reads = setup.directory.sensor_reads
    assert post(setup, reading(S2)).status == 200
    assert setup.directory.sensor_reads == reads  # served from the cache
    new = "3" * 20
    setup.directory.sensors[DEVICE][new] = Sensor(new, "pressure", "tyres")
    assert post(setup, reading(new)).status == 200  # the cache misses it: read afresh
    assert setup.directory.sensor_reads == reads + 1
    pack = [{"n": "tyres/pressure", "v": 2.1}]
    assert post(setup, pack, content_type=SENML).status == 200  # now cached, by tree path
    assert setup.directory.sensor_reads == reads + 1
    assert len(setup.drain()) == 4


def test_senml_names_are_checked_at_the_door(setup: Setup) -> None:
    """A SenML name resolves to one of the device's sensors (id, tree path, unique name, URN
    suffix) or the whole pack is refused: 403 for none, 400 for several; nothing published."""
    ok = [
        {"bn": "urn:dev:ow:1:", "n": "humidity", "v": 40},
        {"bn": "", "n": "room/temperature", "v": 21.5},
        {"n": S1, "v": 21.6},
    ]
    assert post(setup, ok, content_type=SENML).status == 200
    assert len(setup.drain()) == 1
    foreign = [{"n": "humidity", "v": 40}, {"n": "pressure", "v": 1.0}]  # OTHER_DEVICE's
    response = post(setup, foreign, content_type=SENML)
    assert response.status == 403
    error = response.json()["error"]
    assert error["field"] == "records[1].n"
    assert error["message"].startswith("records[1].n: 'pressure' is not a sensor of this device")
    setup.directory.sensors[DEVICE]["4" * 20] = Sensor("4" * 20, "temperature", "outside")
    # unknown to the cache: read afresh, and now two sensors are named "temperature"
    assert post(setup, [{"n": "outside/temperature", "v": 3.0}], content_type=SENML).status == 200
    response = post(setup, [{"n": "temperature", "v": 3.0}], content_type=SENML)
    assert response.status == 400
    assert response.json()["error"]["field"] == "records[0].n"
    assert "matches several sensors" in response.json()["error"]["message"]
    assert len(setup.drain()) == 1


def test_the_other_device_is_not_confused_with_this_one(setup: Setup) -> None:
    setup.directory.versions[OTHER_DEVICE] = 1
    token = setup.token(OTHER_DEVICE)
    assert post(setup, reading(FOREIGN), token=token).status == 200
    assert post(setup, reading(S1), token=token).status == 403
    [message] = setup.drain()
    assert message.attributes["device"] == OTHER_DEVICE


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([reading(), reading(), reading(), reading(timestamp="soon")], "readings[3].timestamp"),
        ({"sensor_id": S1, "value": 1}, "readings[0].timestamp"),
        ([{"n": "x", "v": 1, "vb": True}], "records[0].vb"),
        (b"{not json", None),
        (b"", None),
    ],
)
def test_malformed_bodies_are_400_naming_what_is_wrong(
    setup: Setup, body: Any, field: str | None
) -> None:
    response = post(setup, body)
    assert response.status == 400
    error = response.json()["error"]
    assert error.get("field") == field
    if field:
        assert field in error["message"]
    assert setup.drain() == []


def test_other_content_types_are_415(setup: Setup) -> None:
    response = post(setup, reading(), content_type="text/plain")
    assert response.status == 415
    assert "application/senml+json" in response.json()["error"]["message"]
    assert setup.drain() == []


def test_bodies_over_the_limit_are_413_at_the_platform_edge(setup: Setup) -> None:
    app = make_app(setup.directory, setup.keys, setup.bus, max_body_bytes=200)
    action = openwhisk.web_action(app)
    big = orjson.dumps([reading()] * 10)
    args = {
        "__ow_method": "post",
        "__ow_path": "/ingest",
        "__ow_headers": {"authorization": f"Bearer {setup.token()}"},
        "__ow_body": base64.b64encode(big).decode(),
    }
    answer = action(args)
    assert answer["statusCode"] == 413
    assert "limit is 200 bytes" in answer["body"]
    assert setup.drain() == []


def test_a_bus_failure_is_503_and_nothing_is_accepted(setup: Setup) -> None:
    bus = setup.broken_bus()  # its telemetry-raw topic does not exist
    app = make_app(setup.directory, setup.keys, bus)
    request = Request(
        "POST",
        "/ingest",
        headers={"authorization": f"Bearer {setup.token()}", "content-type": "application/json"},
        body=orjson.dumps(reading()),
    )
    response = app(request)
    bus.close()
    assert response.status == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert setup.drain() == []
