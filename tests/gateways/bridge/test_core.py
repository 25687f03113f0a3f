"""The bridge core without a broker: topics, formats, batch bounds, dead letters and state on the
bus port (in memory and on the Pub/Sub emulator), and ack-after-publish and retries against the
emulator itself (killed and restarted; a topic that does not exist yet is a bus that refuses)."""

from __future__ import annotations

import threading

import orjson
import pytest
from google.api_core.retry import Retry
from google.cloud import pubsub_v1

from gateways.bridge.batcher import Batcher
from gateways.bridge.service import Bridge, BridgeConfig
from gateways.bridge.topics import Route, detect_format, encode_entry, route
from shared.bus import Bus
from shared.bus.pubsub import PubSubBus
from tests.support.bus_reader import BusReader
from tests.support.services import RunningService
from tests.support.waiting import until


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
    entry = orjson.loads(
        encode_entry("senml", 7, 'devices/d"1/events', 'd"1', b' [{"n":"a","v":1}]')
    )
    assert entry == {
        "format": "senml",
        "received_ns": 7,
        "topic": 'devices/d"1/events',
        "device": 'd"1',
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


def test_a_shared_batch_holds_every_device() -> None:
    batcher = Batcher(max_messages=3, max_bytes=1000, max_delay=1.0)
    assert batcher.add("d1", "events", b"a", 1, 0.0, shared=True) is None
    assert batcher.add("d2", "events", b"b", 2, 0.0, shared=True) is None
    assert batcher.add("d1", "state", b"c", 3, 0.0) is None  # per device: its own batch
    full = batcher.add("d3", "events", b"d", 4, 0.0, shared=True)
    assert full is not None and full.devices == ["d1", "d2", "d3"]
    assert full.data([0, 2]) == b"[a,d]" and full.data() == b"[a,b,d]"
    (state,) = batcher.drain()
    assert state.kind == "state" and state.devices == ["d1"]


@pytest.mark.parametrize("bus_backend", ["pubsub"], indirect=True)  # kills the emulator
def test_messages_are_acknowledged_only_after_the_bus_confirmed(
    pubsub: RunningService, bus: PubSubBus, reader: BusReader
) -> None:
    reader.create("telemetry-raw")
    acked: list[int] = []
    orgs = {"d1": "org1", "d2": "org1", "d3": "org2"}
    bridge = Bridge(bus, orgs.get, acked.extend, BridgeConfig(max_delay=0.0))
    pubsub.kill()  # the bus is down: publishes wait in the client
    try:
        bridge.receive("devices/d1/events", reading(1), 11)
        bridge.receive("d1", reading(2), 12)
        bridge.receive("devices/d2/events/x", reading(3), 13)
        bridge.receive("devices/d3/events", reading(4), 14)
        assert bridge.flush() == 1  # one batch for the fleet ...
        assert acked == [] and bridge.unacked == 4
    finally:
        pubsub.start()
    assert until(lambda: bridge.unacked == 0)
    assert sorted(acked) == [11, 12, 13, 14] and bridge.stats["published"] == 4
    # ... published as one message per organisation
    messages = reader.wait_for("telemetry-raw", lambda got: len(got) == 2)
    by_org = {m.attributes["org"]: m for m in messages}
    attrs = by_org["org1"].attributes
    assert attrs["format"] == "batch" and attrs["transport"] == "mqtt"
    assert "device" not in attrs  # several devices: each entry names its own
    entries = by_org["org1"].entries()
    assert [e["payload"]["timestamp"] for e in entries] == [1, 2, 3]
    assert [e["device"] for e in entries] == ["d1", "d1", "d2"]
    assert [e["topic"] for e in entries] == ["devices/d1/events", "d1", "devices/d2/events/x"]
    assert by_org["org2"].attributes["device"] == "d3"  # one device: named on the message too
    assert [e["device"] for e in by_org["org2"].entries()] == ["d3"]


def test_malformed_payloads_are_dead_lettered_with_device_and_reason(
    bus: Bus, reader: BusReader
) -> None:
    reader.create("telemetry-dead")
    acked: list[int] = []
    bridge = Bridge(bus, lambda d: "org1", acked.extend, BridgeConfig())
    bridge.receive("devices/d1/events", b"{not json", 1)
    bridge.receive("devices/d1/events", b'{"temp": 1}', 2)
    bridge.receive("devices/d1/state", b"[1]", 3)
    assert until(lambda: len(acked) == 3) and sorted(acked) == [1, 2, 3]
    messages = reader.wait_for("telemetry-dead", lambda got: len(got) == 3)
    reasons = {m.data: m.attributes["reason"] for m in messages}
    assert "not valid JSON" in reasons[b"{not json"]
    assert "neither" in reasons[b'{"temp": 1}']
    assert "object" in reasons[b"[1]"]
    assert all(m.attributes["device"] == "d1" for m in messages)
    assert {m.attributes["mqtt_topic"] for m in messages} == {
        "devices/d1/events",
        "devices/d1/state",
    }


def test_state_goes_to_its_own_topic_and_unknown_devices_to_dead_letters(
    bus: Bus, reader: BusReader
) -> None:
    for topic in ("telemetry-raw", "device-state", "telemetry-dead"):
        reader.create(topic)
    acked: list[int] = []
    orgs = {"d1": "org1"}
    bridge = Bridge(bus, orgs.get, acked.extend, BridgeConfig(max_delay=0.0))
    bridge.receive("devices/d1/state", b'{"config_version": 2}', 1)
    bridge.receive("devices/gone/events", reading(1), 2)
    bridge.receive("devices/d1/events", reading(2), 3)  # shares the batch with "gone"
    bridge.flush()
    assert until(lambda: len(acked) == 3) and sorted(acked) == [1, 2, 3]
    (state,) = reader.wait_for("device-state", lambda got: len(got) == 1)
    assert state.attributes["device"] == "d1" and state.attributes["org"] == "org1"
    assert [e["payload"] for e in state.entries()] == [{"config_version": 2}]
    assert [e["format"] for e in state.entries()] == ["state"]
    (dead,) = reader.wait_for("telemetry-dead", lambda got: len(got) == 1)
    assert dead.attributes["device"] == "gone" and "unknown device" in dead.attributes["reason"]
    assert [e["device"] for e in dead.entries()] == ["gone"]
    (raw,) = reader.wait_for("telemetry-raw", lambda got: len(got) == 1)
    assert raw.attributes["device"] == "d1" and [e["device"] for e in raw.entries()] == ["d1"]


@pytest.mark.parametrize("bus_backend", ["pubsub"], indirect=True)  # kills the emulator
def test_a_failed_publish_is_retried_and_acknowledged_once(
    pubsub: RunningService, project: str, reader: BusReader
) -> None:
    reader.create("telemetry-raw")
    # a client that gives up after a second, so the bridge sees the failures and retries
    client = pubsub_v1.PublisherClient(
        publisher_options=pubsub_v1.types.PublisherOptions(
            retry=Retry(initial=0.05, maximum=0.2, timeout=1.0), timeout=1.0
        )
    )
    bus = PubSubBus(project, client=client)
    acked: list[int] = []
    done = threading.Event()

    def ack(tokens: list[int]) -> None:
        acked.extend(tokens)
        done.set()

    bridge = Bridge(bus, lambda d: "o", ack, BridgeConfig(max_delay=0.0, retry_delay=0.02))
    pubsub.kill()
    try:
        bridge.receive("devices/d1/events", reading(1), 5)
        bridge.flush()
        assert until(lambda: bridge.stats["retries"] >= 2)
        assert not done.is_set()
    finally:
        pubsub.start()
    assert done.wait(60)
    assert acked == [5] and bridge.unacked == 0 and bridge.stats["published"] == 1
    (message, *_) = reader.wait_for("telemetry-raw", lambda got: len(got) >= 1)
    assert [e["payload"]["timestamp"] for e in message.entries()] == [1]
    bus.close()


def test_the_flusher_publishes_full_batches_at_once_and_the_rest_on_stop(
    bus: PubSubBus, reader: BusReader
) -> None:
    reader.create("telemetry-raw")
    acked: list[int] = []
    config = BridgeConfig(max_messages=2, max_delay=60.0)
    bridge = Bridge(bus, lambda d: "o", acked.extend, config)
    stop = threading.Event()
    flusher = threading.Thread(target=bridge.run, args=(stop,))
    flusher.start()
    for token in (1, 2, 3):
        bridge.receive("devices/d1/events", reading(token), token)
    assert until(lambda: sorted(acked) == [1, 2])  # the full batch went at once
    assert bridge.unacked == 1  # the third waits for its batch to fill or age
    stop.set()
    flusher.join(20)
    assert bridge.wait_acked(20) and sorted(acked) == [1, 2, 3]
    messages = reader.wait_for("telemetry-raw", lambda got: len(got) == 2)
    assert sorted(len(m.entries()) for m in messages) == [1, 2]


def test_payloads_over_the_body_limit_or_nested_too_deep_are_dead_lettered_with_the_reason(
    bus: PubSubBus, reader: BusReader
) -> None:
    """The one size and depth policy of every door: such a payload is acknowledged only once
    its dead letter says why (it used to be batched and retried forever)."""
    reader.create("telemetry-dead")
    acked: list[int] = []
    bridge = Bridge(bus, lambda d: "org1", acked.extend, BridgeConfig(max_payload=1000))
    big = orjson.dumps({"sensor_id": "s1", "timestamp": 1, "value": "x" * 1000})
    deep = b'{"sensor_id": "s1", "timestamp": 1, "value": ' + b"[" * 40 + b"]" * 40 + b"}"
    bridge.receive("devices/d1/events", big, 1)
    bridge.receive("devices/d1/events", deep, 2)
    bridge.receive(f"devices/d1/events/{'t' * 2000}", b"{not json", 3)
    assert until(lambda: len(acked) == 3) and sorted(acked) == [1, 2, 3]
    assert bridge.stats["dead_lettered"] == 3 and bridge.stats["retries"] == 0
    messages = reader.wait_for("telemetry-dead", lambda got: len(got) == 3)
    reasons = {m.data: m.attributes["reason"] for m in messages}
    assert reasons[big] == (
        f"payload is {len(big)} bytes; the limit is 1000 bytes (STRATUS_MAX_BODY_BYTES), as for "
        "HTTP and WebSocket bodies"
    )
    assert "more than 32 levels deep" in reasons[deep]
    long_topic = next(m for m in messages if m.data == b"{not json").attributes["mqtt_topic"]
    assert len(long_topic.encode()) <= 1024 and long_topic.endswith("...")  # Pub/Sub's bound
