"""The control core on the store port (in memory and on the Firestore emulator) and a real
Mosquitto: versioned config published retained, preconditions, the last state, commands and whether
they were delivered."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from emulator.mosquitto import Broker
from functions.control.service import Control
from functions.state.service import store_state
from shared.broker.mosquitto import MosquittoAdmin
from shared.broker.publisher import MqttPublisher
from shared.errors import NotFound, PreconditionFailed, Unavailable, ValidationError
from shared.events import Message
from shared.store import Store
from tests.support.broker import MqttClient, running_broker
from tests.support.waiting import until


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with running_broker(tmp_path_factory.mktemp("broker")) as running:
        admin = MosquittoAdmin(*running.login("stratus-admin"))
        for n in range(4):
            admin.register_device(f"c{n}", f"t{n}")
        admin.close()
        yield running


@pytest.fixture(scope="module")
def publisher(broker: Broker) -> Iterator[MqttPublisher]:
    api = MqttPublisher(*broker.login("stratus-api-1"))
    yield api
    api.close()


def _device(broker: Broker, n: int) -> MqttClient:
    client = MqttClient(broker, f"c{n}", f"t{n}")
    assert client.wait_connected()
    return client


def test_config_versions_are_stored_and_the_newest_is_retained(
    store: Store, publisher: MqttPublisher, broker: Broker, org: str
) -> None:
    control = Control(store, publisher)
    assert control.get_config(org, "c0")["version"] == 0
    first = control.set_config(org, "c0", {"rate": 1})
    assert (first["version"], first["config"], first["acknowledged_version"]) == (
        1,
        {"rate": 1},
        None,
    )
    second = control.set_config(org, "c0", {"rate": 2}, if_version=1)
    assert second["version"] == 2 and isinstance(second["updated_ns"], int)
    with pytest.raises(PreconditionFailed):
        control.set_config(org, "c0", {"rate": 3}, if_version=1)
    assert control.get_config(org, "c0")["config"] == {"rate": 2}
    device = _device(broker, 0)  # subscribes after the sets: gets the retained newest only
    assert device.subscribe("devices/c0/config") == 1
    assert until(lambda: len(device.messages) == 1)
    assert orjson.loads(device.messages[0].payload) == {"version": 2, "config": {"rate": 2}}
    device.close()


def test_the_state_reads_what_the_state_function_stored(
    store: Store, publisher: MqttPublisher, org: str
) -> None:
    control = Control(store, publisher)
    with pytest.raises(NotFound):
        control.get_state(org, "c1")
    entry = {"format": "state", "received_ns": 7, "topic": "devices/c1/state",
             "payload": {"on": True}}  # fmt: skip
    attributes = {"org": org, "device": "c1", "transport": "mqtt"}
    store_state(store, Message(id="m", data=orjson.dumps([entry]), attributes=attributes))
    assert control.get_state(org, "c1") == {
        "device_id": "c1",
        "state": {"on": True},
        "received_ns": 7,
        "transport": "mqtt",
    }


def test_commands_report_whether_a_subscription_of_the_device_got_them(
    store: Store, publisher: MqttPublisher, broker: Broker
) -> None:
    control = Control(store, publisher)
    assert control.send_command("c2", "reboot", b"{}")["delivered"] is False
    device = _device(broker, 2)
    assert device.subscribe("devices/c2/commands/#") == 1
    assert control.send_command("c2", "reboot", b'{"now":1}') == {
        "device_id": "c2",
        "command": "reboot",
        "delivered": True,
    }
    assert until(lambda: len(device.messages) == 1)
    assert device.messages[0].payload == b'{"now":1}'
    with pytest.raises(ValidationError):
        control.send_command("c2", "no/slashes", b"")
    device.close()


def test_without_a_broker_reads_work_and_writes_are_unavailable(store: Store, org: str) -> None:
    control = Control(store, None)
    assert control.get_config(org, "c3")["version"] == 0
    with pytest.raises(Unavailable):
        control.set_config(org, "c3", {})
    with pytest.raises(Unavailable):
        control.send_command("c3", "reboot", b"")
    assert control.get_config(org, "c3")["version"] == 0  # nothing stored without a broker
