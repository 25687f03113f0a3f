"""Coalescing at the door, through the ingest routes on the in-memory bus: concurrent requests
share one fleet-batch message, answered only once it is confirmed; a body the door refuses never
reaches a window; an outage answers 503 to exactly the waiting requests; the readings of a
coalesced message are stored once by the writer, a keyed request under the ids it has alone."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from functions.ingest.api import build_router
from functions.normalizer.transform import normalize
from functions.writer.service import Writer
from shared.auth import Authenticator, KeySet, issue_device_token
from shared.events import Message
from shared.function import HttpFunction
from shared.http import Request, Response
from shared.store import Query
from shared.telemetry.chunks import chunks_path
from shared.telemetry.coalesce import Coalescing
from shared.telemetry.ingest import RAW_TOPIC, Ingest
from shared.telemetry.sensors import CachedSensorDirectory, Sensor
from tests.functions.ingest.conftest import DEVICE, ORG, S1, S2, Directory
from tests.support.memory_bus import MemoryBus, Published
from tests.support.memory_store import MemoryStore

S = 10**9


class Door:
    """Ingest with coalescing on a MemoryBus; a window publishes when `bodies` requests hold."""

    def __init__(self, bodies: int, window_ms: float = 60_000, in_flight: int = 0) -> None:
        self.keys = KeySet.from_private_key(ec.generate_private_key(ec.SECP256R1()))
        self.directory = Directory()
        self.bus = MemoryBus(topics={RAW_TOPIC})
        self.ingest = Ingest(
            self.bus,
            Authenticator(self.directory.version, keys=self.keys, cache_seconds=0),
            CachedSensorDirectory(self.directory.lookup, ttl=60, min_age=0),
            coalescing=Coalescing(window_ms, max_bodies=bodies, in_flight=in_flight),
        )
        self.app = HttpFunction("ingest", build_router(lambda: self.ingest))
        self.token = issue_device_token(DEVICE, ORG, 1, 1_700_000_000, keys=self.keys)

    def post(self, body: Any, request_id: str, key: str | None = None) -> Response:
        headers = {"authorization": f"Bearer {self.token}", "content-type": "application/json",
                   "x-request-id": request_id}  # fmt: skip
        if key is not None:
            headers["idempotency-key"] = key
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        return self.app(Request("POST", "/ingest", headers=headers, body=raw))


def concurrently(calls: list[Callable[[], Response]]) -> list[Response]:
    answers: list[Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def readings(n: int, sensor: str = S1, count: int = 1) -> list[dict[str, Any]]:
    return [{"sensor_id": sensor, "timestamp": 1_790_000_000 * S + (n * 100 + i) * S,
             "value": n + i / 10} for i in range(count)]  # fmt: skip


def test_concurrent_requests_share_one_message_and_are_answered_after_it() -> None:
    door = Door(bodies=4)
    answers = concurrently([lambda n=n: door.post(readings(n, count=n + 1), f"r{n}")
                            for n in range(4)])  # fmt: skip
    assert sorted(a.json()["accepted"] for a in answers) == [1, 2, 3, 4]
    assert [a.status for a in answers] == [200] * 4
    [message] = door.bus.published
    assert message.attributes["format"] == "batch"
    entries = orjson.loads(message.data)
    assert sorted(e["request_id"] for e in entries) == ["r0", "r1", "r2", "r3"]
    for entry in entries:
        n = int(entry["request_id"][1:])
        assert entry["payload"] == readings(n, count=n + 1)


def test_a_body_failing_the_door_never_poisons_its_window() -> None:
    door = Door(bodies=2)
    bad_sensor = [{"sensor_id": "f" * 20, "timestamp": 1, "value": 1}]
    answers = concurrently([
        lambda: door.post(readings(1), "good-1"),
        lambda: door.post(b"[{]", "broken"),
        lambda: door.post(bad_sensor, "foreign"),
        lambda: door.post(readings(2), "good-2"),
    ])  # fmt: skip
    assert [a.status for a in answers] == [200, 400, 403, 200]
    [message] = door.bus.published
    assert sorted(e["request_id"] for e in orjson.loads(message.data)) == ["good-1", "good-2"]


def test_a_bus_outage_answers_503_to_exactly_the_waiting_requests() -> None:
    door = Door(bodies=3)
    door.bus.fail_next(1)
    answers = concurrently([lambda n=n: door.post(readings(n), f"w{n}") for n in range(3)])
    assert [a.status for a in answers] == [503] * 3
    assert all("failed" in a.json()["error"]["message"] for a in answers)
    answers = concurrently([lambda n=n: door.post(readings(n), f"x{n}") for n in range(3)])
    assert [a.status for a in answers] == [200] * 3
    assert len(door.bus.published) == 1


def test_with_the_window_at_0_each_request_is_its_own_message() -> None:
    door = Door(bodies=100, window_ms=0)
    assert door.ingest.coalescer is None
    answers = concurrently([lambda n=n: door.post(readings(n), f"z{n}") for n in range(3)])
    assert [a.status for a in answers] == [200] * 3
    assert sorted(m.attributes["request_id"] for m in door.bus.published) == ["z0", "z1", "z2"]
    assert {m.attributes["format"] for m in door.bus.published} == {"reference"}


def pipeline(store: MemoryStore, published: Published) -> int:
    """The normalizer's and the writer's cores on one raw message: chunk documents created."""
    sensors = {S1: Sensor(S1, "t", "", "double"), S2: Sensor(S2, "h", "", "double")}
    directory = CachedSensorDirectory(lambda org, device: sensors, ttl=60)
    outcome = normalize(published.data, published.attributes, directory, 0)
    assert outcome.rejected == () and outcome.message is not None
    attributes = published.attributes
    normalized = Message(id=published.id, data=outcome.message.to_bytes(), attributes=attributes)
    return Writer(store).handle(normalized).created


def chunk_ids(store: MemoryStore) -> dict[str, set[str]]:
    out = {}
    for sensor in (S1, S2):
        page = store.query(Query(chunks_path(ORG, DEVICE, sensor)))
        out[sensor] = {document.id for document in page.documents}
    return out


def test_the_writer_stores_a_coalesced_message_once_and_keys_keep_their_ids() -> None:
    door = Door(bodies=3)
    keyed_body = readings(7, S2, count=5)
    concurrently([
        lambda: door.post(readings(1, count=10), "a"),
        lambda: door.post(keyed_body, "k", key="batch-7"),
        lambda: door.post(readings(2, count=10), "b"),
    ])  # fmt: skip
    [message] = door.bus.published
    store = MemoryStore()
    assert pipeline(store, message) == 2  # S1: one chunk for both requests; S2: the keyed one
    assert pipeline(store, message) == 0  # a redelivery writes nothing
    coalesced = chunk_ids(store)
    stored = sum(d.data["count"] for s in (S1, S2)
                 for d in store.query(Query(chunks_path(ORG, DEVICE, s))).documents)  # fmt: skip
    assert stored == 25

    alone = Door(bodies=1)  # the same keyed request, later, alone in its message (a retry)
    assert alone.post(keyed_body, "k-retry", key="batch-7").status == 200
    [retry] = alone.bus.published
    assert retry.attributes["format"] == "reference"
    assert pipeline(store, retry) == 0  # found under the same ids: stored once
    assert chunk_ids(store)[S2] == coalesced[S2]


def entry_list(message: Published) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = orjson.loads(message.data)
    return data


@pytest.mark.parametrize("bodies", [2, 5])
def test_every_request_is_in_exactly_one_message(bodies: int) -> None:
    door = Door(bodies=bodies, window_ms=1, in_flight=1)
    answers = concurrently([lambda n=n: door.post(readings(n), f"q{n}") for n in range(20)])
    assert [a.status for a in answers] == [200] * 20
    ids = []
    for message in door.bus.published:
        if message.attributes["format"] == "batch":
            ids += [e["request_id"] for e in entry_list(message)]
        else:
            ids.append(message.attributes["request_id"])
    assert sorted(ids) == sorted(f"q{n}" for n in range(20))
