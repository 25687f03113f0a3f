"""The bridge core without a broker: topics, formats, batch bounds, ack-after-publish, retries."""

from __future__ import annotations

import threading

import orjson
import pytest

from gateways.bridge.batcher import Batcher
from gateways.bridge.service import Bridge, BridgeConfig
from gateways.bridge.topics import Route, detect_format, encode_entry, route
from tests.support.memory_bus import MemoryBus


def reading(ts: int) -> bytes:
    return orjson.dumps({"sensor_id": "s1", "timestamp": ts, "value": ts})


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("devices/d1/events", Route("d1", "events")),
        ("devices/d1/events/engine/oil", Route("d1", "events", "engine/oil")),
        ("devices/d1/state", Route("d1", "state")),
        ("d1", Route("d1", "events")),
        ("devices/d1/config", None),
        ("devices/d1/commands/reboot", None),
        ("devices//events", None),
        ("$SYS/broker", None),
        ("other/d1/events", None),
    ],
)
def test_routes(topic: str, expected: Route | None) -> None:
    assert route(topic) == expected


def test_formats() -> None:
    assert detect_format({"sensor_id": "1", "timestamp": 1, "value": 2}) == "reference"
    assert detect_format([{"sensor_id": "1", "timestamp": 1, "value": 2}]) == "reference"
    assert detect_format([{"bn": "dev/", "n": "t", "v": 1}]) == "senml"
    assert detect_format([{"n": "x"}], "application/senml+json; charset=utf-8") == "senml"
    for bad in ({"temp": 1}, [], 42, "x", [{"unknown": 1}]):
        with pytest.raises(ValueError):
            detect_format(bad)
    with pytest.raises(ValueError, match="SenML"):
        detect_format({"n": "x"}, "application/senml+json")


def test_entry_embeds_the_payload_as_sent() -> None:
    entry = orjson.loads(encode_entry("senml", 7, 'devices/d"1/events', b' [{"n":"a","v":1}]'))
    assert entry == {
        "format": "senml",
        "received_ns": 7,
        "topic": 'devices/d"1/events',
        "payload": [{"n": "a", "v": 1}],
    }


def test_batches_are_bounded_by_count_bytes_and_age() -> None:
    batcher = Batcher(max_messages=3, max_bytes=100, max_delay=1.0)
    assert batcher.add("d1", "events", b"x" * 10, 1, 0.0) is None
    assert batcher.add("d2", "events", b"y" * 10, 2, 0.0) is None
    assert batcher.add("d1", "events", b"x" * 10, 3, 0.1) is None
    full = batcher.add("d1", "events", b"x" * 10, 4, 0.2)
    assert full is not None and full.tokens == [1, 3, 4] and full.data().count(b",") == 2
    assert batcher.count == 1
    assert batcher.add("d2", "events", b"y" * 95, 5, 0.3) is not None  # would overflow: d2 goes
    assert [b.tokens for b in batcher.due(1.2)] == []
    assert [b.tokens for b in batcher.due(1.3)] == [[5]]
    assert batcher.count == 0 and batcher.drain() == []


def test_messages_are_acknowledged_only_after_the_bus_confirmed() -> None:
    bus, acked = MemoryBus(auto=False), []
    bridge = Bridge(bus, lambda d: "org1", acked.extend, BridgeConfig(max_delay=0.0))
    bridge.receive("devices/d1/events", reading(1), 11)
    bridge.receive("d1", reading(2), 12)
    bridge.receive("devices/d2/events/x", reading(3), 13)
    assert bridge.flush() == 2 and acked == [] and bridge.unacked == 3
    by_device = {attrs["device"]: (topic, data, attrs) for topic, data, attrs in bus.published}
    topic, data, attrs = by_device["d1"]
    assert topic == "telemetry-raw"
    assert attrs["org"] == "org1" and attrs["format"] == "batch" and attrs["transport"] == "mqtt"
    entries = orjson.loads(data)
    assert [e["payload"]["timestamp"] for e in entries] == [1, 2]
    assert [e["topic"] for e in entries] == ["devices/d1/events", "d1"]
    bus.pending[0].set_result("m1")
    assert sorted(acked) == [11, 12] and bridge.unacked == 1
    bus.pending[1].set_result("m2")
    assert sorted(acked) == [11, 12, 13] and bridge.unacked == 0


def test_malformed_payloads_are_dead_lettered_with_device_and_reason() -> None:
    bus, acked = MemoryBus(), []
    bridge = Bridge(bus, lambda d: "org1", acked.extend, BridgeConfig())
    bridge.receive("devices/d1/events", b"{not json", 1)
    bridge.receive("devices/d1/events", b'{"temp": 1}', 2)
    bridge.receive("devices/d1/state", b"[1]", 3)
    assert acked == [1, 2, 3]
    assert [topic for topic, _, _ in bus.published] == ["telemetry-dead"] * 3
    reasons = [attrs["reason"] for _, _, attrs in bus.published]
    assert "not valid JSON" in reasons[0] and "neither" in reasons[1] and "object" in reasons[2]
    assert all(attrs["device"] == "d1" for _, _, attrs in bus.published)
    assert bus.published[0][1] == b"{not json"


def test_state_goes_to_its_own_topic_and_unknown_devices_to_dead_letters() -> None:
    bus, acked = MemoryBus(), []
    orgs = {"d1": "org1"}
    bridge = Bridge(bus, orgs.get, acked.extend, BridgeConfig(max_delay=0.0))
    bridge.receive("devices/d1/state", b'{"config_version": 2}', 1)
    bridge.receive("devices/gone/events", reading(1), 2)
    bridge.flush()
    topics = {attrs["device"]: topic for topic, _, attrs in bus.published}
    assert topics == {"d1": "device-state", "gone": "telemetry-dead"}
    assert sorted(acked) == [1, 2]


def test_a_failed_publish_is_retried_and_acknowledged_once() -> None:
    bus, acked = MemoryBus(), []
    done = threading.Event()

    def ack(tokens: list[int]) -> None:
        acked.extend(tokens)
        done.set()

    bridge = Bridge(bus, lambda d: "o", ack, BridgeConfig(max_delay=0.0, retry_delay=0.01))
    bus.fail_next = 2
    bridge.receive("devices/d1/events", reading(1), 5)
    bridge.flush()
    assert done.wait(2)
    assert acked == [5] and bridge.stats["retries"] == 2 and len(bus.published) == 1


def test_the_flusher_publishes_full_batches_at_once_and_the_rest_on_stop() -> None:
    bus, acked = MemoryBus(), []
    config = BridgeConfig(max_messages=2, max_delay=60.0)
    bridge = Bridge(bus, lambda d: "o", acked.extend, config)
    stop = threading.Event()
    flusher = threading.Thread(target=bridge.run, args=(stop,))
    flusher.start()
    for token in (1, 2, 3):
        bridge.receive("devices/d1/events", reading(token), token)
    assert bridge.wait_acked(0.01) is False
    stop.set()
    flusher.join(2)
    assert bridge.wait_acked(2) and sorted(acked) == [1, 2, 3] and len(bus.published) == 2
