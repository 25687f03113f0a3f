"""The device's sender against an httpx MockTransport (the transport port, no server): batches
in order with their idempotency keys, the same key on every retry of a batch, backoff on 5xx,
429 (Retry-After) and connection failures, refusals set aside, a revoked token renewed."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
from stratus_sdk import Backoff, DeviceClient, Identity
from stratus_sdk.models import Mapping, Sensor

SENSOR = "a" * 20
IDENTITY = Identity("d" * 20, "token-1", (Sensor(SENSOR, "d" * 20, "t", Mapping("double"),
                                                 tree_path="t"),))  # fmt: skip
FAST = Backoff(initial=0.001, maximum=0.01)


class Platform:
    """Answers /ingest with a scripted status per attempt, recording what arrived."""

    def __init__(self, script: Callable[[int, httpx.Request], httpx.Response | Exception]) -> None:
        self.script = script
        self.requests: list[httpx.Request] = []
        self.accepted: list[tuple[str, list]] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            outcome = self.script(len(self.requests), request)
        if isinstance(outcome, Exception):
            raise outcome
        if outcome.status_code == 200:
            body = json.loads(request.content)
            self.accepted.append((request.headers["idempotency-key"], body))
        return outcome


def client(tmp_path: Path, platform: Platform, **options) -> DeviceClient:
    http = httpx.Client(base_url="http://platform", transport=httpx.MockTransport(platform))
    return DeviceClient("http://platform", IDENTITY, buffer_path=tmp_path / "buffer.db",
                        backoff=FAST, http_client=http, **options)  # fmt: skip


def ok(count: int = 1) -> httpx.Response:
    return httpx.Response(200, json={"accepted": count})


def test_batches_in_order_each_with_its_key(tmp_path: Path) -> None:
    platform = Platform(lambda n, r: ok())
    with client(tmp_path, platform, batch_size=40, start=False) as device:
        device.send((SENSOR, float(i), i + 1) for i in range(100))
        device.start()
        assert device.flush(10)
    values = [r["value"] for _, body in platform.accepted for r in body]
    assert values == [float(i) for i in range(100)]
    assert [len(body) for _, body in platform.accepted] == [40, 40, 20]
    keys = [key for key, _ in platform.accepted]
    assert len(set(keys)) == 3
    first = platform.requests[0]
    assert first.url.path == "/ingest" and first.headers["authorization"] == "Bearer token-1"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-request-id"] == keys[0]


def test_transient_failures_retry_the_same_batch_with_the_same_key(tmp_path: Path) -> None:
    failures = [
        httpx.Response(
            503, json={"error": {"status": 503, "code": "unavailable", "message": "bus"}}
        ),
        httpx.Response(429, headers={"retry-after": "0"}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.Response(502, text="bad gateway"),
    ]
    platform = Platform(lambda n, r: failures[n - 1] if n <= len(failures) else ok())
    with client(tmp_path, platform) as device:
        device.send([(SENSOR, 1.0, 1), (SENSOR, 2.0, 2)])
        assert device.flush(10)
    assert len(platform.requests) == 6
    assert {r.headers["idempotency-key"] for r in platform.requests} == {platform.accepted[0][0]}
    assert {r.content for r in platform.requests} == {platform.requests[0].content}
    assert len(platform.accepted) == 1


def test_a_refused_batch_is_set_aside_and_the_rest_goes_on(tmp_path: Path) -> None:
    refused = httpx.Response(
        400,
        json={
            "error": {
                "status": 400,
                "code": "invalid_argument",
                "message": "bad",
                "field": "readings[0]",
            }
        },
    )
    platform = Platform(lambda n, r: refused if n == 1 else ok())
    seen = []
    with client(tmp_path, platform, batch_size=1, on_rejected=seen.append, start=False) as device:
        device.send([(SENSOR, 1.0, 1), (SENSOR, 2.0, 2)])
        device.start()
        assert device.flush(10)
        assert [r.status for r in device.buffer.rejected()] == [400]
    assert [body[0]["value"] for _, body in platform.accepted] == [2.0]
    assert len(seen) == 1 and json.loads(seen[0].body)[0]["value"] == 1.0


def test_a_revoked_token_is_renewed_by_bootstrapping_again(tmp_path: Path) -> None:
    message = "token revoked: the device key was rotated"
    revoked = httpx.Response(
        403, json={"error": {"status": 403, "code": "permission_denied", "message": message}}
    )
    platform = Platform(
        lambda n, r: revoked if r.headers["authorization"] == "Bearer token-1" else ok()
    )
    renewed = Identity(IDENTITY.device_id, "token-2", IDENTITY.sensors)
    with client(tmp_path, platform, rebootstrap=lambda: renewed) as device:
        device.send([(SENSOR, 1.0, 1)])
        assert device.flush(10)
        assert device.identity.token == "token-2"
    assert [r.headers["authorization"] for r in platform.requests] == [
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert (
        platform.requests[0].headers["idempotency-key"]
        == platform.requests[1].headers["idempotency-key"]
    )


def test_what_is_not_sent_stays_for_the_next_start(tmp_path: Path) -> None:
    down = Platform(lambda n, r: httpx.ConnectError("down"))
    device = client(tmp_path, down)
    device.send([(SENSOR, float(i), i + 1) for i in range(5)])
    assert not device.flush(0.2)
    device.close()
    up = Platform(lambda n, r: ok())
    with client(tmp_path, up, start=False) as again:
        assert again.pending() == 5
        again.start()
        assert again.flush(10)
    assert [r["value"] for _, body in up.accepted for r in body] == [0.0, 1.0, 2.0, 3.0, 4.0]
    sent_before = {r.headers["idempotency-key"] for r in down.requests}
    assert {key for key, _ in up.accepted} == sent_before  # the same batch, the same key
