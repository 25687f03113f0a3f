"""One size and depth policy on every door of the running emulator: a body is at most
STRATUS_MAX_BODY_BYTES (1 MiB) over HTTP, WebSocket and MQTT alike, nests at most 32 levels, and
nothing the platform could never deliver is acknowledged without a dead letter saying why;
anything under the limit is stored, however much it grows on the way."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.provisioning import Api, eventually, signin
from tests.support.bus_reader import BusReader
from tests.support.emulator import RunningEmulator

pytestmark = [pytest.mark.e2e, pytest.mark.process]

LIMIT = 1024 * 1024  # STRATUS_MAX_BODY_BYTES' default
S = 10**9


@pytest.fixture(scope="module")
def admin(platform: RunningEmulator) -> Api:
    return signin(platform)


@pytest.fixture(scope="module")
def dead(platform: RunningEmulator) -> Iterator[BusReader]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", platform.pubsub)
        reader = BusReader(
            platform.project, ("telemetry-dead",), name=f"e2e-limits-{uuid.uuid4().hex[:8]}"
        )
        yield reader
        reader.close()


def _device(admin: Api, name: str) -> tuple[str, str, str]:
    """(device, token, sensor `t` of type double)."""
    device = admin.post("/api/devices/", json={"name": name}).json()["result"]["id"]
    sensor = admin.post(
        f"/api/devices/{device}/sensors/", json={"name": "t", "mapping": {"type": "double"}}
    ).json()["id"]
    token = admin.get(f"/api/devices/{device}/key").json()["token"]
    return device, token, sensor


class _Device:
    """A paho client of one device (MQTT 3.1.1 or 5) recording acknowledgements."""

    def __init__(self, platform: RunningEmulator, device: str, token: str, version: int) -> None:
        host, port = str(platform.endpoints["mqtt"]).rsplit(":", 1)
        self.acked: dict[int, int] = {}
        self.connected, self.gone = threading.Event(), threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=version)
        self.client.username_pw_set(device, token)
        self.client.on_connect = lambda *a: self.connected.set()
        self.client.on_disconnect = lambda *a: self.gone.set()
        self.client.on_publish = self._on_publish
        self.client.reconnect_delay_set(60, 60)
        self.client.connect(host, int(port))
        self.client.loop_start()
        assert self.connected.wait(10)

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        self.acked[mid] = reason.value

    def publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_an_mqtt_payload_under_the_limit_is_stored_whatever_it_grows_into(
    platform: RunningEmulator, admin: Api
) -> None:
    """Just under 1 MiB of small SenML records is ~35,000 readings: several MB once typed.
    Such payloads were acknowledged and never stored (a push above 2 MiB was refused)."""
    device, token, sensor = _device(admin, "limits-big")
    base = 1_800_000_000
    records: list[bytes] = []
    size = 2
    while size < LIMIT - 200:
        record = orjson.dumps({"n": "t", "v": len(records) % 100, "t": base + len(records)})
        records.append(record)
        size += len(record) + 1
    payload = b"[" + b",".join(records) + b"]"
    client = _Device(platform, device, token, mqtt.MQTTv5)
    info = client.publish(f"devices/{device}/events", payload)
    info.wait_for_publish(30)
    assert client.acked.get(info.mid) == 0
    client.close()
    path = f"/api/devices/{device}/sensors/{sensor}/data"
    query = {"from": str(base * S), "agg": "count", "every": "1d"}
    counted = eventually(
        lambda: admin.get(path, params=query),
        lambda answer: sum(p["value"] for p in answer.json()["data"]) >= len(records),
        timeout=90,
    )
    assert sum(p["value"] for p in counted.json()["data"]) == len(records)


def test_an_mqtt_payload_over_the_limit_is_dead_lettered_with_its_size(
    platform: RunningEmulator, admin: Api, dead: BusReader
) -> None:
    device, token, _ = _device(admin, "limits-over")
    payload = orjson.dumps({"sensor_id": "s", "timestamp": 1, "value": "x" * LIMIT})
    client = _Device(platform, device, token, mqtt.MQTTv311)
    info = client.publish(f"devices/{device}/events", payload)
    info.wait_for_publish(30)  # under the broker's packet bound: accepted, then refused loudly
    client.close()
    letters = dead.wait_for(
        "telemetry-dead", lambda got: any(m.attributes.get("device") == device for m in got)
    )
    (letter,) = [m for m in letters if m.attributes.get("device") == device]
    assert letter.attributes["reason"].startswith(f"payload is {len(payload)} bytes; the limit")


@pytest.mark.parametrize("version", [mqtt.MQTTv311, mqtt.MQTTv5])
def test_an_mqtt_packet_far_over_the_limit_is_never_acknowledged(
    platform: RunningEmulator, admin: Api, version: int
) -> None:
    """12 MiB used to be acknowledged, then retried by the bridge forever. The broker cuts the
    connection instead (MQTT 5 clients also learn the bound in the CONNACK)."""
    device, token, _ = _device(admin, f"limits-12mib-{version}")
    client = _Device(platform, device, token, version)
    info = client.publish(f"devices/{device}/events", b"[" + b"1," * (6 * LIMIT) + b"1]")
    assert info.rc != mqtt.MQTT_ERR_SUCCESS or client.gone.wait(30)  # refused or cut off
    assert info.mid not in client.acked
    client.close()


def test_http_and_websocket_refuse_the_same_limit(platform: RunningEmulator, admin: Api) -> None:
    _, token, sensor = _device(admin, "limits-doors")
    over = orjson.dumps({"sensor_id": sensor, "timestamp": 1, "value": 1, "pad": "x" * LIMIT})
    answer = admin.post(
        "/ingest", content=over, headers={"authorization": f"Bearer {token}",
                                          "content-type": "application/json"}
    )  # fmt: skip
    assert answer.status_code == 413
    deep = b'{"sensor_id": "' + sensor.encode() + b'", "timestamp": 1, "value": '
    deep += b"[" * 300 + b"]" * 300 + b"}"
    answer = admin.post("/ingest", content=deep, headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and "levels deep" in answer.json()["error"]["message"]

    async def websocket() -> tuple[int | None, Any]:
        url = str(platform.endpoints["websocket"])
        headers = {"authorization": f"Bearer {token}"}
        async with connect(url, additional_headers=headers, max_size=None) as socket:
            await socket.send(deep)
            refused = orjson.loads(await socket.recv())
            await socket.send(over)
            try:
                await socket.recv()
            except ConnectionClosed as closed:
                return (closed.rcvd.code if closed.rcvd else None), refused
        return None, refused

    code, refused = asyncio.run(websocket())
    assert refused["status"] == 400 and "levels deep" in refused["error"]["message"]
    assert code == 1009  # message too big: the socket is closed, nothing acknowledged


def test_deep_config_is_400_not_500(admin: Api) -> None:
    device = admin.post("/api/devices/", json={"name": "limits-config"}).json()["result"]["id"]
    deep: Any = 1
    for _ in range(200):
        deep = {"x": deep}
    answer = admin.call(
        "PUT", f"/api/devices/{device}/config", content=orjson.dumps({"config": deep}),
        headers={"content-type": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 400, answer.text
