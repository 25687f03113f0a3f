"""The telemetry pipeline end to end through the running emulator: readings posted to /ingest (the
reference format and SenML) pass the bus, the normalizer and the writer, and come back through
the query API value for value, in time order, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from shared.store import Query
from shared.telemetry.chunks import chunks_path
from tests.e2e.provisioning import Api, signin, store_of
from tests.support.emulator import RunningEmulator
from tests.support.waiting import eventually, until

pytestmark = pytest.mark.e2e

S = 10**9
DELIVERY_BOUND = 60.0  # seconds for a message to pass ingest, normalizer and writer


def _sensor(admin: Api, device: str, name: str, mapping: dict[str, str]) -> str:
    answer = admin.post(f"/api/devices/{device}/sensors/", json={"name": name, "mapping": mapping})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _rows(admin: Api, device: str, sensor: str, query: str = "") -> list[tuple[int, Any]]:
    answer = admin.get(f"/api/devices/{device}/sensors/{sensor}/data{query}")
    assert answer.status_code == 200, answer.text
    return [(row["timestamp"], row["value"]) for row in answer.json()["data"]]


def _until(read: Callable[[], list[tuple[int, Any]]], count: int) -> list[tuple[int, Any]]:
    """Poll the query API until `count` rows are there (or the bound passes); the rows."""
    return eventually(read, lambda rows: len(rows) >= count, DELIVERY_BOUND, interval=0.2)


def _ingest(platform: RunningEmulator, token: str, body: Any, content_type: str) -> None:
    answer = httpx.post(
        f"{platform.base_url}/ingest",
        content=orjson.dumps(body),
        headers={"authorization": f"Bearer {token}", "content-type": content_type},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def test_posted_readings_come_back_through_the_query_api(platform: RunningEmulator) -> None:
    admin = signin(platform)
    created = admin.post("/api/devices/", json={"name": "pipeline-e2e"})
    assert created.status_code == 201, created.text
    device = created.json()["result"]["id"]
    temp = _sensor(admin, device, "temp", {"type": "double", "unit": "Cel"})
    count = _sensor(admin, device, "count", {"type": "long"})
    door = _sensor(admin, device, "door", {"type": "boolean"})
    token = admin.get(f"/api/devices/{device}/key").json()["token"]

    base = 1_790_000_000  # seconds; sent out of order, in seconds and in milliseconds
    reference = [
        {"sensor_id": temp, "timestamp": base + 2, "value": 21.5},
        {"sensor_id": temp, "timestamp": (base + 1) * 1000, "value": "91827364"},
        {"sensor_id": count, "timestamp": base, "value": 3},
    ]
    _ingest(platform, token, reference, "application/json")
    _ingest(
        platform, token, {"sensor_id": temp, "timestamp": base, "value": 20}, "application/json"
    )
    senml = [
        {"bn": "", "bt": base + 3, "n": "temp", "u": "Cel", "v": 22.25},
        {"n": "door", "vb": True, "t": 1},
        {"n": count, "v": 4, "t": 2},
    ]
    _ingest(platform, token, senml, "application/senml+json")

    expected_temp = [
        (base * S, 20.0),
        ((base + 1) * S, 91827364.0),
        ((base + 2) * S, 21.5),
        ((base + 3) * S, 22.25),
    ]
    assert _until(lambda: _rows(admin, device, temp), 4) == expected_temp
    assert _until(lambda: _rows(admin, device, count), 2) == [(base * S, 3), ((base + 5) * S, 4)]
    assert _until(lambda: _rows(admin, device, door), 1) == [((base + 4) * S, True)]
    assert _rows(admin, device, temp, "?order=desc&limit=2") == expected_temp[:-3:-1]


def test_the_same_body_posted_twice_comes_back_once(platform: RunningEmulator) -> None:
    admin = signin(platform)
    created = admin.post("/api/devices/", json={"name": "pipeline-twice"})
    device = created.json()["result"]["id"]
    temp = _sensor(admin, device, "temp", {"type": "double"})
    token = admin.get(f"/api/devices/{device}/key").json()["token"]
    body = [{"sensor_id": temp, "timestamp": 1_790_000_100 + i, "value": i} for i in range(5)]
    _ingest(platform, token, body, "application/json")
    _ingest(platform, token, body, "application/json")  # a device retrying after a timeout
    chunks = Query(chunks_path(admin.org, device, temp))
    store = store_of(platform)
    until(lambda: store.count(chunks) >= 2, DELIVERY_BOUND, interval=0.2)
    assert store.count(chunks) == 2  # two requests, two messages: both were written
    assert _rows(admin, device, temp) == [((1_790_000_100 + i) * S, float(i)) for i in range(5)]
