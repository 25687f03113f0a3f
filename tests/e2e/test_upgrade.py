"""A data directory made by an older version starts cleanly: device tokens signed before
low-S signatures (about half of them) are a different string now, so the start registers
every device's canonical token as its MQTT password once."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from emulator.mosquitto import Broker
from shared.broker.mosquitto import MosquittoAdmin
from shared.jws import P256_ORDER
from tests.e2e.provisioning import signin
from tests.support.broker import MqttClient
from tests.support.emulator import start_emulator

pytestmark = [pytest.mark.e2e, pytest.mark.process]


def _high_s(token: str) -> str:
    """The same token with (r, n - s): what the signer made before, for half the tokens."""
    header, payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    s = P256_ORDER - int.from_bytes(raw[32:], "big")
    flipped = base64.urlsafe_b64encode(raw[:32] + s.to_bytes(32, "big")).rstrip(b"=").decode()
    return f"{header}.{payload}.{flipped}"


def test_device_logins_of_an_older_data_dir_are_brought_up_to_date(tmp_path: Path) -> None:
    data = tmp_path / "data"
    platform = start_emulator(data)
    try:
        admin = signin(platform)
        device = admin.post("/api/devices/", json={"name": "old"}).json()["result"]["id"]
        token = admin.get(f"/api/devices/{device}/key").json()["token"]
        accounts = json.loads((data / "mosquitto" / "accounts.json").read_text())
        host, port = str(platform.endpoints["mqtt"]).rsplit(":", 1)
        root = MosquittoAdmin(host, int(port), "stratus-admin", accounts["stratus-admin"])
        root.register_device(device, _high_s(token))  # as an older version registered it
        root.close()
        (data / "keys" / "device-logins").unlink()  # an older data dir has no marker
        broker = Broker([], host, int(port), 0, {})
        stale = MqttClient(broker, device, token)
        assert not stale.wait_connected()  # the broker holds the old string
        stale.close()
        assert platform.stop() == 0

        platform.start()
        host, port = str(platform.endpoints["mqtt"]).rsplit(":", 1)
        broker = Broker([], host, int(port), 0, {})
        client = MqttClient(broker, device, token)
        assert client.wait_connected(), client.connect_reason
        client.close()
        assert (data / "keys" / "device-logins").read_text().strip() == "low-s"
    finally:
        if platform.process and platform.process.poll() is None:
            platform.stop()
