"""The broker publisher on a real Mosquitto: delivery reports, retained config, refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.mosquitto import Broker
from shared.broker import BrokerSettings, command_topic, config_topic
from shared.broker.mosquitto import MosquittoAdmin
from shared.broker.publisher import MqttPublisher
from shared.errors import Unavailable
from tests.support.broker import MqttClient, running_broker
from tests.support.waiting import until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with running_broker(tmp_path_factory.mktemp("broker")) as running:
        admin = MosquittoAdmin(*running.login("stratus-admin"))
        admin.register_device("d1", "t1")
        admin.close()
        yield running


@pytest.fixture(scope="module")
def publisher(broker: Broker) -> Iterator[MqttPublisher]:
    client = MqttPublisher(*broker.login("stratus-api-1"))
    yield client
    client.close()


def _device(broker: Broker) -> MqttClient:
    client = MqttClient(broker, "d1", "t1")
    assert client.wait_connected()
    return client


def test_command_to_a_subscribed_device_is_delivered(
    broker: Broker, publisher: MqttPublisher
) -> None:
    assert publisher.publish(command_topic("d1", "reboot"), b"{}") is False
    device = _device(broker)
    assert device.subscribe("devices/d1/commands/#") == 1
    assert publisher.publish(command_topic("d1", "reboot"), b'{"delay":1}') is True
    assert until(lambda: len(device.messages) == 1, timeout=5)
    assert device.messages[0].topic == "devices/d1/commands/reboot"
    assert device.messages[0].payload == b'{"delay":1}'
    device.close()


def test_retained_config_reaches_a_device_that_subscribes_later(
    broker: Broker, publisher: MqttPublisher
) -> None:
    publisher.publish(config_topic("d1"), b'{"version":1}', retain=True)
    publisher.publish(config_topic("d1"), b'{"version":2}', retain=True)
    device = _device(broker)
    assert device.subscribe(config_topic("d1")) == 1
    assert until(lambda: len(device.messages) == 1, timeout=5)
    assert device.messages[0].payload == b'{"version":2}' and device.messages[0].retain
    device.close()


def test_refused_publish_and_bad_login_raise_unavailable(
    broker: Broker, publisher: MqttPublisher
) -> None:
    with pytest.raises(Unavailable, match="refused"):
        publisher.publish("devices/d1/events", b"{}")
    stranger = MqttPublisher(broker.host, broker.port, "stratus-api-1", "wrong", timeout=1)
    with pytest.raises(Unavailable, match="not connected"):
        stranger.publish(config_topic("d1"), b"{}")
    stranger.close()
    with pytest.raises(Unavailable, match="unreachable"):
        MqttPublisher("127.0.0.1", 1, "a", "b").publish("x", b"")


def test_many_threads_share_one_publisher(publisher: MqttPublisher) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda i: publisher.publish(command_topic("nobody", f"c{i}"), b""), range(200))
        )
    assert results == [False] * 200


def test_settings_are_off_without_a_host() -> None:
    assert BrokerSettings.from_env({}) is None
    config = BrokerSettings.from_env({"STRATUS_MQTT_HOST": "h", "STRATUS_MQTT_PORT": "1884"})
    assert config is not None and (config.host, config.port) == ("h", 1884)
