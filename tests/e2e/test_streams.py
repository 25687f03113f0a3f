"""Live streams through the emulator: readings arrive as Server-Sent Events as they are stored; a
client that disconnects and resumes with Last-Event-ID gets every reading it missed, in order,
none twice; the query API's access rules apply (device 403, other tenant / ungranted 404)."""

from __future__ import annotations

import json

import httpx
import pytest
from httpx_sse import connect_sse

from tests.e2e.provisioning import Api, foreign_admin, signin
from tests.support.emulator import RunningEmulator

pytestmark = [pytest.mark.process, pytest.mark.e2e]

S = 10**9
T0 = 1_790_000_000 * S


@pytest.fixture(scope="module")
def setup(platform: RunningEmulator) -> dict[str, str]:
    admin = signin(platform)
    device = admin.post("/api/devices/", json={"name": "streamed"}).json()["result"]["id"]
    sensors = [
        admin.post(f"/api/devices/{device}/sensors/",
                   json={"name": name, "mapping": {"type": "double"}}).json()["id"]
        for name in ("a", "b")
    ]  # fmt: skip
    key = admin.get(f"/api/devices/{device}/key").json()["token"]
    return {"token": admin.token or "", "device": device, "a": sensors[0], "b": sensors[1],
            "key": key}  # fmt: skip


def send(platform: RunningEmulator, setup: dict[str, str], sensor: str, values: list[float]):
    readings = [{"sensor_id": setup[sensor], "timestamp": T0 + int(v * S), "value": v}
                for v in values]  # fmt: skip
    headers = {"authorization": f"Bearer {setup['key']}"}
    answer = httpx.post(f"{platform.base_url}/ingest", json=readings, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text


class Stream:
    """An open SSE connection (opened at once, so it starts before what the test sends next)
    and its `reading` events as (id, data)."""

    def __init__(self, client: httpx.Client, path: str, token: str, last: str | None = None):
        headers = {"authorization": f"Bearer {token}"}
        if last:
            headers["last-event-id"] = last
        self._context = connect_sse(client, "GET", path, headers=headers)
        source = self._context.__enter__()
        assert source.response.status_code == 200
        self._events = source.iter_sse()
        next(self._events)  # the opening retry line is read once the headers are in

    def __next__(self) -> tuple[str, dict]:
        for event in self._events:
            if event.event == "reading":
                return event.id, json.loads(event.data)
        raise AssertionError("the stream ended")

    def close(self) -> None:
        self._context.__exit__(None, None, None)


def events(client: httpx.Client, path: str, token: str, last: str | None = None) -> Stream:
    return Stream(client, path, token, last)


def take(stream: Stream, count: int) -> list:
    return [next(stream) for _ in range(count)]


def test_disconnect_and_resume_without_a_gap(platform: RunningEmulator, setup) -> None:
    path = f"/api/devices/{setup['device']}/sensors/{setup['a']}/stream"
    with httpx.Client(base_url=platform.base_url, timeout=httpx.Timeout(30, read=20)) as client:
        live = events(client, path, setup["token"])
        send(platform, setup, "b", [100.0])  # another sensor: not in this stream
        send(platform, setup, "a", [1.0, 2.0, 3.0])
        send(platform, setup, "a", [4.0, 5.0])
        first = take(live, 5)
        live.close()  # the client goes away
        assert [data["value"] for _, data in first] == [1.0, 2.0, 3.0, 4.0, 5.0]
        assert {data["sensor_id"] for _, data in first} == {setup["a"]}
        assert first[0][1] == {"device_id": setup["device"], "sensor_id": setup["a"],
                               "timestamp": T0 + S, "value": 1.0}  # fmt: skip

        send(platform, setup, "a", [6.0, 7.0])  # while disconnected
        send(platform, setup, "a", [8.0])
        resumed = events(client, path, setup["token"], last=first[2][0])  # after the 3rd
        again = take(resumed, 5)
        resumed.close()
    assert [data["value"] for _, data in again] == [4.0, 5.0, 6.0, 7.0, 8.0]
    assert [event_id for event_id, _ in again[:2]] == [event_id for event_id, _ in first[3:]]


def test_a_device_stream_carries_every_readable_sensor(platform: RunningEmulator, setup) -> None:
    path = f"/api/devices/{setup['device']}/stream"
    with httpx.Client(base_url=platform.base_url, timeout=httpx.Timeout(30, read=20)) as client:
        live = events(client, path, setup["token"])
        send(platform, setup, "a", [11.0])
        send(platform, setup, "b", [12.0])
        got = take(live, 2)
        live.close()
    assert sorted((data["sensor_id"], data["value"]) for _, data in got) == sorted(
        [(setup["a"], 11.0), (setup["b"], 12.0)]
    )


def test_who_may_stream(platform: RunningEmulator, setup) -> None:
    admin = Api(platform.base_url, setup["token"])
    sensor_path = f"/api/devices/{setup['device']}/sensors/{setup['a']}/stream"
    device_path = f"/api/devices/{setup['device']}/stream"
    consumer = admin.post("/api/consumers/", json={"name": "reader"}).json()["id"]
    consumer_token = admin.get(f"/api/consumers/{consumer}/key").json()["token"]
    other = foreign_admin(platform)
    for path in (sensor_path, device_path):
        assert admin.with_token(None).get(path).status_code == 401
        assert admin.with_token(setup["key"]).get(path).status_code == 403  # a device token
        assert other.get(path).status_code == 404  # another organisation
        assert admin.with_token(consumer_token).get(path).status_code == 404  # not granted
    assert admin.get(f"/api/devices/{setup['device']}/sensors/{'f' * 20}/stream").status_code == 404
    bad = admin.get(sensor_path, headers={"last-event-id": "not-ours"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "last-event-id"
    # a granted consumer streams the sensor
    admin.post(f"/api/consumers/{consumer}/sensors",
               json={"device": setup["device"], "sensor": setup["a"]})  # fmt: skip
    with httpx.Client(base_url=platform.base_url, timeout=httpx.Timeout(30, read=20)) as client:
        live = events(client, sensor_path, consumer_token)
        send(platform, setup, "a", [21.0])
        ((_, data),) = take(live, 1)
        live.close()
    assert data["value"] == 21.0
