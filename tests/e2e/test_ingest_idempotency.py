"""Through the emulator: a body posted again with the same idempotency-key (another request id,
received later) is stored once; the same body posted again without a key is stored twice (the
query still answers one value per instant)."""

from __future__ import annotations

import httpx
import pytest

from shared.store import Query
from shared.telemetry.chunks import chunks_path
from tests.e2e.provisioning import signin, store_of
from tests.support.emulator import RunningEmulator
from tests.support.waiting import until

pytestmark = [pytest.mark.process, pytest.mark.e2e]

S = 10**9


def test_a_retried_request_with_its_key_is_stored_once(platform: RunningEmulator) -> None:
    admin = signin(platform)
    device = admin.post("/api/devices/", json={"name": "retrying"}).json()["result"]["id"]
    sensors = {
        name: admin.post(f"/api/devices/{device}/sensors/",
                         json={"name": name, "mapping": {"type": "double"}}).json()["id"]
        for name in ("keyed", "plain")
    }  # fmt: skip
    token = admin.get(f"/api/devices/{device}/key").json()["token"]
    store = store_of(platform)

    def post(sensor: str, request_id: str, key: str | None) -> None:
        body = [{"sensor_id": sensors[sensor], "timestamp": 1_790_000_000 * S + i * S,
                 "value": float(i)} for i in range(3)]  # fmt: skip
        headers = {"authorization": f"Bearer {token}", "x-request-id": request_id}
        if key:
            headers["idempotency-key"] = key
        answer = httpx.post(f"{platform.base_url}/ingest", json=body, headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text

    def chunks(sensor: str) -> int:
        collection = chunks_path(admin.org, device, sensors[sensor])
        return len(store.query(Query(collection)).documents)

    for attempt in ("first-try", "retry-after-a-timeout"):
        post("keyed", attempt, "batch-0001")
        post("plain", attempt, None)
    log = platform.data_dir / "logs" / "functions.log"

    def retry_reached_the_writer() -> bool:
        text = log.read_text(errors="replace")
        return "message retry-after-a-timeout: 1 chunk(s) already stored" in text

    assert until(lambda: chunks("plain") == 2, timeout=30)
    assert until(retry_reached_the_writer, timeout=30)  # the keyed retry was written: as nothing
    assert chunks("keyed") == 1
    for sensor in ("keyed", "plain"):
        data = admin.get(f"/api/devices/{device}/sensors/{sensors[sensor]}/data").json()["data"]
        assert [row["value"] for row in data] == [0.0, 1.0, 2.0]
