"""MQTT through the running emulator: a device logs in with its id and token, its QoS 1 messages
reach the bus as the bridge's batches, a wrong password or a foreign topic is refused, config is
delivered retained and acknowledged through the device's state, and commands reach it."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from emulator.mosquitto import Broker
from tests.e2e.provisioning import Api, eventually, signin
from tests.support.broker import MqttClient
from tests.support.bus_reader import BusReader, Received
from tests.support.emulator import RunningEmulator
from tests.support.waiting import until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin(platform: RunningEmulator) -> Api:
    return signin(platform)


@pytest.fixture(scope="module")
def mqtt(platform: RunningEmulator) -> Broker:
    address = platform.endpoints.get("mqtt")
    if not address:
        pytest.skip("the platform runs without Mosquitto (MQTT is off)")
    host, port = str(address).rsplit(":", 1)
    return Broker([], host, int(port), 0, {})


@pytest.fixture(scope="module")
def bus(platform: RunningEmulator) -> Iterator[BusReader]:
    """Pull subscriptions of this module on the platform's telemetry-raw and telemetry-dead."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", platform.pubsub)
        reader = BusReader(
            platform.project,
            ("telemetry-raw", "telemetry-dead"),
            name=f"e2e-mqtt-{uuid.uuid4().hex[:8]}",
        )
        yield reader
        reader.close()


def _device(admin: Api, name: str) -> tuple[str, str]:
    """A new device through the API: (id, token)."""
    created = admin.post("/api/devices/", json={"name": name})
    assert created.status_code == 201, created.text
    device = created.json()["result"]["id"]
    key = admin.get(f"/api/devices/{device}/key")
    assert key.status_code == 200, key.text
    return device, key.json()["token"]


def _connect(mqtt: Broker, device: str, token: str) -> MqttClient:
    client = MqttClient(mqtt, device, token)
    assert client.wait_connected(), client.connect_reason
    return client


def _of(device: str) -> Callable[[list[Received]], list[Received]]:
    """Dead letters of `device` (each names its device in its attributes)."""
    return lambda got: [m for m in got if m.attributes.get("device") == device]


def _carrying(device: str) -> Callable[[list[Received]], list[Received]]:
    """Batch messages holding entries of `device` (a batch may hold several devices)."""
    return lambda got: [m for m in got if any(e["device"] == device for e in m.entries())]


def _entries(device: str, got: list[Received]) -> list[dict[str, Any]]:
    return [e for m in got for e in m.entries() if e["device"] == device]


def test_qos1_events_reach_the_bus_as_sent(admin: Api, mqtt: Broker, bus: BusReader) -> None:
    device, token = _device(admin, "mqtt-events")
    client = _connect(mqtt, device, token)
    payloads = [
        orjson.dumps({"sensor_id": "s1", "timestamp": 1_790_000_000 + n, "value": n})
        for n in range(20)
    ]
    for payload in payloads:
        assert client.publish(f"devices/{device}/events", payload) == 0  # PUBACK: accepted
    senml = b'[{"bn":"engine/","n":"oil","v":3.2}]'
    assert client.publish(f"devices/{device}/events/engine", senml) == 0
    mine = _carrying(device)
    got = bus.wait_for("telemetry-raw", lambda all_: len(_entries(device, all_)) >= 21)
    entries = _entries(device, got)
    reference = [e for e in entries if e["format"] == "reference"]
    assert sorted(orjson.dumps(e["payload"]) for e in reference) == sorted(payloads)
    (engine,) = [e for e in entries if e["format"] == "senml"]
    assert engine["payload"] == orjson.loads(senml)
    assert engine["topic"] == f"devices/{device}/events/engine"
    for message in mine(got):
        attributes = message.attributes
        assert attributes["org"] == admin.org and attributes["transport"] == "mqtt"
        assert attributes["format"] == "batch" and int(attributes["received_ns"]) > 0
    client.close()


def test_qos1_readings_of_several_devices_are_all_queryable(admin: Api, mqtt: Broker) -> None:
    """Two devices interleave QoS 1 readings (the bridge batches them together); each device's
    readings are all stored under it and queryable, none under the other."""
    devices = []
    for name in ("mqtt-fleet-a", "mqtt-fleet-b"):
        device, token = _device(admin, name)
        created = admin.post(
            f"/api/devices/{device}/sensors/", json={"name": "t", "mapping": {"type": "double"}}
        )
        assert created.status_code == 201, created.text
        devices.append((device, created.json()["id"], _connect(mqtt, device, token)))
    base = 1_790_000_000
    for n in range(50):
        for index, (device, sensor, client) in enumerate(devices):
            value = n + index / 10
            payload = orjson.dumps({"sensor_id": sensor, "timestamp": base + n, "value": value})
            assert client.publish(f"devices/{device}/events", payload) == 0
    for index, (device, sensor, client) in enumerate(devices):
        path = f"/api/devices/{device}/sensors/{sensor}/data"
        answer = eventually(
            lambda path=path: admin.get(path, params={"from": str(base * 10**9), "limit": "1000"}),
            lambda answer: len(answer.json()["data"]) >= 50,
            timeout=30,
        )
        data = answer.json()["data"]
        assert [p["timestamp"] for p in data] == [(base + n) * 10**9 for n in range(50)]
        assert [p["value"] for p in data] == [n + index / 10 for n in range(50)]
        client.close()


def test_a_malformed_payload_is_dead_lettered_and_the_connection_goes_on(
    admin: Api, mqtt: Broker, bus: BusReader
) -> None:
    device, token = _device(admin, "mqtt-malformed")
    client = _connect(mqtt, device, token)
    assert client.publish(f"devices/{device}/events", b"{not json") == 0
    reading = orjson.dumps({"sensor_id": "s1", "timestamp": 1_790_000_000, "value": 1})
    assert client.publish(f"devices/{device}/events", reading) == 0
    dead = bus.wait_for("telemetry-dead", lambda got: bool(_of(device)(got)))
    (letter,) = _of(device)(dead)
    assert letter.data == b"{not json" and "not valid JSON" in letter.attributes["reason"]
    bus.wait_for("telemetry-raw", lambda got: bool(_carrying(device)(got)))
    assert client.connected.is_set() and not client.disconnected.is_set()
    client.close()


def test_a_wrong_password_and_a_foreign_topic_are_refused(admin: Api, mqtt: Broker) -> None:
    device, token = _device(admin, "mqtt-refusals")
    wrong = MqttClient(mqtt, device, token[:-4] + "AAAA")
    assert not wrong.wait_connected()
    assert wrong.connect_reason is not None and wrong.connect_reason.is_failure
    wrong.close()
    other, _ = _device(admin, "mqtt-other")
    client = _connect(mqtt, device, token)
    assert client.publish(f"devices/{other}/events", b"[]") == 135  # not authorised
    assert client.subscribe(f"devices/{other}/commands/#") == 135
    client.close()


def test_config_is_delivered_retained_and_acknowledged_through_the_state(
    admin: Api, mqtt: Broker
) -> None:
    device, token = _device(admin, "mqtt-config")
    path = f"/api/devices/{device}"
    answer = admin.call("PUT", f"{path}/config", json={"config": {"rate": 5}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 1
    client = _connect(mqtt, device, token)  # connects after the config was set
    assert client.subscribe(f"devices/{device}/config") == 1
    assert until(lambda: len(client.messages) == 1)
    (retained,) = client.messages
    assert retained.retain and orjson.loads(retained.payload) == {
        "version": 1,
        "config": {"rate": 5},
    }
    state = {"config_version": 1, "battery": 87}
    assert client.publish(f"devices/{device}/state", orjson.dumps(state)) == 0
    reported = eventually(lambda: admin.get(f"{path}/state"), lambda r: r.status_code == 200)
    assert reported.json()["state"] == state and reported.json()["transport"] == "mqtt"
    config = admin.get(f"{path}/config").json()
    assert config["version"] == 1 and config["acknowledged_version"] == 1
    client.close()


def test_a_command_reaches_a_subscribed_device(admin: Api, mqtt: Broker) -> None:
    device, token = _device(admin, "mqtt-command")
    command = f"/api/devices/{device}/commands/reboot"
    nobody = admin.post(command, content=b'{"delay": 1}')
    assert nobody.status_code == 200, nobody.text
    assert nobody.json() == {"device_id": device, "command": "reboot", "delivered": False}
    client = _connect(mqtt, device, token)
    assert client.subscribe(f"devices/{device}/commands/#") == 1
    sent = admin.post(command, content=b'{"delay": 1}')
    assert sent.status_code == 200 and sent.json()["delivered"] is True
    assert until(lambda: len(client.messages) == 1)
    (message,) = client.messages
    assert message.topic == f"devices/{device}/commands/reboot"
    assert message.payload == b'{"delay": 1}'
    client.close()


def _bridge_pids(platform: RunningEmulator) -> list[int]:
    """The emulator's bridge processes (its children running `-m gateways.bridge`)."""
    assert platform.process is not None
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == platform.process.pid and b"gateways.bridge" in argv:
            pids.append(int(entry.name))
    return pids


def test_kill_9_of_the_bridge_during_a_qos1_burst_loses_nothing(
    platform: RunningEmulator, admin: Api, mqtt: Broker, bus: BusReader
) -> None:
    device, token = _device(admin, "mqtt-kill9")
    client = _connect(mqtt, device, token)
    (bridge,) = _bridge_pids(platform)
    sent = []
    for n in range(600):
        payload = orjson.dumps({"sensor_id": "s1", "timestamp": 1_790_000_000 + n, "value": n})
        assert client.publish(f"devices/{device}/events", payload) == 0  # the broker has it
        sent.append(payload)
        if n == 200:
            os.kill(bridge, signal.SIGKILL)

    def stamps(got: list[Received]) -> set[int]:
        return {e["payload"]["timestamp"] for e in _entries(device, got)}

    expected = {1_790_000_000 + n for n in range(600)}
    got = bus.wait_for("telemetry-raw", lambda all_: stamps(all_) == expected, timeout=60)
    assert stamps(got) == expected  # duplicates allowed (at least once), losses not
    assert until(lambda: len(_bridge_pids(platform)) == 1)  # the supervisor restarted it
    assert _bridge_pids(platform) != [bridge]
    client.close()
