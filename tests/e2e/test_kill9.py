"""Nothing accepted is lost when the whole platform dies: readings answered 200 by /ingest are all
queryable after `kill -9` of the emulator (and every child) and a restart on the same data.

Runs its own emulator (the session one must not be killed). The kill lands right after the last
200, while the readings are still between the bus, the normalizer and the writer.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.provisioning import signin
from tests.support.emulator import start_emulator
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

BATCHES, PER_BATCH = 40, 25
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
        with httpx.Client(base_url=platform.base_url, timeout=30) as http:
            for b in range(BATCHES):
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
                assert answer.status_code == 200, answer.text
                sent.update({r["timestamp"]: r["value"] for r in readings})
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
    finally:
        if platform.process and platform.process.poll() is None:
            platform.stop()
