"""Dead letters: reasons clipped to Pub/Sub's 1024 bytes without splitting a character, the
attributes every stage carries, and parking on the Pub/Sub emulator (which, like Pub/Sub, refuses
a longer attribute value)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import orjson
import pytest
from google.cloud import pubsub_v1

from functions.state import main as state_main
from shared import clients
from shared.bus.pubsub import PubSubBus
from shared.deadletter import ATTRIBUTE_BYTES, DeadLetters, clip, confirm
from shared.errors import BadRequest, Unavailable, ValidationError
from shared.events import Message
from shared.settings import settings
from shared.topics import TELEMETRY_DEAD
from tests.support.services import RunningService, running_service

PROJECT = "dead-letter-test"
_names = itertools.count()
ATTRIBUTES = {"org": "o1", "device": "d1", "transport": "mqtt", "format": "batch", "other": "x"}


@pytest.mark.parametrize(
    "text",
    ["short", "a" * 1024, "é" * 512, "a" + "é" * 600, "日本" * 400, "🙂" * 300, "x\udc80y" * 10],
)
def test_clipped_reasons_fit_in_1024_bytes_and_stay_valid_utf8(text: str) -> None:
    clipped = clip(text)
    raw = clipped.encode()  # raises if a character was split or a surrogate kept
    assert len(raw) <= ATTRIBUTE_BYTES
    if len(text.encode("utf-8", "replace")) <= ATTRIBUTE_BYTES:
        assert clipped == text.encode("utf-8", "replace").decode()
    else:
        assert clipped.endswith("...")
        assert text.startswith(clipped[:-3])
        assert len(raw) > ATTRIBUTE_BYTES - 6  # cut at most one 4-byte character short


def test_attributes_carry_the_message_s_and_name_the_stage() -> None:
    sink = DeadLetters(lambda: None, id_attribute="state_message_id", stage="state")  # type: ignore[arg-type, return-value]
    message = Message("m1", b"{}", ATTRIBUTES)
    attributes = sink.attributes(message, "bad", "entries[0]", device="d2")
    assert attributes == {
        "org": "o1",
        "device": "d2",
        "transport": "mqtt",
        "format": "batch",
        "state_message_id": "m1",
        "stage": "state",
        "where": "entries[0]",
        "reason": "bad",
    }


def test_a_publish_the_bus_does_not_confirm_in_time_is_unavailable() -> None:
    with pytest.raises(Unavailable, match=r"did not confirm a publish within 0\.01 s"):
        confirm([Future()], timeout=0.01)


@pytest.fixture(scope="module")
def pubsub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """The Pub/Sub emulator with the `telemetry-dead` topic."""
    with (
        running_service("pubsub", tmp_path_factory.mktemp("dead-letters")) as service,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("PUBSUB_EMULATOR_HOST", service.address)
        publisher = pubsub_v1.PublisherClient()
        publisher.create_topic(name=publisher.topic_path(PROJECT, TELEMETRY_DEAD))
        publisher.transport.close()
        yield service


@pytest.fixture
def inbox(pubsub: RunningService, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """`telemetry-dead` with a pull subscription; `clients.bus()` publishes to it."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub.address)
    monkeypatch.setenv("STRATUS_PROJECT", PROJECT)
    settings.cache_clear()
    clients.bus.cache_clear()
    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(PROJECT, f"inbox-{next(_names)}")
    topic = f"projects/{PROJECT}/topics/{TELEMETRY_DEAD}"
    subscriber.create_subscription(name=subscription, topic=topic)

    def pull() -> pubsub_v1.types.PubsubMessage:
        response = subscriber.pull(subscription=subscription, max_messages=1, timeout=30)
        received = response.received_messages[0]
        subscriber.acknowledge(subscription=subscription, ack_ids=[received.ack_id])
        return received.message

    yield pull
    clients.bus().close()  # type: ignore[attr-defined]
    clients.bus.cache_clear()
    settings.cache_clear()
    subscriber.delete_subscription(subscription=subscription)
    subscriber.close()


@pytest.mark.process
def test_the_state_function_parks_a_long_non_ascii_reason_clipped(inbox: Any) -> None:
    reason = "état illisible: " + "é" * 1500  # 3016 bytes: Pub/Sub would refuse it whole
    message = Message("s-1", b'[{"payload": 1}]', ATTRIBUTES)
    state_main._dead_letters(message, ValidationError(reason, field="entries[0]"))
    dead = inbox()
    assert dead.data == message.data
    assert dead.attributes["stage"] == "state"
    assert dead.attributes["state_message_id"] == "s-1"
    assert dead.attributes["where"] == "entries[0]"
    assert len(dead.attributes["reason"].encode()) <= ATTRIBUTE_BYTES
    assert reason.startswith(dead.attributes["reason"][:-3])


@pytest.mark.process
def test_the_emulator_refuses_an_unclipped_reason_as_pubsub_does(inbox: Any) -> None:
    bus = PubSubBus(PROJECT)
    try:
        future = bus.publish(TELEMETRY_DEAD, b"x", {"reason": "é" * 1000})
        with pytest.raises(Exception, match="1024"):
            future.result(timeout=30)
    finally:
        bus.close()


@pytest.mark.process
def test_a_body_builder_gets_the_message_and_the_error(inbox: Any) -> None:
    def body(message: Message, error: Any) -> bytes:
        return orjson.dumps({"reason": error.message, "original": message.data.decode()})

    sink = DeadLetters(clients.bus, id_attribute="raw_message_id", body=body)
    sink(Message("r-1", b"not json", {"org": "o1"}), BadRequest("not JSON"))
    dead = inbox()
    assert orjson.loads(dead.data) == {"reason": "not JSON", "original": "not json"}
    assert dict(dead.attributes) == {
        "org": "o1",
        "raw_message_id": "r-1",
        "where": "message",
        "reason": "not JSON",
    }
