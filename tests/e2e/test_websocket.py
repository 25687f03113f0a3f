"""WebSocket ingest through the running emulator: the upgrade checks the device token (401, 403),
accepted frames are answered in order after the bus has them, a bad frame is answered with its
error and the connection goes on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.e2e.provisioning import Api, signin
from tests.support.bus_reader import BusReader
from tests.support.emulator import RunningEmulator

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin(platform: RunningEmulator) -> Api:
    return signin(platform)


@pytest.fixture(scope="module")
def url(platform: RunningEmulator) -> str:
    return str(platform.endpoints["websocket"])


@pytest.fixture(scope="module")
def bus(platform: RunningEmulator) -> Iterator[BusReader]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", platform.pubsub)
        reader = BusReader(
            platform.project, ("telemetry-raw",), name=f"e2e-ws-{uuid.uuid4().hex[:8]}"
        )
        yield reader
        reader.close()


def _device_with_sensor(admin: Api) -> tuple[str, str, str]:
    """(device id, token, sensor id) made through the API."""
    device = admin.post("/api/devices/", json={"name": "ws-device"}).json()["result"]["id"]
    sensor = admin.post(
        f"/api/devices/{device}/sensors/",
        json={"name": "temperature", "mapping": {"type": "double", "unit": "Cel"}},
    )
    assert sensor.status_code == 201, sensor.text
    token = admin.get(f"/api/devices/{device}/key").json()["token"]
    return device, token, sensor.json()["id"]


def test_the_upgrade_needs_a_valid_device_token(admin: Api, url: str) -> None:
    user_token = admin.token

    async def refused(headers: dict[str, str]) -> int:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(url, additional_headers=headers):
                pass
        assert orjson.loads(caught.value.response.body)["error"]["status"] in (401, 403)
        return caught.value.response.status_code

    async def run() -> list[int]:
        return [
            await refused({}),
            await refused({"authorization": "Basic eDp5"}),
            await refused({"authorization": "Bearer not.a.token"}),
            await refused({"authorization": f"Bearer {user_token}"}),
        ]

    assert asyncio.run(run()) == [401, 401, 403, 403]


def test_frames_are_acknowledged_in_order_and_land_on_the_bus(
    admin: Api, url: str, bus: BusReader
) -> None:
    device, token, sensor = _device_with_sensor(admin)
    frames = [
        orjson.dumps({"sensor_id": sensor, "timestamp": 1_790_000_000, "value": 21.5}),
        b"{not json",
        orjson.dumps(
            [{"sensor_id": sensor, "timestamp": 1_790_000_001 + n, "value": n} for n in range(3)]
        ),
        orjson.dumps({"sensor_id": "0" * 20, "timestamp": 1_790_000_009, "value": 1}),
        orjson.dumps([{"bn": "", "n": "temperature", "v": 22.0, "t": 1_790_000_010}]),
    ]

    async def run() -> list[dict[str, object]]:
        headers = {"authorization": f"Bearer {token}"}
        async with connect(url, additional_headers=headers) as ws:
            for frame in frames:
                await ws.send(frame)
            return [orjson.loads(await ws.recv()) for _ in frames]

    answers = asyncio.run(run())
    assert [a["seq"] for a in answers] == [1, 2, 3, 4, 5]
    assert [a["status"] for a in answers] == [200, 400, 200, 403, 200]
    assert [a.get("accepted") for a in answers] == [1, None, 3, None, 1]
    assert answers[3]["error"]["field"] == "readings[0].sensor_id"  # type: ignore[index]
    mine = bus.wait_for(
        "telemetry-raw",
        lambda got: len([m for m in got if m.attributes.get("device") == device]) == 3,
    )
    published = [m for m in mine if m.attributes.get("device") == device]
    assert sorted(m.data for m in published) == sorted([frames[0], frames[2], frames[4]])
    assert {m.attributes["transport"] for m in published} == {"websocket"}
    assert {m.attributes["org"] for m in published} == {admin.org}
