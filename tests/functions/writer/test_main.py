"""The writer's entry points as the platforms call them, on the store and bus emulators: the same
CloudEvent delivered twice stores each reading once; a broken message is dead-lettered."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from cloudevents.http import CloudEvent
from google.cloud import pubsub_v1

from functions.query.params import DataParams
from functions.query.service import QueryService
from functions.writer import main
from shared import clients
from shared.settings import settings
from shared.store import Query
from shared.store.firestore import FirestoreStore
from shared.topics import TELEMETRY_DEAD
from tests.support.services import running_service

pytestmark = pytest.mark.e2e

RECEIVED = 1_790_000_000_000_000_000
T0 = 1_789_999_000_000_000_000


def _reset() -> None:
    for cached in (clients.store, clients.bus, settings, main._writer):
        cached.cache_clear()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("writer-main")
    project = f"writer-{uuid.uuid4().hex[:8]}"
    with (
        running_service("firestore", base / "firestore") as firestore,
        running_service("pubsub", base / "pubsub") as pubsub,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("FIRESTORE_EMULATOR_HOST", firestore.address)
        patch.setenv("PUBSUB_EMULATOR_HOST", pubsub.address)
        patch.setenv("STRATUS_PROJECT", project)
        _reset()
        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()
        topic = publisher.topic_path(project, TELEMETRY_DEAD)
        subscription = subscriber.subscription_path(project, "dead-check")
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=subscription, topic=topic)
        publisher.transport.close()
        yield {
            "store": FirestoreStore(project),
            "subscriber": subscriber,
            "subscription": subscription,
        }
        subscriber.close()
        clients.bus().close()
        _reset()


def _normalized(org: str, readings: list[tuple[str, int, Any]]) -> bytes:
    return orjson.dumps(
        {
            "org": org,
            "device": "d1",
            "source": {"message_id": "req-7", "transport": "http"},
            "readings": [
                {"sensor": s, "ts": ts, "value": v, "type": "double"} for s, ts, v in readings
            ],
        }
    )


def _push_body(data: bytes, message_id: str) -> dict[str, Any]:
    return {
        "message": {
            "messageId": message_id,
            "data": base64.b64encode(data).decode(),
            "attributes": {"received_ns": str(RECEIVED), "transport": "http", "format": "senml"},
            "publishTime": "2026-09-22T00:00:00Z",
        },
        "subscription": "projects/p/subscriptions/writer-telemetry-normalized",
        "deliveryAttempt": 1,
    }


def _event(body: dict[str, Any]) -> CloudEvent:
    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/p/topics/telemetry-normalized",
        },
        body,
    )


def test_the_same_cloud_event_twice_stores_each_reading_once(env: dict[str, Any]) -> None:
    org = f"o{uuid.uuid4().hex[:10]}"
    readings = [("s1", T0 + i * 10**9, 20.0 + i) for i in range(10)]
    body = _push_body(_normalized(org, readings), "m-1")
    assert main.event(_event(body)) is None
    assert main.event(_event(body)) is None  # redelivery
    store: FirestoreStore = env["store"]
    chunks = store.query(Query(f"orgs/{org}/devices/d1/sensors/s1/chunks")).documents
    assert len(chunks) == 1
    page = QueryService(store).data(org, "d1", "s1", DataParams(), "double")
    assert [(ts, value) for ts, value in page.samples] == [(ts, v) for _, ts, v in readings]


def test_a_republished_copy_under_another_bus_id_adds_nothing(env: dict[str, Any]) -> None:
    org = f"o{uuid.uuid4().hex[:10]}"
    data = _normalized(org, [("s1", T0, 1.0), ("s1", T0 + 1, 2.0)])
    assert main.main(_push_body(data, "first-id")) == {"outcome": "ack"}
    assert main.main(_push_body(data, "second-id")) == {"outcome": "ack"}
    store: FirestoreStore = env["store"]
    assert len(store.query(Query(f"orgs/{org}/devices/d1/sensors/s1/chunks")).documents) == 1


def test_a_broken_message_is_dead_lettered_with_its_reason(env: dict[str, Any]) -> None:
    data = orjson.dumps({"org": "o1", "device": "d1", "readings": []})
    assert main.main(_push_body(data, "poison-1")) == {"outcome": "dead_lettered"}
    subscriber = env["subscriber"]
    received: list[Any] = []
    while not received:
        response = subscriber.pull(subscription=env["subscription"], max_messages=1, timeout=30)
        received = list(response.received_messages)
    subscriber.acknowledge(subscription=env["subscription"], ack_ids=[received[0].ack_id])
    dead = received[0].message
    assert dead.attributes["stage"] == "writer"
    assert dead.attributes["normalized_message_id"] == "poison-1"
    assert dead.attributes["transport"] == "http"
    body = orjson.loads(dead.data)
    assert body["original"] == {"org": "o1", "device": "d1", "readings": []}
    assert body["received_ns"] == RECEIVED
    assert body["reason"].startswith("source: must be an object")
    assert [problem["field"] for problem in body["problems"]] == ["source", "readings"]
    assert body["where"] == dead.attributes["where"]
