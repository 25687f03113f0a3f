"""`python -m bench detect`: anomaly detection through the real pipeline, against a running
emulator (or any deployment): per detector and anomaly kind precision, recall, F1 and delay on
the labelled data set (`bench.detect_data`), scoring throughput as a ratio to the same ingest
without detectors, and rule latency (reading accepted -> alert visible) under load.

Every reading goes in through `POST /ingest` with a device token and every result comes back
through the query and alerts APIs: nothing is computed beside the platform.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.detect_data import KINDS, Series, generate, score

__all__ = ["DETECTORS", "Bench", "run", "section"]

DETECTORS = ("ewma", "mad", "seasonal")
PARAMS: dict[str, dict[str, Any]] = {"ewma": {}, "mad": {}, "seasonal": {"period": 86400}}
HEADING = "## Anomaly detection (`python -m bench detect`)"
DEADLINE_S = 600.0
CACHE_S = 6.0  # the functions' rule and detector caches keep an answer 5 s


class BenchError(RuntimeError):
    """The platform answered something the benchmark cannot go on with."""


@dataclass
class Bench:
    """A signed-in client of the platform, and what it created (deleted at the end)."""

    target: str
    token: str
    client: httpx.Client = field(init=False)
    devices: list[str] = field(default_factory=list)
    detectors: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = httpx.Client(
            base_url=self.target, timeout=60, headers={"authorization": f"Bearer {self.token}"}
        )

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        answer = self.client.request(method, path, **kwargs)
        if answer.status_code != expect:
            raise BenchError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else None

    def device(self, name: str, sensors: list[str]) -> tuple[str, dict[str, str], str]:
        device = self.call("POST", "/api/devices", 201, json={"name": name})["result"]["id"]
        self.devices.append(device)
        ids = {
            s: self.call(
                "POST",
                f"/api/devices/{device}/sensors",
                201,
                json={"name": s, "mapping": {"type": "double"}},
            )["id"]
            for s in sensors
        }
        return device, ids, self.call("GET", f"/api/devices/{device}/key")["token"]

    def detector(self, device: str, sensor: str, kind: str, **extra: Any) -> dict[str, Any]:
        body = {"name": kind, "device": device, "sensor": sensor, "kind": kind, **extra}
        found = self.call("POST", "/api/detectors", 201, json=body)
        self.detectors.append(found["id"])
        return dict(found)

    def ingest(self, token: str, body: list[dict[str, Any]]) -> None:
        answer = self.client.post(
            "/ingest", json=body, headers={"authorization": f"Bearer {token}"}
        )
        if answer.status_code != 200:
            raise BenchError(f"ingest: {answer.status_code} {answer.text[:300]}")

    def count(self, device: str, sensor: str) -> int:
        rows = self.call(
            "GET",
            f"/api/devices/{device}/sensors/{sensor}/data",
            params={"agg": "count", "every": "1000w"},
        )["data"]
        return sum(int(row["value"]) for row in rows)

    def series(self, device: str, sensor: str) -> list[tuple[int, Any]]:
        out: list[tuple[int, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 10000}
            if cursor:
                params["cursor"] = cursor
            page = self.call("GET", f"/api/devices/{device}/sensors/{sensor}/data", params=params)
            out.extend((row["timestamp"], row["value"]) for row in page["data"])
            cursor = page.get("next")
            if not cursor:
                return out

    def cleanup(self) -> None:
        for rule in self.rules:
            self.client.delete(f"/api/rules/{rule}")
        for detector in self.detectors:
            self.client.delete(f"/api/detectors/{detector}")
        for device in self.devices:
            self.client.delete(f"/api/devices/{device}")
        self.client.close()


def _until(done: Callable[[], bool], what: str, deadline: float = DEADLINE_S) -> float:
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > deadline:
            raise BenchError(f"gave up waiting for {what} after {deadline:.0f} s")
        time.sleep(0.2)
    return time.monotonic()


def _expected(detector: str, series: Series) -> list[int]:
    """How many verdicts the detector gives for each prefix of the series (its warm-up)."""
    from shared.inference.detectors import step, validate_params

    params = validate_params(detector, PARAMS[detector])
    state: dict[str, Any] = {}
    counts: list[int] = []
    total = 0
    for ts, value in zip(series.timestamps, series.values, strict=True):
        result, state = step(detector, state, params, ts * 10**9, value)
        total += result is not None
        counts.append(total)
    return counts


def _feed(bench: Bench, job: tuple[Any, ...], series: Series) -> None:
    """Send a whole series in one request (the bus does not keep the order of messages, and a
    detector learns in event time), then wait until every verdict is written."""
    detector, _, device, token, sensor, bound = job
    expected = _expected(detector, series)[-1]
    bench.ingest(token, [
        {"sensor_id": sensor, "timestamp": ts, "value": v}
        for ts, v in zip(series.timestamps, series.values, strict=True)
    ])  # fmt: skip

    def scored() -> bool:
        return bool(bench.count(device, bound["anomaly_sensor"]) >= expected)

    _until(scored, f"{detector} verdicts on {series.kind}")


def quality(bench: Bench) -> list[dict[str, Any]]:
    """Precision, recall, F1 and delay per detector and anomaly kind."""
    data = {kind: generate(kind) for kind in KINDS}
    jobs = []
    for detector in DETECTORS:
        device, sensors, token = bench.device(f"detect-{detector}", list(KINDS))
        for kind in KINDS:
            bound = bench.detector(device, sensors[kind], detector, params=PARAMS[detector])
            jobs.append((detector, kind, device, token, sensors[kind], bound))
    time.sleep(CACHE_S)  # scorers see new detectors within STRATUS_DETECTOR_CACHE_SECONDS
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda job: _feed(bench, job, data[job[1]]), jobs))
    rows = []
    for detector, kind, device, _, _, bound in jobs:
        series = data[kind]
        flagged = {ts for ts, value in bench.series(device, bound["anomaly_sensor"]) if value}
        flags = [ts * 10**9 in flagged for ts in series.timestamps]
        metrics = score(flags, series.events)
        rows.append(
            {
                "detector": detector,
                "kind": kind,
                "precision": metrics.precision,
                "recall": metrics.recall,
                "f1": metrics.f1,
                "delay": metrics.mean_delay,
                "events": metrics.events,
                "alarms": metrics.alarms,
            }
        )
    return rows


def _phase(bench: Bench, phase: str, devices: int, readings: int) -> dict[str, Any]:
    """One phase on fresh devices: readings stored per second without detectors (`plain`), or
    scored per second with an EWMA detector on every sensor (`scored`)."""
    fleet = [bench.device(f"tput-{phase}-{n}", ["v"]) for n in range(devices)]
    targets = []
    for device, sensors, _ in fleet:
        if phase == "scored":
            bound = bench.detector(device, sensors["v"], "ewma")
            targets.append((device, bound["anomaly_sensor"], readings - 10))
        else:
            targets.append((device, sensors["v"], readings))
    time.sleep(CACHE_S)  # scorers see new detectors within STRATUS_DETECTOR_CACHE_SECONDS
    started = time.monotonic()

    def send(item: tuple[str, dict[str, str], str], start: float = 1_790_000_000.0) -> None:
        _, sensors, token = item
        body = [
            {"sensor_id": sensors["v"], "timestamp": start + i, "value": 20.0 + (i % 7)}
            for i in range(readings)
        ]
        for offset in range(0, readings, 100):
            bench.ingest(token, body[offset : offset + 100])

    with ThreadPoolExecutor(min(devices, 8)) as pool:
        list(pool.map(send, fleet))

    def stored() -> bool:
        return all(bench.count(d, s) >= n for d, s, n in targets)

    end = _until(stored, f"{phase} phase")
    total = sum(n for _, _, n in targets)
    return {"readings": total, "seconds": end - started, "per_s": total / (end - started)}


def throughput(bench: Bench, devices: int, readings: int, rounds: int = 3) -> dict[str, Any]:
    """Scored readings per second with an EWMA detector on every sensor as a ratio to stored
    readings per second without detectors, measured `rounds` times (each a plain phase then a
    scored one on fresh devices, the same load): the median ratio and its spread, with the
    load average of this machine at each round (the emulator shares it)."""
    result: dict[str, Any] = {"devices": devices, "readings_per_device": readings, "rounds": []}
    for _ in range(max(1, rounds)):
        load = os.getloadavg()[0]
        plain = _phase(bench, "plain", devices, readings)
        scored = _phase(bench, "scored", devices, readings)
        ratio = scored["per_s"] / plain["per_s"]
        result["rounds"].append({"plain": plain, "scored": scored, "ratio": ratio, "load": load})
    ratios = [r["ratio"] for r in result["rounds"]]
    result.update(
        ratio=statistics.median(ratios),
        ratio_min=min(ratios),
        ratio_max=max(ratios),
        plain=statistics.median(r["plain"]["per_s"] for r in result["rounds"]),
        scored=statistics.median(r["scored"]["per_s"] for r in result["rounds"]),
        load=[r["load"] for r in result["rounds"]],
    )
    return result


@contextmanager
def _background(bench: Bench, devices: int) -> Iterator[list[int]]:
    """Ingest load while the rule latency is measured: batches of 100 readings, nonstop."""
    fleet = [bench.device(f"load-{n}", ["v"]) for n in range(devices)]
    stop, sent = threading.Event(), [0]

    def load(item: tuple[str, dict[str, str], str]) -> None:
        _, sensors, token = item
        t = 1_790_000_000
        while not stop.is_set():
            bench.ingest(
                token,
                [{"sensor_id": sensors["v"], "timestamp": t + i, "value": 1.0} for i in range(100)],
            )
            t += 100
            sent[0] += 100

    threads = [threading.Thread(target=load, args=(item,), daemon=True) for item in fleet]
    for thread in threads:
        thread.start()
    try:
        yield sent
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)


def rule_latency(bench: Bench, samples: int, load_devices: int) -> dict[str, Any]:
    """Reading accepted (ingest answered 200) -> the alert's change visible in GET /api/alerts,
    for opening and resolving, under background ingest load."""
    device, sensors, token = bench.device("latency", ["v"])
    rule = bench.call(
        "POST",
        "/api/rules",
        201,
        json={"name": "latency", "condition": "value > 100", "select": {"devices": [device]}},
    )["id"]
    bench.rules.append(rule)
    time.sleep(CACHE_S)  # evaluators see a new rule within STRATUS_RULE_CACHE_SECONDS
    latencies: list[float] = []
    with _background(bench, load_devices) as sent:
        started = time.monotonic()
        for n in range(samples):
            for value, state in ((200.0, "open"), (0.0, "resolved")):
                at = 1_790_000_000 + 2 * n + (value == 0.0)
                bench.ingest(token, [{"sensor_id": sensors["v"], "timestamp": at, "value": value}])
                accepted = time.monotonic()

                def visible(state: str = state, n: int = n) -> bool:
                    items = bench.call("GET", "/api/alerts", params={"rule": rule, "limit": 1})[
                        "items"
                    ]
                    return (
                        len(items) == 1
                        and items[0]["state"] == state
                        and len(bench.call("GET", "/api/alerts", params={"rule": rule})["items"])
                        == n + 1
                    )

                seen = _until(visible, "alert change", 120)
                latencies.append((seen - accepted) * 1000)
        load_rate = sent[0] / (time.monotonic() - started)
    ordered = sorted(latencies)
    return {
        "samples": len(ordered),
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "max_ms": ordered[-1],
        "background_readings_per_s": load_rate,
    }


def run(
    target: str, token: str, *, devices: int, readings: int, samples: int, rounds: int = 3
) -> dict[str, Any]:
    bench = Bench(target, token)
    try:
        return {
            "quality": quality(bench),
            "throughput": throughput(bench, devices, readings, rounds),
            "latency": rule_latency(bench, samples, max(2, devices // 2)),
        }
    finally:
        bench.cleanup()


def section(result: dict[str, Any]) -> list[str]:
    """The BENCHMARKS.md section of a result."""
    lines = [
        HEADING,
        "",
        "Labelled data set: `bench/detect_data.py` (7 days every 5 min, daily season, "
        "trend, noise; one anomaly kind per series). Event-based scoring: an alarm (a run of "
        "flagged readings) overlapping an anomaly's window is true; delay in readings.",
        "",
        "| detector | anomaly | precision | recall | F1 | delay |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in result["quality"]:
        delay = "-" if row["delay"] is None else f"{row['delay']:.1f}"
        lines.append(
            f"| {row['detector']} | {row['kind']} | {row['precision']:.2f} | "
            f"{row['recall']:.2f} | {row['f1']:.2f} | {delay} |"
        )
    t = result["throughput"]
    loads = ", ".join(f"{load:.1f}" for load in t["load"])
    lines += [
        "",
        f"Throughput ({t['devices']} devices x {t['readings_per_device']} readings, "
        f"batches of 100, {len(t['rounds'])} rounds of a plain and a scored phase): stored "
        f"readings/s without detectors {t['plain']:.0f}, scored readings/s with an EWMA "
        f"detector on every sensor {t['scored']:.0f} (medians): **ratio {t['ratio']:.2f}** "
        f"(rounds {t['ratio_min']:.2f}..{t['ratio_max']:.2f}; goal >= 0.7), load average "
        f"{loads} on a machine of {os.cpu_count()} cores shared with the emulator.",
        "",
    ]
    latency = result["latency"]
    lines.append(
        f"Rule latency (reading accepted -> alert change visible in GET /api/alerts, "
        f"{latency['samples']} changes under {latency['background_readings_per_s']:.0f} "
        f"background readings/s): p50 {latency['p50_ms']:.0f} ms, p99 "
        f"{latency['p99_ms']:.0f} ms, max {latency['max_ms']:.0f} ms."
    )
    return [*lines, ""]
