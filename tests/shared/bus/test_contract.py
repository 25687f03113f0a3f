"""The bus port's contract: the same cases against every implementation of `Bus`.

`memory` is the in-memory fake of the unit tests (tests/support/memory_bus.py); `ours` is the
Pub/Sub adapter on our emulator (`python -m emulator.pubsub`); `google` is the same adapter on
Google's Pub/Sub emulator (skipped, saying why, where gcloud or Java is missing). Messages are
read back through a pull subscription made before publishing (on the fake: what it recorded).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shared.bus import Bus
from shared.bus.pubsub import PubSubBus
from shared.errors import Unavailable
from tests.support.bus_reader import BusReader
from tests.support.memory_bus import MemoryBus

BACKENDS = [
    pytest.param("memory"),
    pytest.param("ours", marks=pytest.mark.process),
    pytest.param("google", marks=pytest.mark.process),
]
_EMULATORS = {"ours": "pubsub_service", "google": "google_pubsub"}  # their session fixtures
Message = tuple[bytes, dict[str, str]]


@dataclass
class Harness:
    """A bus, a way to make a topic exist, and what a subscriber to it received."""

    bus: Bus
    create: Callable[[str], None]
    received: Callable[[str, int], list[Message]]  # wait for at least n messages


def _memory() -> Iterator[Harness]:
    bus = MemoryBus(topics=())
    assert bus.topics is not None

    def received(topic: str, count: int) -> list[Message]:
        return [(m.data, m.attributes) for m in bus.messages(topic)]

    yield Harness(bus, bus.topics.add, received)


def _pubsub(address: str) -> Iterator[Harness]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", address)  # the clients read it when built
        project = f"contract-{uuid.uuid4().hex[:10]}"
        reader = BusReader(project)
        bus = PubSubBus(project)

    def received(topic: str, count: int) -> list[Message]:
        got = reader.wait_for(topic, lambda messages: len(messages) >= count)
        return [(m.data, m.attributes) for m in got]

    try:
        yield Harness(bus, reader.create, received)
    finally:
        with contextlib.suppress(RuntimeError):  # a test may have closed it already
            bus.close()
        reader.close()


@pytest.fixture(params=BACKENDS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "memory":
        yield from _memory()
    else:
        yield from _pubsub(request.getfixturevalue(_EMULATORS[request.param]).address)


@pytest.fixture
def bus(harness: Harness) -> Bus:
    return harness.bus


@pytest.fixture
def topic(harness: Harness) -> str:
    """A topic that exists, with a subscriber."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    harness.create(name)
    return name


def enforces_limits(request: pytest.FixtureRequest) -> None:
    """Pub/Sub documents its attribute limits (and the service enforces them); Google's
    emulator does not, so these cases hold the fake and our emulator to the service."""
    if request.node.callspec.params["harness"] == "google":
        pytest.skip("Google's Pub/Sub emulator does not enforce the service's attribute limits")


def failure(future: Any) -> Unavailable:
    with pytest.raises(Unavailable) as caught:
        future.result(timeout=60)
    return caught.value


def test_publish_resolves_to_ids_and_messages_arrive(harness: Harness, topic: str) -> None:
    futures = [harness.bus.publish(topic, f"r{i}".encode(), {"i": str(i)}) for i in range(120)]
    ids = [future.result(timeout=30) for future in futures]
    assert all(isinstance(id_, str) and id_ for id_ in ids) and len(set(ids)) == 120
    got = harness.received(topic, 120)
    assert sorted(got, key=lambda m: int(m[1]["i"])) == [
        (f"r{i}".encode(), {"i": str(i)}) for i in range(120)
    ]


def test_data_and_attributes_arrive_as_sent(harness: Harness, topic: str) -> None:
    every_byte = bytes(range(256))
    attributes = {"ascii": "x", "unicode": "température ✓", "empty": "", "key.with-dots_": "1"}
    harness.bus.publish(topic, every_byte, attributes).result(timeout=30)
    harness.bus.publish(topic, b"no attributes", {}).result(timeout=30)
    harness.bus.publish(topic, b"", {"only": "attributes"}).result(timeout=30)
    got = harness.received(topic, 3)
    assert sorted(got) == sorted(
        [(every_byte, attributes), (b"no attributes", {}), (b"", {"only": "attributes"})]
    )


def test_an_empty_message_is_refused(bus: Bus, topic: str) -> None:
    failure(bus.publish(topic, b"", {}))


def test_a_missing_topic_is_unavailable(bus: Bus) -> None:
    error = failure(bus.publish("no-such-topic", b"x", {}))
    assert "no-such-topic" in error.message


def test_reserved_attribute_names_are_refused_at_once(bus: Bus, topic: str) -> None:
    for name in ("timeout", "ordering_key", "retry"):
        with pytest.raises(ValueError, match=name):
            bus.publish(topic, b"x", {name: "1"})


@pytest.mark.parametrize("unit", ["a", "é"], ids=["ascii", "two-byte"])
def test_an_attribute_value_is_at_most_1024_bytes(
    harness: Harness, topic: str, unit: str, request: pytest.FixtureRequest
) -> None:
    """Pub/Sub counts bytes, not characters: 512 two-byte characters are the limit."""
    enforces_limits(request)
    fits = unit * (1024 // len(unit.encode()))
    harness.bus.publish(topic, b"fits", {"reason": fits}).result(timeout=30)
    failure(harness.bus.publish(topic, b"too long", {"reason": fits + "a"}))
    assert harness.received(topic, 1) == [(b"fits", {"reason": fits})]


def test_an_attribute_name_is_at_most_256_bytes(
    harness: Harness, topic: str, request: pytest.FixtureRequest
) -> None:
    enforces_limits(request)
    harness.bus.publish(topic, b"fits", {"k" * 256: "v"}).result(timeout=30)
    failure(harness.bus.publish(topic, b"too long", {"k" * 257: "v"}))
    assert harness.received(topic, 1) == [(b"fits", {"k" * 256: "v"})]


def test_at_most_100_attributes(
    harness: Harness, topic: str, request: pytest.FixtureRequest
) -> None:
    enforces_limits(request)
    hundred = {f"a{i}": "v" for i in range(100)}
    harness.bus.publish(topic, b"fits", hundred).result(timeout=30)
    failure(harness.bus.publish(topic, b"too many", {**hundred, "one-more": "v"}))
    assert harness.received(topic, 1) == [(b"fits", hundred)]


def test_data_must_be_bytes(bus: Bus, topic: str) -> None:
    with pytest.raises(Unavailable):
        bus.publish(topic, "text", {}).result(timeout=30)  # type: ignore[arg-type]


def test_a_closed_bus_refuses_to_publish(harness: Harness, topic: str) -> None:
    harness.bus.publish(topic, b"before", {}).result(timeout=30)
    harness.bus.close()
    with pytest.raises(Unavailable):
        harness.bus.publish(topic, b"after", {}).result(timeout=30)
    assert harness.received(topic, 1) == [(b"before", {})]
