"""The SDK's device client through the emulator, over MQTT: bootstrap, batches published at QoS 1
and stored, the config and a command delivered to the callbacks, the state reported back."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

import pytest
from stratus_sdk import AdminClient, ConsumerClient, DeviceClient

from tests.support.emulator import RunningEmulator
from tests.support.waiting import until

pytestmark = [pytest.mark.process, pytest.mark.e2e]


def test_an_mqtt_device_sends_and_gets_config_and_commands(
    platform: RunningEmulator, tmp_path: Path
) -> None:
    admin = AdminClient.sign_in(platform.base_url, "admin", platform.admin_password)
    serial = f"MQTT-{secrets.token_hex(4)}"
    registration = admin.register_device(
        serial, config={"mode": "eco"}, sensors=[{"name": "t", "mapping": {"type": "double"}}]
    )
    configs: list[tuple[int | None, object]] = []
    commands: list[tuple[str, bytes]] = []
    got = threading.Event()
    with DeviceClient.bootstrap(
        platform.base_url, serial, registration.external_key or "",
        buffer_path=tmp_path / "mqtt.db", transport="mqtt", batch_size=7,
    ) as device:  # fmt: skip
        assert device.config == {"mode": "eco"}
        device.on_config(lambda version, config: (configs.append((version, config)), got.set()))
        device.on_command(lambda name, payload: commands.append((name, payload)))
        device.send(("t", float(i), 1_790_000_000 + i) for i in range(20))
        assert device.flush(timeout=30) and device.stats["batches"] == 3

        version = admin.set_config(device.identity.device_id, {"mode": "boost"})
        assert until(lambda: (version, {"mode": "boost"}) in configs, timeout=20)
        assert until(
            lambda: admin.send_command(device.identity.device_id, "reboot", {"in_s": 5}),
            timeout=20,
        )  # delivered once the device's subscription is in place
        assert until(lambda: commands == [("reboot", b'{"in_s":5}')], timeout=20)
        device.report_state({"config_version": version, "battery": 0.8})
        assert until(
            lambda: admin.config(device.identity.device_id)["acknowledged_version"] == version,
            timeout=20,
        )
        device_id, (sensor,) = device.identity.device_id, device.identity.sensors
    data = ConsumerClient(platform.base_url, admin.token)
    assert until(lambda: len(list(data.readings(device_id, sensor.id))) == 20, timeout=30)
    assert [p.value for p in data.readings(device_id, sensor.id)] == [float(i) for i in range(20)]
