"""The bus port's Pub/Sub adapter, against the emulator through the official client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.cloud import pubsub_v1

from shared import clients
from shared.bus import Bus
from shared.bus.pubsub import PubSubBus
from shared.errors import Unavailable
from tests.support.services import RunningService, running_service

PROJECT = "bus-test"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with running_service("pubsub", tmp_path_factory.mktemp("bus")) as running:
        yield running


@pytest.fixture
def bus(service: RunningService, monkeypatch: pytest.MonkeyPatch) -> Iterator[PubSubBus]:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", service.address)
    adapter = PubSubBus(PROJECT)
    yield adapter
    adapter.close()


def _topic_with_subscription(name: str) -> tuple[pubsub_v1.SubscriberClient, str]:
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT, name)
    sub = subscriber.subscription_path(PROJECT, f"{name}-sub")
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    publisher.transport.close()
    return subscriber, sub


def test_publish_resolves_to_ids_and_messages_arrive(bus: PubSubBus) -> None:
    subscriber, sub = _topic_with_subscription("readings")
    futures = [bus.publish("readings", f"r{i}".encode(), {"i": str(i)}) for i in range(250)]
    ids = [future.result(timeout=30) for future in futures]
    assert len(set(ids)) == 250
    got: dict[str, tuple[bytes, str]] = {}
    while len(got) < 250:
        response = subscriber.pull(subscription=sub, max_messages=100, timeout=30)
        for m in response.received_messages:
            got[m.message.message_id] = (m.message.data, m.message.attributes["i"])
        subscriber.acknowledge(
            subscription=sub, ack_ids=[m.ack_id for m in response.received_messages]
        )
    assert got[ids[42]] == (b"r42", "42")
    subscriber.close()


def test_missing_topic_is_unavailable(bus: PubSubBus) -> None:
    future = bus.publish("no-such-topic", b"x", {})
    with pytest.raises(Unavailable) as caught:
        future.result(timeout=60)
    assert "no-such-topic" in caught.value.message


def test_reserved_attribute_names_are_refused(bus: PubSubBus) -> None:
    with pytest.raises(ValueError, match="timeout"):
        bus.publish("readings", b"x", {"timeout": "1"})


class _BrokenClient:
    def topic_path(self, project: str, topic: str) -> str:
        return f"projects/{project}/topics/{topic}"

    def publish(self, topic: str, data: bytes, **attributes: str) -> None:
        raise RuntimeError("publisher stopped")


def test_immediate_client_errors_are_unavailable() -> None:
    adapter = PubSubBus(PROJECT, client=_BrokenClient())
    with pytest.raises(Unavailable):
        adapter.publish("t", b"x", {})


def test_clients_bus_is_built_once(service: RunningService, monkeypatch) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", service.address)
    clients.bus.cache_clear()
    try:
        first = clients.bus()
        assert first is clients.bus()
        assert isinstance(first, PubSubBus)
        port: Bus = first  # satisfies the port
        assert port is first
        first.close()
    finally:
        clients.bus.cache_clear()
