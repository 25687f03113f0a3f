"""Nothing accepted is lost when the whole platform dies: readings answered 200 by /ingest are all
queryable after `kill -9` of the emulator (and every child) and a restart on the same data, and
none is stored twice after the redeliveries.

Runs its own emulator (the session one must not be killed). Requests are sent by several
threads at once, so ingest coalesces them into shared bus messages; the kill lands right after
the last 200, while those messages are still between the bus, the normalizer and the writer.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from emulator.mosquitto import Broker
from shared.store import Query
from shared.telemetry.chunks import chunks_path
from tests.e2e.provisioning import signin, store_of
from tests.support.broker import MqttClient
from tests.support.emulator import RunningEmulator, start_emulator
from tests.support.waiting import eventually, until

pytestmark = pytest.mark.e2e

BATCHES, PER_BATCH, SENDERS = 40, 25, 8
DELIVERY_BOUND = 90.0  # seconds for every reading to be stored after the restart
S = 10**9


def test_every_accepted_reading_survives_kill_9(tmp_path: Path) -> None:
    platform = start_emulator(tmp_path / "data")
    try:
        admin = signin(platform)
        device = admin.post("/api/devices/", json={"name": "kill9"}).json()["result"]["id"]
        sensor = admin.post(
            f"/api/devices/{device}/sensors/",
            json={"name": "t", "mapping": '{"type": "double"}'},
        ).json()["id"]
        token = admin.get(f"/api/devices/{device}/key").json()["token"]
        base = 1_800_000_000 * S
        sent: dict[int, float] = {}
        failures: list[str] = []
        lock = threading.Lock()

        def send(first: int) -> None:
            with httpx.Client(base_url=platform.base_url, timeout=30) as http:
                for b in range(first, BATCHES, SENDERS):
                    readings = [
                        {
                            "sensor_id": sensor,
                            "timestamp": base + (b * PER_BATCH + i) * S,
                            "value": b + i / 100,
                        }
                        for i in range(PER_BATCH)
                    ]
                    answer = http.post(
                        "/ingest", json=readings, headers={"authorization": f"Bearer {token}"}
                    )
                    with lock:
                        if answer.status_code != 200:
                            failures.append(answer.text)
                        else:
                            sent.update({r["timestamp"]: r["value"] for r in readings})

        senders = [threading.Thread(target=send, args=(n,)) for n in range(SENDERS)]
        for each in senders:
            each.start()
        for each in senders:
            each.join()
        assert failures == []
        platform.kill()  # SIGKILL: no flush, no graceful shutdown

        platform.restart()
        admin = signin(platform)
        url = f"/api/devices/{device}/sensors/{sensor}/data?from={base}&limit=10000"
        answer = eventually(
            lambda: admin.get(url),
            lambda a: a.status_code != 200 or len(a.json()["data"]) >= len(sent),
            DELIVERY_BOUND,
            interval=0.5,
        )
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, float]] = answer.json()["data"]
        stored = {row["timestamp"]: row["value"] for row in rows}
        assert len(rows) == len(stored)  # no reading twice
        assert stored == sent  # every accepted reading, value for value
        chunks = store_of(platform).query(Query(chunks_path(admin.org, device, sensor))).documents
        kept = [pair[0] for chunk in chunks for pair in orjson.loads(chunk.data["readings"])]
        assert sorted(kept) == sorted(sent)  # in the store too: no row twice after redelivery
    finally:
        if platform.process and platform.process.poll() is None:
            platform.stop()


def _child_pid(platform: RunningEmulator, marker: bytes) -> int:
    assert platform.process is not None
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                argv = (entry / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            if ppid == platform.process.pid and marker in argv:
                return int(entry.name)
    raise AssertionError(f"no child running {marker!r}")


def test_qos1_readings_the_broker_acknowledged_survive_kill_9(tmp_path: Path) -> None:
    """Mosquitto acknowledges a QoS 1 publish before writing it anywhere. It used to write its
    snapshot every 30 s, so a kill -9 lost what it held; it now snapshots after a few changes
    and every half second (docs/ARCHITECTURE.md, "Broker (MQTT)"). The bridge is paused here,
    so the broker holds every reading until the crash."""
    data = tmp_path / "data"
    platform = start_emulator(data)
    try:
        admin = signin(platform)
        device = admin.post("/api/devices/", json={"name": "mqtt-kill9"}).json()["result"]["id"]
        sensor = admin.post(
            f"/api/devices/{device}/sensors/", json={"name": "t", "mapping": {"type": "double"}}
        ).json()["id"]
        token = admin.get(f"/api/devices/{device}/key").json()["token"]
        host, port = str(platform.endpoints["mqtt"]).rsplit(":", 1)
        bridge = _child_pid(platform, b"gateways.bridge")
        os.kill(bridge, signal.SIGSTOP)  # connected, subscribed, acknowledging nothing
        client = MqttClient(Broker([], host, int(port), 0, {}), device, token)
        assert client.wait_connected()
        base = 1_800_000_000 * S
        for n in range(50):
            reading = {"sensor_id": sensor, "timestamp": base + n * S, "value": n}
            assert client.publish(f"devices/{device}/events", orjson.dumps(reading)) == 0
        acknowledged = time.time_ns()
        client.close()
        snapshot = data / "mosquitto" / "mosquitto.db"
        assert until(
            lambda: snapshot.exists() and snapshot.stat().st_mtime_ns > acknowledged, timeout=10
        ), "the broker wrote no snapshot after acknowledging"
        platform.kill()

        platform.restart()
        admin = signin(platform)
        url = f"/api/devices/{device}/sensors/{sensor}/data?from={base}&limit=100"
        answer = eventually(
            lambda: admin.get(url), lambda a: len(a.json().get("data", [])) >= 50, timeout=60
        )
        assert [row["value"] for row in answer.json()["data"]] == list(range(50))
    finally:
        if platform.process and platform.process.poll() is None:
            platform.stop()
