"""`python -m bench aggregate`: the server time of a per-minute aggregate over one day of
one-second readings (86,400 points), read from the query function's `server-timing` header.

The day is sent through HTTP ingest as a device batching its readings (`--per-request`, default
3,600: one request an hour), counted back until all are stored, then asked `--repeat` times for
`agg=mean&every=1m` over the day (1,440 intervals). The server time is the query function's own
(token, access, store reads, decoding, aggregating, encoding), the client time adds the host,
the network and the generator.
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import httpx

from bench import stratus_api as api
from bench.report import machine

__all__ = ["DAY_S", "measure", "section", "server_ms"]

DAY_S = 86_400
S = 10**9
HEADING = "## One day, per minute: aggregate server time (`python -m bench aggregate`)"


def server_ms(header: str | None) -> float | None:
    """The `dur` of `query;dur=12.3` in a server-timing header, in ms."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "dur":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "min": round(ordered[0], 2),
        "max": round(ordered[-1], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


def _seed(http: httpx.Client, device: dict[str, Any], day0: int, per_request: int) -> None:
    headers = api.bearer(device["token"])
    sensor = device["sensor"]
    for first in range(0, DAY_S, per_request):
        count = min(per_request, DAY_S - first)
        body = [{"sensor_id": sensor, "timestamp": day0 + (first + i) * S,
                 "value": 20 + i % 97 / 10} for i in range(count)]  # fmt: skip
        answer = http.post("/ingest", json=body, headers=headers)
        if answer.status_code != 200:
            raise api.SetupError(f"seeding: {answer.status_code} {answer.text[:300]}")


def _count(http: httpx.Client, token: str, path: str, day0: int) -> int:
    params = {"from": str(day0), "to": str(day0 + DAY_S * S), "agg": "count", "every": "1d"}
    answer = http.get(path, params=params, headers=api.bearer(token))
    answer.raise_for_status()
    return sum(int(row["value"]) for row in answer.json()["data"])


def measure(target: str, username: str, password: str | None, *, repeat: int = 30,
            per_request: int = 3600, wait: float = 120.0) -> dict[str, Any]:  # fmt: skip
    """Seed one day, wait for it, time the aggregate; the result as a JSON-able dict."""
    with httpx.Client(base_url=target, timeout=60) as http:
        credentials = {"username": username, "password": password}
        token = str(http.post("/api/users/signin", json=credentials).json()["token"])
        run = uuid.uuid4().hex[:8]
        answer = http.post("/api/devices/", json={"name": f"bench-day-{run}"},
                           headers=api.bearer(token))  # fmt: skip
        device_id = str(answer.json()["result"]["id"])
        try:
            made = http.post(f"/api/devices/{device_id}/sensors/",
                             json=api.sensor_body("day"), headers=api.bearer(token))  # fmt: skip
            sensor = made.json()["id"]
            key = http.get(f"/api/devices/{device_id}/key", headers=api.bearer(token))
            device = {"id": device_id, "sensor": sensor, "token": key.json()["token"]}
            day0 = (time.time_ns() // (DAY_S * S) - 2) * DAY_S * S  # a whole day, 2 days ago
            _seed(http, device, day0, per_request)
            path = f"/api/devices/{device_id}/sensors/{sensor}/data"
            deadline = time.monotonic() + wait
            stored = 0
            while time.monotonic() < deadline:
                stored = _count(http, token, path, day0)
                if stored >= DAY_S:
                    break
                time.sleep(0.5)
            params = {"from": str(day0), "to": str(day0 + DAY_S * S), "agg": "mean",
                      "every": "1m", "limit": "10000"}  # fmt: skip
            server, client, intervals = [], [], 0
            for index in range(repeat + 3):  # 3 warm-up requests
                began = time.perf_counter()
                answer = http.get(path, params=params, headers=api.bearer(token))
                spent = (time.perf_counter() - began) * 1000
                answer.raise_for_status()
                intervals = len(answer.json()["data"])
                took = server_ms(answer.headers.get("server-timing"))
                if index >= 3 and took is not None:
                    server.append(took)
                    client.append(spent)
        finally:
            http.delete(f"/api/devices/{device_id}", headers=api.bearer(token))
    return {
        "points": DAY_S,
        "stored": stored,
        "per_request": per_request,
        "intervals": intervals,
        "repeat": repeat,
        "server_ms": _stats(server) if server else None,
        "client_ms": _stats(client) if client else None,
        "machine": machine(),
    }


def section(result: dict[str, Any]) -> list[str]:
    """The BENCHMARKS.md section of a result."""
    server, client = result.get("server_ms") or {}, result.get("client_ms") or {}
    return [
        HEADING,
        "",
        f"One sensor, {result['points']:,} one-second readings sent in requests of "
        f"{result['per_request']:,} ({result['stored']:,} stored); `agg=mean&every=1m` over the "
        f"day ({result['intervals']:,} intervals), {result['repeat']} times after 3 warm-ups. "
        "Server time: the query function's `server-timing` (token, access, store reads, "
        "decoding, aggregating, encoding); client time adds the host and the generator.",
        "",
        "| time | p50 ms | p95 ms | min ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| server | {server.get('p50')} | {server.get('p95')} | {server.get('min')} | "
        f"{server.get('max')} |",
        f"| client | {client.get('p50')} | {client.get('p95')} | {client.get('min')} | "
        f"{client.get('max')} |",
        "",
    ]
