"""Derived sensors end to end: a device's reading for a detector's score sensor is refused at
every door (HTTP 403, WebSocket frame 403, MQTT dead-lettered by the normalizer with the reason)
and the sensors API keeps them bound to their detector."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect

from emulator.mosquitto import Broker
from tests.e2e.provisioning import Api, signin
from tests.support.broker import MqttClient
from tests.support.bus_reader import BusReader
from tests.support.emulator import RunningEmulator

pytestmark = pytest.mark.e2e

TS = 1_790_000_000


@pytest.fixture(scope="module")
def admin(platform: RunningEmulator) -> Api:
    return signin(platform)


@pytest.fixture(scope="module")
def bound(admin: Api) -> tuple[str, str, str, dict[str, str]]:
    """(device, token, source sensor, detector) with an EWMA detector on the source."""
    device = admin.post("/api/devices/", json={"name": "derived-e2e"}).json()["result"]["id"]
    sensor = admin.post(
        f"/api/devices/{device}/sensors/", json={"name": "t", "mapping": {"type": "double"}}
    ).json()["id"]
    detector = admin.post(
        "/api/detectors", json={"name": "d", "device": device, "sensor": sensor, "kind": "ewma"}
    )
    assert detector.status_code == 201, detector.text
    token = admin.get(f"/api/devices/{device}/key").json()["token"]
    return device, token, sensor, detector.json()


@pytest.fixture(scope="module")
def dead(platform: RunningEmulator) -> Iterator[BusReader]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", platform.pubsub)
        reader = BusReader(
            platform.project, ("telemetry-dead",), name=f"e2e-derived-{uuid.uuid4().hex[:8]}"
        )
        yield reader
        reader.close()


def test_http_and_websocket_refuse_a_reading_for_a_derived_sensor(
    platform: RunningEmulator, bound: tuple[str, str, str, dict[str, str]]
) -> None:
    _, token, sensor, detector = bound
    body = [{"sensor_id": detector["score_sensor"], "timestamp": TS, "value": 99.0}]
    answer = httpx.post(
        f"{platform.base_url}/ingest", json=body, headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["field"] == "readings[0].sensor_id"
    assert "derived sensor" in answer.json()["error"]["message"]

    async def frames() -> list[dict[str, object]]:
        headers = {"authorization": f"Bearer {token}"}
        async with connect(str(platform.endpoints["websocket"]), additional_headers=headers) as ws:
            await ws.send(orjson.dumps(body))
            await ws.send(orjson.dumps([{"sensor_id": sensor, "timestamp": TS, "value": 1.0}]))
            return [orjson.loads(await ws.recv()) for _ in range(2)]

    refused, accepted = asyncio.run(frames())
    assert refused["status"] == 403 and accepted["status"] == 200
    assert "derived sensor" in str(refused["error"])


def test_mqtt_readings_for_a_derived_sensor_are_dead_lettered_with_the_reason(
    platform: RunningEmulator, bound: tuple[str, str, str, dict[str, str]], dead: BusReader
) -> None:
    address = platform.endpoints.get("mqtt")
    if not address:
        pytest.skip("the platform runs without Mosquitto (MQTT is off)")
    host, port = str(address).rsplit(":", 1)
    device, token, _, detector = bound
    client = MqttClient(Broker([], host, int(port), 0, {}), device, token)
    assert client.wait_connected(), client.connect_reason
    payload = {"sensor_id": detector["anomaly_sensor"], "timestamp": TS, "value": True}
    assert client.publish(f"devices/{device}/events", orjson.dumps(payload)) == 0
    got = dead.wait_for(
        "telemetry-dead", lambda all_: any(m.attributes.get("device") == device for m in all_)
    )
    (letter,) = [m for m in got if m.attributes.get("device") == device]
    assert "derived sensor" in letter.attributes["reason"]
    client.close()


def test_the_sensors_api_keeps_derived_sensors_bound_to_their_detector(
    admin: Api, bound: tuple[str, str, str, dict[str, str]]
) -> None:
    device, _, _, detector = bound
    path = f"/api/devices/{device}/sensors/{detector['score_sensor']}"
    shown = admin.get(path).json()
    assert shown["derived"] == {"detector": detector["id"], "source": detector["sensor"],
                                "series": "score"}  # fmt: skip
    assert admin.patch(path, json={"mapping": {"type": "string"}}).status_code == 409
    assert admin.patch(path, json={"description": "risk"}).status_code == 200
    refused = admin.delete(path)
    assert refused.status_code == 409 and detector["id"] in refused.json()["error"]["message"]
    assert admin.delete(f"/api/detectors/{detector['id']}").status_code == 204
    assert admin.get(path).status_code == 404
