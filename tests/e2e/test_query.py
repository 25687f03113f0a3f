"""The query API through the running emulator: readings the writer stored, read back by users and
consumers (JSON, CSV, paging, aggregates, latest), and every refusal with its status."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest

from functions.writer.service import Writer
from shared.directory import new_id
from shared.telemetry.model import NormalizedMessage, Reading, Source
from tests.e2e.provisioning import Api, foreign_admin, signin, store_of
from tests.support.emulator import RunningEmulator

pytestmark = pytest.mark.e2e

S = 10**9
T0 = 1_789_992_000 * S  # 2026-09-21T12:00:00Z
TEMPS = [(T0 + i * 20 * S, 20.0 + i / 2) for i in range(12)]  # four minutes, every 20 s


@dataclass
class World:
    admin: Api
    device: str
    temp: str
    label: str
    hidden: str
    consumer: Api
    device_api: Api

    def data(self, api: Api, sensor: str, query: str = "", **kwargs: object):
        return api.get(f"/api/devices/{self.device}/sensors/{sensor}/data{query}", **kwargs)


def _sensor(admin: Api, device: str, name: str, mapping: dict[str, str]) -> str:
    answer = admin.post(f"/api/devices/{device}/sensors/", json={"name": name, "mapping": mapping})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@pytest.fixture(scope="module")
def world(platform: RunningEmulator) -> World:
    admin = signin(platform)
    answer = admin.post("/api/devices/", json={"name": "query-e2e"})
    assert answer.status_code == 201, answer.text
    device = answer.json()["result"]["id"]
    temp = _sensor(admin, device, "temp", {"type": "double", "unit": "Cel"})
    label = _sensor(admin, device, "label", {"type": "string"})
    hidden = _sensor(admin, device, "hidden", {"type": "long"})
    consumer = admin.post("/api/consumers/", json={"name": "dashboard"})
    assert consumer.status_code == 201, consumer.text
    consumer_id = consumer.json()["id"]
    grant = admin.post(
        f"/api/consumers/{consumer_id}/sensors", json={"device": device, "sensor": temp}
    )
    assert grant.status_code == 200, grant.text
    consumer_token = admin.get(f"/api/consumers/{consumer_id}/key").json()["token"]
    device_token = admin.get(f"/api/devices/{device}/key").json()["token"]
    readings = [Reading(temp, ts, value, "double", "Cel") for ts, value in TEMPS]
    readings += [Reading(label, T0 + S, "a,b", "string"), Reading(label, T0 + 2 * S, "z", "string")]
    readings.append(Reading(hidden, T0, 7, "long"))
    half = len(readings) // 2
    writer = Writer(store_of(platform))
    org = admin.org
    for index, part in enumerate((readings[half:], readings[:half])):  # out of order
        message = NormalizedMessage(org, device, Source(f"e2e-{index}", "http"), tuple(part))
        writer.write(message, T0 + 3600 * S)
    return World(
        admin,
        device,
        temp,
        label,
        hidden,
        admin.with_token(consumer_token),
        admin.with_token(device_token),
    )


def test_a_user_reads_a_range_in_time_order(world: World) -> None:
    answer = world.data(world.admin, world.temp, f"?from={T0 + 20 * S}&to={T0 + 100 * S}")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "data": [{"timestamp": ts, "value": v} for ts, v in TEMPS[1:5]],
        "next": None,
    }
    everything = world.data(world.admin, world.temp).json()["data"]
    assert [(row["timestamp"], row["value"]) for row in everything] == TEMPS


def test_rfc3339_bounds_and_descending_pages(world: World) -> None:
    rows: list[tuple[int, float]] = []
    first = "?from=2026-09-21T12:00:00Z&to=2026-09-21T14:03:00%2B02:00&order=desc&limit=5"
    query = first
    while True:
        answer = world.data(world.admin, world.temp, query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        rows.extend((row["timestamp"], row["value"]) for row in body["data"])
        if body["next"] is None:
            break
        query = f"{first}&cursor={body['next']}"
    assert rows == [pair for pair in TEMPS if pair[0] < T0 + 180 * S][::-1]


def test_aggregates_per_minute(world: World) -> None:
    answer = world.data(world.admin, world.temp, "?agg=mean&every=1m")
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == [
        {"timestamp": T0 + m * 60 * S, "value": sum(v for _, v in TEMPS[3 * m : 3 * m + 3]) / 3}
        for m in range(4)
    ]
    counted = world.data(world.admin, world.label, "?agg=count&every=1h").json()["data"]
    assert counted == [{"timestamp": T0, "value": 2}]
    refused = world.data(world.admin, world.label, "?agg=max&every=1h")
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "agg"


def test_csv_by_format_or_accept(world: World) -> None:
    by_format = world.data(world.admin, world.label, "?format=csv")
    by_accept = world.data(world.admin, world.label, headers={"accept": "text/csv"})
    for answer in (by_format, by_accept):
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert list(csv.reader(io.StringIO(answer.text))) == [
            ["timestamp", "value"],
            [str(T0 + S), "a,b"],
            [str(T0 + 2 * S), "z"],
        ]
    paged = world.data(world.admin, world.temp, "?format=csv&limit=2")
    assert paged.headers["x-next-cursor"]


def test_latest_of_a_sensor_and_of_a_device(world: World) -> None:
    latest = world.data(world.admin, world.temp, "/latest")
    assert latest.json() == {"data": [{"timestamp": TEMPS[-1][0], "value": TEMPS[-1][1]}]}
    device = world.admin.get(f"/api/devices/{world.device}/data/latest").json()["data"]
    assert sorted(device, key=lambda row: row["sensor_id"]) == sorted(
        [
            {"sensor_id": world.temp, "timestamp": TEMPS[-1][0], "value": TEMPS[-1][1]},
            {"sensor_id": world.label, "timestamp": T0 + 2 * S, "value": "z"},
            {"sensor_id": world.hidden, "timestamp": T0, "value": 7},
        ],
        key=lambda row: row["sensor_id"],
    )


def test_a_consumer_reads_only_its_granted_sensor(world: World) -> None:
    granted = world.data(world.consumer, world.temp, "?limit=3")
    assert granted.status_code == 200, granted.text
    assert [row["value"] for row in granted.json()["data"]] == [v for _, v in TEMPS[:3]]
    assert world.data(world.consumer, world.label).status_code == 404
    assert world.data(world.consumer, world.hidden, "/latest").status_code == 404
    device = world.consumer.get(f"/api/devices/{world.device}/data/latest")
    assert [row["sensor_id"] for row in device.json()["data"]] == [world.temp]


def test_refusals(world: World, platform: RunningEmulator) -> None:
    assert world.data(world.device_api, world.temp).status_code == 403
    assert world.data(world.admin.with_token(None), world.temp).status_code == 401
    foreign = foreign_admin(platform)
    assert world.data(foreign, world.temp).status_code == 404
    assert foreign.get(f"/api/devices/{world.device}/data/latest").status_code == 404
    assert world.data(world.admin, new_id()).status_code == 404
    assert world.data(world.admin, "not-an-id").status_code == 404
    assert world.admin.get(f"/api/devices/{new_id()}/sensors/{world.temp}/data").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=yesterday", "from"),
        ("?to=2026-02-30T00:00:00Z", "to"),
        ("?limit=10001", "limit"),
        ("?order=sideways", "order"),
        ("?agg=median&every=1m", "agg"),
        ("?agg=mean", "every"),
        ("?cursor=garbage", "cursor"),
        ("?format=xml", "format"),
        ("?frm=1", "frm"),
    ],
)
def test_bad_parameters_are_400_naming_them(world: World, query: str, field: str) -> None:
    answer = world.data(world.admin, world.temp, query)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == field
