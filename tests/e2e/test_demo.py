"""`python -m emulator --demo`: the simulated fleet is provisioned through bootstrap and its data
is queryable within seconds of the start, every signal of every device, over HTTP and MQTT."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from stratus_sdk import AdminClient, ConsumerClient

from tests.support.emulator import RunningEmulator, start_emulator
from tests.support.host import ROOT
from tests.support.waiting import until

pytestmark = [pytest.mark.process, pytest.mark.e2e]

DEVICES = 4


def test_the_demo_fleet_is_queryable_within_seconds(tmp_path: Path) -> None:
    started = time.monotonic()
    platform = start_emulator(
        tmp_path / "data", STRATUS_DEMO="1", STRATUS_DEMO_DEVICES=str(DEVICES),
        STRATUS_DEMO_INTERVAL="0.5",
    )  # fmt: skip
    ready = time.monotonic()
    try:
        admin = AdminClient.sign_in(platform.base_url, "admin", platform.admin_password)
        data = ConsumerClient(platform.base_url, admin.token)

        def every_signal_has_data() -> bool:
            registrations = list(admin.registrations())
            if len(registrations) < DEVICES or any(r.device_id is None for r in registrations):
                return False
            for registration in registrations:
                latest = data.device_latest(registration.device_id or "")
                if len(latest) != 4 or any(point is None for point in latest.values()):
                    return False
            return True

        assert until(every_signal_has_data, timeout=60, interval=0.25)
        now = time.monotonic()
        print(f"demo data of {DEVICES} devices queryable {now - started:.1f} s after the start, "
              f"{now - ready:.1f} s after the platform answered /healthz")  # fmt: skip
        device = next(iter(admin.registrations())).device_id or ""
        by_name = {sensor.name: sensor.id for sensor in admin.sensors(device)}
        assert sorted(by_name) == ["counter", "humidity", "position", "temperature"]
        position = data.latest(device, by_name["position"])
        assert position is not None and set(position.value) == {"lat", "lon"}
        temperature = data.latest(device, by_name["temperature"])
        assert temperature is not None and -10 < temperature.value < 60
        log = (platform.data_dir / "logs" / "demo.log").read_text()
        assert f"fleet of {DEVICES} devices started ({DEVICES // 2} over MQTT)" in log
        mqtt_device = admin.registration("demo-0001").device_id or ""
        counter = by_name if device == mqtt_device else {
            s.name: s.id for s in admin.sensors(mqtt_device)
        }  # fmt: skip
        assert data.latest(mqtt_device, counter["counter"]) is not None  # sent over MQTT
        if shutil.which("curl") and shutil.which("jq"):
            readme_quick_start(platform)
        # a clean stop: the fleet flushes to a platform still answering and says so (it was
        # stopped with the services, after the API, and killed at the deadline mid-retry)
        assert platform.stop() == 0
        log = (platform.data_dir / "logs" / "demo.log").read_text()
        assert re.search(r"^sent \d+ readings$", log, re.MULTILINE), log[-2000:]
    finally:
        if platform.process and platform.process.poll() is None:
            platform.stop()


def readme_quick_start(platform: RunningEmulator) -> None:
    """README's quick start, as written, against this demo (STRATUS_URL points at it)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start: the demo fleet", 1)[1].split("\n## ", 1)[0]
    script = re.findall(r"```bash\n(.*?)```", section, flags=re.S)[1]
    env = {**os.environ, "STRATUS_URL": platform.base_url,
           "STRATUS_ADMIN_PASSWORD": platform.admin_password}  # fmt: skip
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert '"data": [' in done.stdout, done.stdout + done.stderr
    assert "event: reading" in done.stdout  # the live stream printed events before `timeout`
