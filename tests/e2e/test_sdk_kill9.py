"""An SDK device sends 10,000 readings while the whole platform is killed with `kill -9` and
restarted: every reading is stored exactly once (counted back through the query API, and no
reading in two chunk documents of the store).

Runs its own emulator on fixed ports (the device keeps its base URL across the restart). Half
the readings are buffered before the kill, the kill lands while batches are in flight, the
other half is buffered while the platform is down; the device retries with backoff until the
platform is back, with the same idempotency key for each batch."""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path

import pytest
from stratus_sdk import AdminClient, Backoff, ConsumerClient, DeviceClient

from emulator.process import free_port
from shared.store import Query
from shared.telemetry.chunks import chunks_path, decode_readings
from tests.e2e.provisioning import store_of
from tests.support.emulator import RunningEmulator
from tests.support.waiting import until

pytestmark = [pytest.mark.process, pytest.mark.e2e]

TOTAL, S = 10_000, 10**9
T0 = 1_790_000_000 * S


def fixed_port_emulator(data_dir: Path) -> RunningEmulator:
    data_dir.mkdir(parents=True)
    ports = {flag: str(free_port("127.0.0.1")) for flag in
             ("--port", "--firestore-port", "--pubsub-port", "--mqtt-port", "--mqtt-ws-port",
              "--ws-port")}  # fmt: skip
    args = [item for pair in ports.items() for item in pair] + ["--data-dir", str(data_dir)]
    env = {"STRATUS_ADMIN_PASSWORD": secrets.token_urlsafe(16), "STRATUS_WORKERS": "2"}
    return RunningEmulator(data_dir=data_dir, env=env, args=args)


def test_ten_thousand_readings_through_kill_9_stored_exactly_once(tmp_path: Path) -> None:
    platform = fixed_port_emulator(tmp_path / "data")
    platform.start()
    device = None
    try:
        admin = AdminClient.sign_in(platform.base_url, "admin", platform.admin_password)
        registration = admin.register_device(
            "kill9-device", sensors=[{"name": "t", "mapping": {"type": "double"}}]
        )
        device = DeviceClient.bootstrap(
            platform.base_url, "kill9-device", registration.external_key or "",
            buffer_path=tmp_path / "device.db", batch_size=200,
            backoff=Backoff(initial=0.2, maximum=2.0), timeout=10,
        )  # fmt: skip
        (sensor,) = device.identity.sensors
        readings = [("t", float(i), T0 + i * S) for i in range(TOTAL)]
        device.send(readings[: TOTAL // 2])
        assert until(lambda: device.pending() <= TOTAL // 2 - 1_500, timeout=60, interval=0.005)
        platform.kill()  # SIGKILL of the emulator and every child, batches in flight
        device.send(readings[TOTAL // 2 :])  # buffered while the platform is down
        assert device.pending() > TOTAL // 2
        platform.restart()
        assert device.flush(timeout=180), f"{device.pending()} readings still buffered"
        assert device.stats["retries"] > 0 and device.stats["rejected"] == 0

        admin = AdminClient.sign_in(platform.base_url, "admin", platform.admin_password)
        data = ConsumerClient(platform.base_url, admin.token)

        def all_stored() -> bool:
            return sum(1 for _ in data.readings(device.identity.device_id, sensor.id,
                                                page_size=10_000)) >= TOTAL  # fmt: skip

        assert until(all_stored, timeout=120, interval=0.5)
        points = list(data.readings(device.identity.device_id, sensor.id, page_size=10_000))
        assert [(p.timestamp, p.value) for p in points] == [(ts, v) for _, v, ts in readings]

        # no reading stored twice: every chunk document of the sensor, counted reading by reading
        store = store_of(platform)
        collection = chunks_path(admin.org().id, device.identity.device_id, sensor.id)
        stored: Counter[int] = Counter()
        after = None
        while True:
            page = store.query(Query(collection, limit=300, after=after))
            for document in page.documents:
                stored.update(ts for ts, _ in decode_readings(document.data["readings"]))
            if page.next is None:
                break
            after = page.next
        assert sum(stored.values()) == TOTAL
        assert set(stored.values()) == {1}
    finally:
        if device is not None:
            device.close()
        if platform.process and platform.process.poll() is None:
            platform.stop()
