"""The bridge's MQTT side on a real Mosquitto: shared load, persistent session, manual acks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import orjson
import pytest

from emulator.mosquitto import Broker
from gateways.bridge.mqtt import MqttBridge
from gateways.bridge.settings import BridgeSettings
from shared.broker.mosquitto import MosquittoAdmin
from shared.broker.publisher import MqttPublisher
from tests.support.broker import MqttClient, running_broker
from tests.support.memory_bus import MemoryBus

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with running_broker(tmp_path_factory.mktemp("broker")) as running:
        admin = MosquittoAdmin(
            running.host, running.port, "stratus-admin", running.accounts["stratus-admin"]
        )
        for n in range(3):
            admin.register_device(f"d{n}", f"t{n}")
        admin.close()
        yield running


def _settings(broker: Broker, bridge_id: str, **env: str) -> BridgeSettings:
    return BridgeSettings.from_env(
        {**broker.env(), "STRATUS_BRIDGE_ID": bridge_id, "STRATUS_BRIDGE_MAX_DELAY_MS": "20", **env}
    )


def _bridge(broker: Broker, bridge_id: str, bus: MemoryBus, **env: str) -> MqttBridge:
    bridge = MqttBridge(_settings(broker, bridge_id, **env), bus, lambda device: "org1")
    bridge.start()
    assert bridge.connected.wait(5)
    time.sleep(0.2)  # let the subscriptions land
    return bridge


def _device(broker: Broker, n: int) -> MqttClient:
    client = MqttClient(broker, f"d{n}", f"t{n}")
    assert client.wait_connected()
    return client


def _until(predicate: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _burst(device: MqttClient, n: int, first: int = 0, topic: str = "devices/d0/events") -> None:
    for ts in range(first, first + n):
        payload = orjson.dumps({"sensor_id": "s", "timestamp": ts, "value": ts})
        device.client.publish(topic, payload, qos=1)


def _timestamps(bus: MemoryBus) -> list[int]:
    return [entry["payload"]["timestamp"] for entry in bus.entries()]


def test_two_bridges_share_the_load_and_together_get_everything(broker: Broker) -> None:
    buses = [MemoryBus(), MemoryBus()]
    bridges = [_bridge(broker, f"share{n}", bus) for n, bus in enumerate(buses)]
    device = _device(broker, 0)
    _burst(device, 400)
    assert _until(lambda: sum(len(_timestamps(bus)) for bus in buses) == 400)
    assert all(_timestamps(bus) for bus in buses)
    assert sorted(_timestamps(buses[0]) + _timestamps(buses[1])) == list(range(400))
    for bridge in bridges:
        assert bridge.stop()
    device.close()


def test_unacknowledged_messages_come_back_to_the_restarted_bridge(broker: Broker) -> None:
    stuck = MemoryBus(auto=False)  # never confirms: nothing may be acknowledged
    first = _bridge(broker, "crash", stuck, STRATUS_BRIDGE_RECEIVE_MAXIMUM="50")
    device = _device(broker, 1)
    _burst(device, 120, topic="devices/d1/events")
    assert _until(lambda: first.bridge.stats["received"] == 50)
    time.sleep(0.3)
    assert first.bridge.stats["received"] == 50  # the broker honours the receive maximum
    first.client.socket().close()  # a crash: no DISCONNECT, no acknowledgements
    first.client.loop_stop()
    bus = MemoryBus()
    second = _bridge(broker, "crash", bus, STRATUS_BRIDGE_RECEIVE_MAXIMUM="50")
    assert _until(lambda: len(set(_timestamps(bus))) == 120)
    assert second.stop()
    device.close()


def test_api_config_and_commands_are_not_taken_by_the_bridge(broker: Broker) -> None:
    bus = MemoryBus()
    bridge = _bridge(broker, "api", bus)
    api = MqttPublisher(broker.host, broker.port, "stratus-api", broker.accounts["stratus-api"])
    assert api.publish("devices/d2/commands/reboot", b"{}") is False  # nobody subscribed
    api.publish("devices/d2/config", b'{"version":1}', retain=True)
    device = _device(broker, 2)
    device.publish("devices/d2/state", b'{"config_version":1}')
    device.publish("d2", b"not json")
    assert _until(lambda: len(bus.published) == 2)
    topics = sorted(topic for topic, _, _ in bus.published)
    assert topics == ["device-state", "telemetry-dead"]
    assert bridge.stop()
    api.close()
    device.close()


def test_after_a_dropped_connection_only_the_redelivered_copies_are_acknowledged(
    broker: Broker,
) -> None:
    bus = MemoryBus(auto=False)
    bridge = _bridge(broker, "drop", bus)
    device = _device(broker, 0)
    _burst(device, 30)
    assert _until(lambda: bridge.bridge.stats["received"] == 30)
    bridge.bridge.flush(everything=True)
    bridge.connected.clear()
    bridge.client.socket().close()  # the broker sees the connection drop; paho reconnects
    assert bridge.connected.wait(10)
    assert _until(lambda: bridge.bridge.stats["received"] == 60)  # the broker resent all 30
    bus.auto = True
    for future in list(bus.pending):
        future.set_result("late")  # acks of the old connection: must not be sent
    bridge.bridge.flush(everything=True)
    assert _until(lambda: bridge.bridge.unacked == 0)
    assert sorted(set(_timestamps(bus))) == list(range(30))
    assert bridge.stop()
    fresh = MemoryBus()
    again = _bridge(broker, "drop", fresh)
    time.sleep(0.5)
    assert fresh.published == []  # the session owes nothing: every copy was acknowledged
    assert again.stop()
    device.close()
