"""The broker port on a real Mosquitto with dynamic security: per-device logins and topics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.mosquitto import Broker
from shared.broker.mosquitto import MosquittoAdmin
from tests.support.broker import MqttClient, running_broker

pytestmark = pytest.mark.e2e

REFUSED = 135  # MQTT v5 "not authorized"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with running_broker(tmp_path_factory.mktemp("broker")) as running:
        yield running


@pytest.fixture(scope="module")
def admin(broker: Broker) -> Iterator[MosquittoAdmin]:
    client = MosquittoAdmin(*broker.login("stratus-admin"))
    yield client
    client.close()


def test_anonymous_and_unknown_logins_are_refused(broker: Broker) -> None:
    for username, password in (("", ""), ("nobody", "x")):
        client = MqttClient(broker, username, password)
        assert not client.wait_connected()
        client.close()


def test_registered_device_uses_only_its_own_topics(broker: Broker, admin: MosquittoAdmin) -> None:
    admin.register_device("dev1", "token-1")
    device = MqttClient(broker, "dev1", "token-1")
    assert device.wait_connected()
    assert device.publish("devices/dev1/events", b"{}") < 128
    assert device.publish("devices/dev1/events/engine", b"{}") < 128
    assert device.publish("devices/dev1/state", b"{}") < 128
    assert device.publish("dev1", b"{}") < 128  # the reference gateway's bare topic
    assert device.publish("devices/dev2/events", b"{}") == REFUSED
    assert device.publish("devices/dev1/config", b"{}") == REFUSED
    assert device.subscribe("devices/dev1/config") == 1
    assert device.subscribe("devices/dev1/commands/#") == 1
    assert device.subscribe("devices/dev2/config") == REFUSED
    assert device.subscribe("devices/#") == REFUSED
    device.close()


def test_wrong_password_is_refused(broker: Broker, admin: MosquittoAdmin) -> None:
    admin.register_device("dev2", "right")
    client = MqttClient(broker, "dev2", "wrong")
    assert not client.wait_connected()
    client.close()


def test_rotation_cuts_the_connected_session_and_the_old_password(
    broker: Broker, admin: MosquittoAdmin
) -> None:
    admin.register_device("dev3", "old")
    device = MqttClient(broker, "dev3", "old")
    assert device.wait_connected()
    admin.register_device("dev3", "new")
    assert device.disconnected.wait(5)
    device.close()
    assert not MqttClient(broker, "dev3", "old").wait_connected()
    renewed = MqttClient(broker, "dev3", "new")
    assert renewed.wait_connected()
    renewed.close()


def test_removed_device_is_cut_off_and_removal_is_idempotent(
    broker: Broker, admin: MosquittoAdmin
) -> None:
    admin.register_device("dev4", "pw")
    device = MqttClient(broker, "dev4", "pw")
    assert device.wait_connected()
    admin.remove_device("dev4")
    assert device.disconnected.wait(5)
    device.close()
    assert not MqttClient(broker, "dev4", "pw").wait_connected()
    admin.remove_device("dev4")
    admin.remove_device("never-existed")


def test_service_accounts(broker: Broker) -> None:
    bridge = MqttClient(broker, "stratus-bridge-1", broker.accounts["stratus-bridge-1"])
    assert bridge.wait_connected()
    assert bridge.subscribe("$share/bridge/devices/#") == 1
    assert bridge.subscribe("devices/#") == REFUSED  # only through the shared subscription
    assert bridge.publish("devices/x/config", b"{}") == REFUSED
    bridge.close()
    api = MqttClient(broker, "stratus-api-1", broker.accounts["stratus-api-1"])
    assert api.wait_connected()
    assert api.publish("devices/x/config", b"{}") < 128
    assert api.publish("devices/x/commands/reboot", b"{}") < 128
    assert api.publish("devices/x/events", b"{}") == REFUSED
    assert api.subscribe("devices/#") == REFUSED
    api.close()


def test_accounts_are_generated_once_per_process_and_private(
    broker: Broker, tmp_path: Path
) -> None:
    from emulator.mosquitto import prepare

    first = prepare(tmp_path, "127.0.0.1", 1, 2)
    second = prepare(tmp_path, "127.0.0.1", 3, 4, bridges=2, workers=2)
    assert set(first.accounts) == {
        "stratus-admin", "stratus-bridge-1", "stratus-api-1", "stratus-admin-1"
    }  # fmt: skip
    assert {k: v for k, v in second.accounts.items() if k in first.accounts} == first.accounts
    assert set(second.accounts) - set(first.accounts) == {
        "stratus-bridge-2", "stratus-api-2", "stratus-admin-2"
    }  # fmt: skip
    assert len(set(second.accounts.values())) == 7
    assert second.bridge_env(2)["STRATUS_MQTT_BRIDGE_USERNAME"] == "stratus-bridge-2"
    home = tmp_path / "mosquitto"
    for path in (home, *home.iterdir()):
        assert path.stat().st_mode & 0o077 == 0, path
    conf = (home / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "listener 3 127.0.0.1" in conf
    assert "listener 4 lo\n" in conf  # WebSockets bind to the interface holding the host
    assert conf.count("use_username_as_clientid true") == 2  # both listeners
