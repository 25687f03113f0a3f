"""The WebSocket gateway on the HTTP ingest core and the Pub/Sub emulator: upgrade refusals,
ordered answers with per-frame errors, frames on the bus as sent. Tokens are real ES256 device
tokens; the device directory (key versions, sensors) is held by the test."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gateways.websocket.server import Gateway
from shared.auth import Authenticator, KeySet, Principal, issue_device_token
from shared.bus.pubsub import PubSubBus
from shared.telemetry.ingest import Ingest
from shared.telemetry.sensors import CachedSensorDirectory, Sensor
from tests.support.bus_reader import BusReader

ORG, DEVICE, GONE = "o" * 20, "d" * 20, "e" * 20
SENSOR = "1" * 20
KEYS = KeySet.from_private_key(ec.generate_private_key(ec.SECP256R1()))
VERSIONS: dict[str, int] = {DEVICE: 2}  # GONE: deleted


def _token(device: str = DEVICE, version: int = 2) -> str:
    return issue_device_token(device, ORG, version, 1_700_000_000, keys=KEYS)


def _ingest(bus: PubSubBus) -> Ingest:
    def version(principal: Principal) -> int | None:
        return VERSIONS.get(principal.subject)

    def sensors(org: str, device: str) -> dict[str, Sensor]:
        return {SENSOR: Sensor(SENSOR, "temperature")} if (org, device) == (ORG, DEVICE) else {}

    authenticator = Authenticator(version, keys=KEYS, cache_seconds=0)
    directory = CachedSensorDirectory(sensors, 0, min_age=0)
    return Ingest(bus, authenticator, directory, transport="websocket")


def _serve(bus: PubSubBus, test: Any) -> None:
    async def run() -> None:
        gateway = Gateway(_ingest(bus), "127.0.0.1", 0, token_cache_seconds=0)
        await gateway.start()
        try:
            await test(f"ws://127.0.0.1:{gateway.port}")
        finally:
            await gateway.stop()

    asyncio.run(run())


def _reading(ts: int, sensor: str = SENSOR) -> bytes:
    return orjson.dumps({"sensor_id": sensor, "timestamp": ts, "value": 21.5})


def test_upgrade_without_a_valid_device_token_is_refused(bus: PubSubBus) -> None:
    cases = [
        ({}, 401),
        ({"authorization": f"Token {_token()}"}, 401),
        ({"authorization": "Bearer not.a.jwt"}, 403),
        ({"authorization": f"Bearer {_token(version=1)}"}, 403),  # rotated key
        ({"authorization": f"Bearer {_token(GONE, 1)}"}, 403),  # deleted device
    ]

    async def test(url: str) -> None:
        for headers, status in cases:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url, additional_headers=headers):
                    pass
            assert refused.value.response.status_code == status
            assert orjson.loads(refused.value.response.body)["error"]["status"] == status

    _serve(bus, test)


def test_each_frame_is_answered_in_order_and_a_bad_one_does_not_close(
    bus: PubSubBus, reader: BusReader
) -> None:
    reader.create("telemetry-raw")
    frames = [
        _reading(1_790_000_000),
        b"oops",
        b"[" + _reading(1_790_000_001) + b"," + _reading(1_790_000_002) + b"]",
        _reading(1_790_000_003, sensor="2" * 20),
        b'[{"n": "temperature", "v": 20.5, "t": 1790000004}]',
    ]

    async def test(url: str) -> None:
        async with connect(url, additional_headers={"authorization": f"Bearer {_token()}"}) as ws:
            for frame in frames:
                await ws.send(frame)
            answers = [orjson.loads(await ws.recv()) for _ in frames]
        assert [a["seq"] for a in answers] == [1, 2, 3, 4, 5]
        assert [a["status"] for a in answers] == [200, 400, 200, 403, 200]
        assert [a.get("accepted") for a in answers] == [1, None, 2, None, 1]
        assert answers[3]["error"]["field"] == "readings[0].sensor_id"

    started = time.time_ns()
    _serve(bus, test)
    messages = reader.wait_for("telemetry-raw", lambda got: len(got) == 3)
    assert sorted(m.data for m in messages) == sorted([frames[0], frames[2], frames[4]])
    for message in messages:
        attributes = message.attributes
        assert (attributes["org"], attributes["device"]) == (ORG, DEVICE)
        assert attributes["transport"] == "websocket"
        assert int(attributes["received_ns"]) >= started


@pytest.mark.parametrize(("change", "why"), [("rotate", "rotated"), ("delete", "no longer exists")])
def test_a_rotated_or_deleted_device_is_cut_off_an_open_socket(
    bus: PubSubBus, reader: BusReader, change: str, why: str
) -> None:
    """HTTP and MQTT stop a revoked device within STRATUS_TOKEN_CACHE_SECONDS: so does an open
    socket, on its next frame (refused with 403, then closed) and while idle (closed)."""
    reader.create("telemetry-raw")
    device = ("r" if change == "rotate" else "x") * 20
    headers = {"authorization": f"Bearer {_token(device)}"}

    def revoke() -> None:
        if change == "rotate":
            VERSIONS[device] = 3
        else:
            del VERSIONS[device]

    async def test(url: str) -> None:
        VERSIONS[device] = 2
        async with (
            connect(url, additional_headers=headers) as busy,
            connect(url, additional_headers=headers) as idle,
        ):
            await busy.send(b"[]")
            assert orjson.loads(await busy.recv())["seq"] == 1  # answered: the socket works
            revoke()
            await busy.send(_reading(1_790_000_000))
            refused = orjson.loads(await busy.recv())
            assert refused["status"] == 403 and why in refused["error"]["message"]
            for socket in (busy, idle):
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(socket.recv(), 5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
                assert why in closed.value.rcvd.reason

    _serve(bus, test)
