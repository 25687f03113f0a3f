"""The normalizer's entry points as the platforms call them, on the store and bus emulators: the
Cloud Run CloudEvent target and the OpenWhisk trigger action, sensors read from the store."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from cloudevents.http import CloudEvent
from google.cloud import pubsub_v1

from functions.normalizer import main
from functions.normalizer.service import DEAD_TOPIC, NORMALIZED_TOPIC
from shared import clients
from shared.directory import new_id
from shared.settings import settings
from shared.store.firestore import FirestoreStore
from shared.telemetry.sensors import Sensor, load_sensors
from tests.support.services import running_service

pytestmark = pytest.mark.e2e

ORG, DEVICE = new_id(), new_id()
TEMP, DOOR, GYRO = new_id(), new_id(), new_id()


def _reset() -> None:
    for cached in (clients.store, clients.bus, settings, main._normalizer):
        cached.cache_clear()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("normalizer-main")
    project = f"normalizer-{uuid.uuid4().hex[:8]}"
    with (
        running_service("firestore", base / "firestore") as firestore,
        running_service("pubsub", base / "pubsub") as pubsub,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("FIRESTORE_EMULATOR_HOST", firestore.address)
        patch.setenv("PUBSUB_EMULATOR_HOST", pubsub.address)
        patch.setenv("STRATUS_PROJECT", project)
        _reset()
        store = FirestoreStore(project)
        sensors = f"orgs/{ORG}/devices/{DEVICE}/sensors"
        store.create(f"orgs/{ORG}/devices/{DEVICE}", {"name": "car", "key_version": 1})
        store.create(
            f"{sensors}/{TEMP}",
            {"name": "temp", "path": "", "mapping": {"type": "double", "unit": "Cel"}},
        )
        store.create(
            f"{sensors}/{DOOR}",
            {"name": "open", "path": "front/left", "mapping": {"type": "boolean"}},
        )
        store.create(f"{sensors}/{GYRO}", {"name": "gyro", "mapping": '{"type": "object"}'})
        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()
        subscriptions = {}
        for topic in (NORMALIZED_TOPIC, DEAD_TOPIC):
            publisher.create_topic(name=publisher.topic_path(project, topic))
            subscriptions[topic] = subscriber.subscription_path(project, f"{topic}-check")
            subscriber.create_subscription(
                name=subscriptions[topic], topic=publisher.topic_path(project, topic)
            )
        publisher.transport.close()
        yield {"store": store, "subscriber": subscriber, "subscriptions": subscriptions}
        subscriber.close()
        clients.bus().close()
        _reset()


def _pull(env: dict[str, Any], topic: str, count: int) -> list[Any]:
    subscriber, subscription = env["subscriber"], env["subscriptions"][topic]
    out: list[Any] = []
    for _ in range(20):
        if len(out) >= count:
            break
        response = subscriber.pull(subscription=subscription, max_messages=count, timeout=30)
        out.extend(m.message for m in response.received_messages)
        if response.received_messages:
            subscriber.acknowledge(
                subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages]
            )
    assert len(out) == count, f"{len(out)} of {count} messages on {topic}"
    return out


def _push_body(data: Any, message_id: str, **attributes: str) -> dict[str, Any]:
    return {
        "message": {
            "messageId": message_id,
            "data": base64.b64encode(orjson.dumps(data)).decode(),
            "attributes": {
                "org": ORG,
                "device": DEVICE,
                "format": "reference",
                "received_ns": "1790000000000000000",
                "transport": "http",
                "request_id": message_id,
                **attributes,
            },
            "publishTime": "2026-01-01T00:00:00Z",
        },
        "subscription": "projects/p/subscriptions/normalizer-telemetry-raw",
    }


def test_load_sensors_reads_names_paths_and_mappings(env: dict[str, Any]) -> None:
    assert load_sensors(env["store"], ORG, DEVICE) == {
        TEMP: Sensor(TEMP, "temp", "", "double", "Cel"),
        DOOR: Sensor(DOOR, "open", "front/left", "boolean"),
        GYRO: Sensor(GYRO, "gyro", "", "object"),  # a mapping stored as JSON text
    }
    assert load_sensors(env["store"], ORG, new_id()) == {}


def test_cloud_run_target_publishes_the_normalized_message(env: dict[str, Any]) -> None:
    pack = [
        {"n": "temp", "u": "Cel", "v": 20.5, "t": -1},
        {"n": "front/left/open", "vb": True},
        {"n": "gyro", "vs": "not an object"},
    ]
    event = CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/p/topics/telemetry-raw",
        },
        _push_body(pack, "ce-1", format="senml"),
    )
    assert main.event(event) is None  # returning acknowledges
    [normalized] = _pull(env, NORMALIZED_TOPIC, 1)
    body = orjson.loads(normalized.data)
    assert body["source"] == {"message_id": "ce-1", "transport": "http"}
    assert [(r["sensor"], r["ts"], r["value"]) for r in body["readings"]] == [
        (TEMP, 1_789_999_999_000_000_000, 20.5),
        (DOOR, 1_790_000_000_000_000_000, True),
    ]
    [dead] = _pull(env, DEAD_TOPIC, 1)
    assert dead.attributes["where"] == "records[2]"
    assert dead.attributes["device"] == DEVICE
    assert "sensor type object" in dead.attributes["reason"]


def test_openwhisk_trigger_action_reports_the_outcome(env: dict[str, Any]) -> None:
    reading = {"sensor_id": TEMP, "timestamp": 1526717967, "value": "91827364"}
    assert main.main(_push_body(reading, "ow-1")) == {"outcome": "ack"}
    [normalized] = _pull(env, NORMALIZED_TOPIC, 1)
    assert orjson.loads(normalized.data)["readings"] == [
        {
            "sensor": TEMP,
            "ts": 1526717967 * 10**9,
            "value": 91827364.0,
            "type": "double",
            "unit": "Cel",
        }
    ]
    assert main.main(_push_body(reading, "ow-2", format="xml")) == {"outcome": "dead_lettered"}
    [dead] = _pull(env, DEAD_TOPIC, 1)
    assert orjson.loads(dead.data)["reason"].startswith("unknown format 'xml'")
