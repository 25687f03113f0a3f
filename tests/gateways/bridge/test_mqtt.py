"""The bridge's MQTT side on a real Mosquitto and the Pub/Sub emulator: shared load, persistent
session, manual acks, clean stop. A bus topic that does not exist yet is a bus that refuses."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import orjson
import pytest

from emulator.mosquitto import Broker
from gateways.bridge.mqtt import MqttBridge
from gateways.bridge.settings import BridgeSettings
from shared.broker.mosquitto import MosquittoAdmin
from shared.broker.publisher import MqttPublisher
from shared.bus.pubsub import PubSubBus
from tests.gateways.conftest import BRIDGE_TOPICS
from tests.support.broker import MqttClient, running_broker
from tests.support.bus_reader import BusReader
from tests.support.services import RunningService
from tests.support.waiting import until

pytestmark = [
    pytest.mark.e2e,
    # with a real broker, on the real bus only (some tests kill it or use a project without topics)
    pytest.mark.parametrize("bus_backend", ["pubsub"], indirect=True),
]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with running_broker(tmp_path_factory.mktemp("broker")) as running:
        admin = MosquittoAdmin(*running.login("stratus-admin"))
        for n in range(3):
            admin.register_device(f"d{n}", f"t{n}")
        admin.close()
        yield running


def _settings(broker: Broker, n: int, **env: str) -> BridgeSettings:
    """Bridge process `n` (1 or 2): its own account, so its own persistent session."""
    settings = BridgeSettings.from_env(
        {**broker.env(), **broker.bridge_env(n), "STRATUS_BRIDGE_MAX_DELAY_MS": "20", **env}
    )
    return dataclasses.replace(settings, core=dataclasses.replace(settings.core, retry_delay=0.05))


def _bridge(broker: Broker, n: int, bus: PubSubBus, **env: str) -> MqttBridge:
    bridge = MqttBridge(_settings(broker, n, **env), bus, lambda device: "org1")
    bridge.start()
    assert bridge.subscribed.wait(20)  # the SUBACK: from now on the broker routes to us
    return bridge


def _device(broker: Broker, n: int) -> MqttClient:
    client = MqttClient(broker, f"d{n}", f"t{n}")
    assert client.wait_connected()
    return client


def _burst(device: MqttClient, n: int, first: int = 0, topic: str = "devices/d0/events") -> None:
    for ts in range(first, first + n):
        payload = orjson.dumps({"sensor_id": "s", "timestamp": ts, "value": ts})
        device.client.publish(topic, payload, qos=1)


def _timestamps(reader: BusReader, topic: str = "telemetry-raw") -> list[int]:
    return [entry["payload"]["timestamp"] for entry in reader.entries(topic)]


def test_two_bridges_share_the_load_and_together_get_everything(
    broker: Broker, bus: PubSubBus, reader: BusReader
) -> None:
    reader.create("telemetry-raw")
    bridges = [_bridge(broker, n, bus) for n in (1, 2)]
    device = _device(broker, 0)
    _burst(device, 400)
    reader.wait_for("telemetry-raw", lambda got: len(_timestamps(reader)) >= 400)
    assert sorted(_timestamps(reader)) == list(range(400))
    assert all(bridge.bridge.stats["published"] > 0 for bridge in bridges)  # both took a share
    for bridge in bridges:
        assert bridge.stop()
    device.close()


def test_unacknowledged_messages_come_back_to_the_restarted_bridge(
    broker: Broker, bus: PubSubBus, reader: BusReader
) -> None:
    stuck = PubSubBus(f"{reader.project}-down")  # no topics there: every publish is refused
    first = _bridge(broker, 1, stuck, STRATUS_BRIDGE_RECEIVE_MAXIMUM="50")
    device = _device(broker, 1)
    _burst(device, 120, topic="devices/d1/events")
    assert until(lambda: first.bridge.stats["received"] == 50)
    assert until(lambda: first.bridge.stats["retries"] > 0)
    first.client.socket().close()  # a crash: no DISCONNECT, no acknowledgements
    first.client.loop_stop()
    first.bridge.close()  # and no more publishing from the dead process
    # the broker honoured the receive maximum: 50 were handed out, none acknowledged
    assert first.bridge.stats["received"] == 50 and first.bridge.stats["published"] == 0
    reader.create("telemetry-raw")
    second = _bridge(broker, 1, bus, STRATUS_BRIDGE_RECEIVE_MAXIMUM="50")
    reader.wait_for("telemetry-raw", lambda got: set(_timestamps(reader)) == set(range(120)))
    assert second.stop()
    device.close()
    stuck.close()


def test_api_config_and_commands_are_not_taken_by_the_bridge(
    broker: Broker, bus: PubSubBus, reader: BusReader
) -> None:
    for topic in BRIDGE_TOPICS:
        reader.create(topic)
    bridge = _bridge(broker, 1, bus)
    api = MqttPublisher(*broker.login("stratus-api-1"))
    assert api.publish("devices/d2/commands/reboot", b"{}") is False  # nobody subscribed
    api.publish("devices/d2/config", b'{"version":1}', retain=True)
    device = _device(broker, 2)
    device.publish("devices/d2/state", b'{"config_version":1}')
    device.publish("d2", b"not json")
    (state,) = reader.wait_for("device-state", lambda got: len(got) == 1)
    assert [e["payload"] for e in state.entries()] == [{"config_version": 1}]
    (dead,) = reader.wait_for("telemetry-dead", lambda got: len(got) == 1)
    assert dead.data == b"not json" and dead.attributes["device"] == "d2"
    assert bridge.stop()
    assert bridge.bridge.stats["received"] == 2  # neither the command nor the config
    assert reader.pull("telemetry-raw") == []
    api.close()
    device.close()


def test_after_a_dropped_connection_only_the_redelivered_copies_are_acknowledged(
    broker: Broker, pubsub: RunningService, bus: PubSubBus, reader: BusReader
) -> None:
    reader.create("telemetry-raw")
    bridge = _bridge(broker, 1, bus)
    device = _device(broker, 0)
    pubsub.kill()  # the bus is down: nothing can be confirmed, so nothing is acknowledged
    try:
        _burst(device, 30)
        assert until(lambda: bridge.bridge.stats["received"] == 30)
        bridge.bridge.flush(everything=True)
        bridge.connected.clear()
        bridge.client.socket().close()  # the broker sees the connection drop; paho reconnects
        assert bridge.connected.wait(20)
        assert until(lambda: bridge.bridge.stats["received"] == 60)  # the broker resent all 30
    finally:
        pubsub.start()  # the bus recovers: old and new copies are confirmed
    assert until(lambda: bridge.bridge.unacked == 0, timeout=60)
    assert bridge.bridge.stats["published"] == 60
    reader.wait_for("telemetry-raw", lambda got: set(_timestamps(reader)) == set(range(30)))
    assert bridge.stop()  # the broker confirmed it has read every acknowledgement
    again = _bridge(broker, 1, bus)
    assert again.stop()
    assert again.bridge.stats["received"] == 0  # the session owed nothing: all were acknowledged
    device.close()


def test_a_clean_stop_under_load_loses_nothing(
    broker: Broker, bus: PubSubBus, reader: BusReader
) -> None:
    reader.create("telemetry-raw")
    bridges = [_bridge(broker, n, bus) for n in (1, 2)]
    device = _device(broker, 1)
    _burst(device, 300, topic="devices/d1/events")
    assert until(lambda: bridges[0].bridge.stats["received"] > 0)
    assert bridges[0].stop()  # mid-burst: its share so far is published, the rest goes on
    _burst(device, 100, first=300, topic="devices/d1/events")
    reader.wait_for("telemetry-raw", lambda got: set(_timestamps(reader)) == set(range(400)))
    assert bridges[1].stop()
    device.close()


def test_a_bridge_keeping_its_session_gets_what_arrived_while_it_was_away(
    broker: Broker, bus: PubSubBus, reader: BusReader
) -> None:
    """The emulator's bridges stop keeping their session (STRATUS_BRIDGE_KEEP_SESSION): its
    subscriptions stay, so the devices' messages queue for it until it is back."""
    reader.create("telemetry-raw")
    first = _bridge(broker, 1, bus, STRATUS_BRIDGE_KEEP_SESSION="1")
    device = _device(broker, 0)
    _burst(device, 50)
    assert until(lambda: first.bridge.stats["received"] == 50)
    assert first.stop()  # everything received was published and acknowledged
    _burst(device, 50, first=50)  # while no bridge runs: acknowledged by the broker, queued
    second = _bridge(broker, 1, bus)  # the same account: resumes the session
    reader.wait_for("telemetry-raw", lambda got: set(_timestamps(reader)) == set(range(100)))
    assert second.stop()  # and ends it (no keep)
    device.close()
