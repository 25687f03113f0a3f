"""Read what was published to bus topics back: through pull subscriptions of the official Pub/Sub
client (against the emulator named by PUBSUB_EMULATOR_HOST), or, with the same methods, from the
in-memory fake (`MemoryReader`)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from google.api_core import exceptions
from google.cloud import pubsub_v1

from tests.support.memory_bus import MemoryBus
from tests.support.waiting import until

__all__ = ["BusReader", "MemoryReader", "Received", "pull_all"]


def pull_all(subscriber: pubsub_v1.SubscriberClient, subscription: str) -> list[Any]:
    """Pull and acknowledge every message a subscription holds now (PubsubMessage objects)."""
    out: list[Any] = []
    while True:
        response = subscriber.pull(
            subscription=subscription, max_messages=100, return_immediately=True
        )
        if not response.received_messages:
            return out
        out.extend(m.message for m in response.received_messages)
        subscriber.acknowledge(
            subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages]
        )


@dataclass(frozen=True)
class Received:
    """One message as a subscriber got it."""

    topic: str
    data: bytes
    attributes: dict[str, str]

    def entries(self) -> list[dict[str, Any]]:
        """The entries of a batch message (its data is a JSON array)."""
        value = orjson.loads(self.data)
        assert isinstance(value, list), self.data
        return value


class BusReader:
    """Creates topics with a pull subscription each and collects everything published to them.

    Only messages published after `create` are seen (a subscription starts empty)."""

    def __init__(self, project: str, topics: Iterable[str] = (), *, name: str = "reader") -> None:
        self.project = project
        self.name = name  # subscriptions are `<topic>-<name>`
        self.publisher = pubsub_v1.PublisherClient()
        self.subscriber = pubsub_v1.SubscriberClient()
        self.received: dict[str, list[Received]] = {}
        for topic in topics:
            self.create(topic)

    def _subscription(self, topic: str) -> str:
        return self.subscriber.subscription_path(self.project, f"{topic}-{self.name}")

    def create(self, topic: str) -> None:
        """Create `topic` (if missing) and the reader's subscription to it."""
        path = self.publisher.topic_path(self.project, topic)
        with contextlib.suppress(exceptions.AlreadyExists):
            self.publisher.create_topic(name=path)
        with contextlib.suppress(exceptions.AlreadyExists):
            self.subscriber.create_subscription(name=self._subscription(topic), topic=path)
        self.received.setdefault(topic, [])

    def pull(self, topic: str, *, wait: bool = False) -> list[Received]:
        """Pull and acknowledge what is there now (with `wait`, wait up to the emulator's pull
        wait for a first message); returns everything received on `topic` so far."""
        response = self.subscriber.pull(
            subscription=self._subscription(topic),
            max_messages=1000,
            return_immediately=not wait,
            timeout=30,
        )
        got = response.received_messages
        if got:
            self.subscriber.acknowledge(
                subscription=self._subscription(topic), ack_ids=[m.ack_id for m in got]
            )
        self.received[topic].extend(
            Received(topic, m.message.data, dict(m.message.attributes)) for m in got
        )
        return self.received[topic]

    def wait_for(
        self, topic: str, done: Callable[[list[Received]], bool], timeout: float = 20
    ) -> list[Received]:
        """Pull until `done(messages)` holds; AssertionError with what arrived if it never does."""
        deadline = time.monotonic() + timeout
        messages = self.pull(topic)
        while not done(messages):
            assert time.monotonic() < deadline, f"{topic} got only {messages}"
            messages = self.pull(topic, wait=True)
        return messages

    def entries(self, topic: str) -> list[dict[str, Any]]:
        """Every batch entry received on `topic` so far, in order of arrival."""
        return [entry for message in self.received[topic] for entry in message.entries()]

    def close(self) -> None:
        self.subscriber.close()
        self.publisher.transport.close()


class MemoryReader:
    """`BusReader` over a `MemoryBus`: `create` makes a topic exist (publishing to any other
    fails, as on Pub/Sub), and only messages published after it are seen."""

    def __init__(self, bus: MemoryBus, topics: Iterable[str] = ()) -> None:
        self.bus = bus
        if self.bus.topics is None:
            self.bus.topics = set()
        self.received: dict[str, list[Received]] = {}
        self._seen: dict[str, int] = {}
        for topic in topics:
            self.create(topic)

    def create(self, topic: str) -> None:
        assert self.bus.topics is not None
        self.bus.topics.add(topic)
        self.received.setdefault(topic, [])
        self._seen.setdefault(topic, len(self.bus.messages(topic)))

    def pull(self, topic: str, *, wait: bool = False) -> list[Received]:
        messages = self.bus.messages(topic)
        fresh, self._seen[topic] = messages[self._seen[topic] :], len(messages)
        self.received[topic].extend(Received(topic, m.data, dict(m.attributes)) for m in fresh)
        return self.received[topic]

    def wait_for(
        self, topic: str, done: Callable[[list[Received]], bool], timeout: float = 20
    ) -> list[Received]:
        """Pull until `done(messages)` holds; AssertionError with what arrived if it never does."""
        until(lambda: done(self.pull(topic)), timeout)
        messages = self.received[topic]
        assert done(messages), f"{topic} got only {messages}"
        return messages

    def entries(self, topic: str) -> list[dict[str, Any]]:
        return [entry for message in self.received[topic] for entry in message.entries()]

    def close(self) -> None:
        """Nothing to release."""
