"""The normalizer's event handling on the bus port (the in-memory fake, and the Pub/Sub emulator):
normalized messages and dead letters really published, acknowledged only once the bus has them;
errors to ack or retry."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from google.cloud import pubsub_v1

from functions.normalizer.service import DEAD_TOPIC, NORMALIZED_TOPIC, Normalizer
from shared.bus import Bus
from shared.bus.pubsub import PubSubBus
from shared.errors import Unavailable
from shared.events import EventFunction, Message
from shared.telemetry.model import NormalizedMessage
from shared.telemetry.sensors import CachedSensorDirectory, Sensor
from tests.support.bus_reader import pull_all
from tests.support.memory_bus import MemoryBus
from tests.support.services import RunningService, running_service

PROJECT = "normalizer-test"
NOW = 1_790_000_000_000_000_000
S1, S2 = "1" * 20, "2" * 20
ATTRIBUTES = {
    "org": "o1",
    "device": "d1",
    "format": "reference",
    "received_ns": str(NOW),
    "transport": "http",
    "request_id": "req-1",
}
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def pubsub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with (
        running_service("pubsub", tmp_path_factory.mktemp("normalizer-bus")) as service,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("PUBSUB_EMULATOR_HOST", service.address)
        publisher = pubsub_v1.PublisherClient()
        for topic in (NORMALIZED_TOPIC, DEAD_TOPIC):
            publisher.create_topic(name=publisher.topic_path(PROJECT, topic))
        publisher.transport.close()
        yield service


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Sensors:
    """What the store holds for device d1, counting reads."""

    sensors: dict[str, Sensor] = field(
        default_factory=lambda: {
            S1: Sensor(S1, "temperature", "", "double", "Cel"),
            S2: Sensor(S2, "open", "door", "boolean"),
        }
    )
    reads: int = 0

    def __call__(self, org: str, device: str) -> Mapping[str, Sensor]:
        self.reads += 1
        return dict(self.sensors) if (org, device) == ("o1", "d1") else {}


@dataclass
class Setup:
    """The normalizer on a bus; `drain(normalized)` and `drain(dead)` give what each topic got
    since the last drain."""

    function: EventFunction
    sensors: Sensors
    clock: Clock
    drain: Callable[[str], list[Any]]  # messages (.data, .attributes)
    normalized: str
    dead: str
    broken_bus: Callable[[], Bus]  # a bus without the normalizer's topics


def _memory_drain(bus: MemoryBus) -> Callable[[str], list[Any]]:
    seen: dict[str, int] = {}

    def drain(topic: str) -> list[Any]:
        messages = bus.messages(topic)
        fresh, seen[topic] = messages[seen.get(topic, 0) :], len(messages)
        return fresh

    return drain


def build(bus: Bus, sensors: Sensors, clock: Clock) -> EventFunction:
    directory = CachedSensorDirectory(sensors, ttl=60, clock=clock)
    normalizer = Normalizer(bus, directory, clock=lambda: NOW)
    return EventFunction("normalizer", normalizer.handle, dead_letter=normalizer.dead_letter)


@pytest.fixture(params=[pytest.param("memory"), pytest.param("pubsub", marks=pytest.mark.process)])
def setup(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    """The normalizer on the in-memory bus (fast tier) and on the Pub/Sub emulator (`process`)."""
    sensors, clock = Sensors(), Clock()
    if request.param == "memory":
        memory = MemoryBus(topics={NORMALIZED_TOPIC, DEAD_TOPIC})
        yield Setup(
            build(memory, sensors, clock), sensors, clock, _memory_drain(memory),
            NORMALIZED_TOPIC, DEAD_TOPIC, lambda: MemoryBus(topics=()),
        )  # fmt: skip
        return
    service: RunningService = request.getfixturevalue("pubsub")
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", service.address)
    subscriber = pubsub_v1.SubscriberClient()
    names = {}
    for topic in (NORMALIZED_TOPIC, DEAD_TOPIC):
        names[topic] = subscriber.subscription_path(PROJECT, f"{topic}-{next(_ids)}")
        subscriber.create_subscription(
            name=names[topic], topic=f"projects/{PROJECT}/topics/{topic}"
        )
    bus = PubSubBus(PROJECT)
    yield Setup(
        build(bus, sensors, clock), sensors, clock,
        lambda subscription: pull_all(subscriber, subscription),
        names[NORMALIZED_TOPIC], names[DEAD_TOPIC], lambda: PubSubBus("no-topics-here"),
    )  # fmt: skip
    bus.close()
    subscriber.close()


def raw(body: Any, **attributes: str) -> Message:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return Message(id=f"m{next(_ids)}", data=data, attributes={**ATTRIBUTES, **attributes})


def test_readings_are_published_normalized_with_the_attributes_as_received(setup: Setup) -> None:
    body = [
        {"sensor_id": S1, "timestamp": 1526717967, "value": "91827364"},
        {"sensor_id": S2, "timestamp": 1526717967123, "value": "true"},
    ]
    assert setup.function(raw(body)) == "ack"
    [message] = setup.drain(setup.normalized)
    assert dict(message.attributes) == ATTRIBUTES
    assert orjson.loads(message.data) == {
        "org": "o1",
        "device": "d1",
        "source": {"message_id": "req-1", "transport": "http"},
        "readings": [
            {
                "sensor": S1,
                "ts": 1526717967 * 10**9,
                "value": 91827364.0,
                "type": "double",
                "unit": "Cel",
            },
            {"sensor": S2, "ts": 1526717967123 * 10**6, "value": True, "type": "boolean"},
        ],
    }
    assert NormalizedMessage.from_bytes(message.data).readings[0].value == 91827364.0
    assert setup.drain(setup.dead) == []


def test_senml_names_resolve_and_relative_times_count_from_reception(setup: Setup) -> None:
    pack = [
        {"bn": "urn:dev:x:", "n": "temperature", "u": "Cel", "v": 21, "t": -2},
        {"n": "door/open", "vb": False},
    ]
    assert setup.function(raw(pack, format="senml")) == "ack"
    [message] = setup.drain(setup.normalized)
    readings = orjson.loads(message.data)["readings"]
    assert [(r["sensor"], r["ts"], r["value"]) for r in readings] == [
        (S1, NOW - 2 * 10**9, 21.0),
        (S2, NOW, False),
    ]


def test_a_rejected_reading_is_dead_lettered_alone_with_its_reason(setup: Setup) -> None:
    body = [
        {"sensor_id": S1, "timestamp": 1526717967, "value": 1},
        {"sensor_id": S1, "timestamp": 1526717968, "value": "abc"},
    ]
    message = raw(body)
    assert setup.function(message) == "ack"
    [normalized] = setup.drain(setup.normalized)
    assert [r["value"] for r in orjson.loads(normalized.data)["readings"]] == [1.0]
    [dead] = setup.drain(setup.dead)
    reason = f"sensor {S1!r}: 'abc' is not a number (sensor type double)"
    assert orjson.loads(dead.data) == {
        "reason": reason,
        "where": "readings[1]",
        "format": "reference",
        "received_ns": NOW,
        "original": body[1],
    }
    assert dict(dead.attributes) == {
        "org": "o1",
        "device": "d1",
        "transport": "http",
        "request_id": "req-1",
        "raw_message_id": message.id,
        "format": "reference",
        "where": "readings[1]",
        "reason": reason,
    }


def test_a_fleet_batch_dead_letters_each_rejection_under_its_own_device(setup: Setup) -> None:
    """A bridge batch of several devices (no device attribute): the normalized message names
    each reading's device, a rejection's dead letter names the device it came from, and the
    sensors of every rejected device are read again before rejecting."""

    def entry(device: str, sensor: str) -> dict[str, Any]:
        payload = {"sensor_id": sensor, "timestamp": 1526717967, "value": 1}
        return {"format": "reference", "received_ns": NOW, "device": device, "payload": payload}

    attributes = {"org": "o1", "format": "batch", "transport": "mqtt", "request_id": "b-7"}
    message = Message(
        id="fleet-1",
        data=orjson.dumps([entry("d1", S1), entry("d2", S1)]),
        attributes=attributes,
    )
    assert setup.function(message) == "ack"
    assert setup.sensors.reads == 2  # d1 and d2, once each (d2 was just read: not again)
    [normalized] = setup.drain(setup.normalized)
    body = orjson.loads(normalized.data)
    assert body["device"] == "" and [r["device"] for r in body["readings"]] == ["d1"]
    assert "device" not in normalized.attributes
    [dead] = setup.drain(setup.dead)
    assert dead.attributes["device"] == "d2" and dead.attributes["org"] == "o1"
    assert dead.attributes["where"] == "entries[1].payload.readings[0]"
    assert orjson.loads(dead.data)["device"] == "d2"
    setup.clock.now += 2  # later, the cached answers are old enough to be read again
    assert setup.function(message) == "ack"
    assert setup.sensors.reads == 3  # only the rejected device, d2, is read again
    assert len(setup.drain(setup.normalized)) == 1 and len(setup.drain(setup.dead)) == 1


def test_nothing_accepted_means_no_normalized_message(setup: Setup) -> None:
    body = {"sensor_id": "9" * 20, "timestamp": 1526717967, "value": 1}
    assert setup.function(raw(body)) == "ack"
    assert setup.drain(setup.normalized) == []
    [dead] = setup.drain(setup.dead)
    assert "not a sensor of device 'd1'" in dead.attributes["reason"]


def test_a_broken_envelope_is_dead_lettered_whole(setup: Setup) -> None:
    message = raw(b"not json at all", org="")
    assert setup.function(message) == "dead_lettered"
    [dead] = setup.drain(setup.dead)
    body = orjson.loads(dead.data)
    assert body["reason"] == "raw telemetry message without org and device attributes"
    assert body["where"] == "message"
    assert body["original"] == "not json at all"
    assert dead.attributes["raw_message_id"] == message.id
    assert "org" not in dead.attributes
    assert setup.drain(setup.normalized) == []


def test_a_sensor_missing_from_the_cache_is_read_again_before_rejecting(setup: Setup) -> None:
    new = "3" * 20
    body = {"sensor_id": new, "timestamp": 1526717967, "value": 5}
    setup.function(raw({"sensor_id": S1, "timestamp": 1526717967, "value": 5}))
    assert setup.sensors.reads == 1
    setup.sensors.sensors[new] = Sensor(new, "fresh", "", "long")
    setup.clock.now += 2  # past the one second a refresh waits for
    assert setup.function(raw(body)) == "ack"
    assert setup.sensors.reads == 2
    assert len(setup.drain(setup.normalized)) == 2
    assert setup.drain(setup.dead) == []


def test_a_bus_failure_is_retried_not_acknowledged(setup: Setup) -> None:
    bus = setup.broken_bus()
    function = build(bus, setup.sensors, setup.clock)
    with pytest.raises(Unavailable):
        function(raw({"sensor_id": S1, "timestamp": 1526717967, "value": 5}))
    with pytest.raises(Unavailable):  # a dead letter that cannot be parked is retried too
        function(raw(b"[]", format="nonsense"))
    bus.close()
