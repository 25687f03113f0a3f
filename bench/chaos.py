"""Soak and chaos runs against an emulator of the run's own: HTTP and MQTT readings together for
minutes, the memory of every process sampled, and (chaos) the broker, a bridge, a host worker
or the whole emulator killed with SIGKILL at random moments; afterwards every reading that was
acknowledged (HTTP 200, MQTT PUBACK) is counted back through the query API.

`measure(...)` returns the figures as a dict (`python -m bench chaos` writes them as JSON).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

__all__ = ["VICTIMS", "Emulator", "measure"]

ROOT = Path(__file__).resolve().parents[1]
S = 10**9
VICTIMS = ("broker", "bridge", "host worker", "emulator")


def _children(pid: int) -> dict[int, str]:
    """pid -> command line of the direct children of `pid`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = argv
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _name(argv: str) -> str:
    if "mosquitto" in argv:
        return "broker"
    for marker in ("gateways.bridge", "gateways.websocket", "emulator.host", "emulator.firestore",
                   "emulator.pubsub", "emulator.scheduler"):  # fmt: skip
        if marker in argv:
            return marker.split(".")[-1]
    return argv.split(" ")[0]


@dataclass
class Emulator:
    """`python -m emulator` on fixed free ports (kept across restarts) and its own data dir."""

    data_dir: Path
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    process: subprocess.Popen[bytes] | None = None
    endpoints: dict[str, Any] = field(default_factory=dict)
    ports: list[str] = field(default_factory=list)

    def start(self) -> None:
        if not self.ports:
            from emulator.process import free_port

            names = ("--port", "--firestore-port", "--pubsub-port", "--mqtt-port",
                     "--mqtt-ws-port", "--ws-port")  # fmt: skip
            self.ports = [x for name in names for x in (name, str(free_port("127.0.0.1")))]
        (self.data_dir / "endpoints.json").unlink(missing_ok=True)
        log = open(self.data_dir.parent / "emulator.log", "ab")  # noqa: SIM115 - the child's
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator", *self.ports, "--data-dir", str(self.data_dir)],
            cwd=ROOT,
            env={**os.environ, "STRATUS_ADMIN_PASSWORD": self.password, "STRATUS_WORKERS": "2"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited; see {self.data_dir.parent}/emulator.log")
            try:
                self.endpoints = json.loads((self.data_dir / "endpoints.json").read_text())
                if httpx.get(f"{self.endpoints['base_url']}/healthz", timeout=2).status_code == 200:
                    return
            except (OSError, ValueError, KeyError, httpx.HTTPError):
                pass
            time.sleep(0.2)
        raise RuntimeError("the emulator did not become ready in 120 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)

    def processes(self) -> dict[int, str]:
        """pid -> name of every process of the platform (children, and the host's workers)."""
        assert self.process is not None
        named = {}
        for pid, argv in _children(self.process.pid).items():
            named[pid] = _name(argv)
            if named[pid] == "host":
                for worker in _children(pid):
                    named[worker] = "host worker"
        return named


class _Load:
    """HTTP and MQTT readings at fixed rates; remembers what was acknowledged."""

    def __init__(self, emulator: Emulator, devices: list[tuple[str, str, str]], http_rate: float,
                 mqtt_rate: float) -> None:  # fmt: skip
        self.emulator, self.devices = emulator, devices
        self.http_rate, self.mqtt_rate = http_rate, mqtt_rate
        self.acked: set[tuple[str, int]] = set()  # (sensor, timestamp ns)
        self.attempted = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._next = 1_800_000_000 * S
        self.began = time.monotonic()
        self.sent_at: dict[int, float] = {}  # stamp -> seconds into the load

    def _stamp(self) -> int:
        with self._lock:
            self._next += 1_000_000  # one millisecond apart: every reading its own key
            self.attempted += 1
            self.sent_at[self._next] = time.monotonic() - self.began
            return self._next

    def _http(self) -> None:
        _, token, sensor = self.devices[0]
        url = f"{self.emulator.endpoints['base_url']}/ingest"
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(timeout=10) as http:
            while not self.stop.wait(1 / self.http_rate):
                readings = [{"sensor_id": sensor, "timestamp": self._stamp(), "value": 1.0}
                            for _ in range(10)]  # fmt: skip
                try:
                    answer = http.post(url, json=readings, headers=headers)
                except httpx.HTTPError:
                    continue  # down: not acknowledged, not counted
                if answer.status_code == 200:
                    with self._lock:
                        self.acked.update((sensor, int(str(r["timestamp"]))) for r in readings)

    def _mqtt(self) -> None:
        device, token, sensor = self.devices[1]
        sent: list[tuple[int, mqtt.MQTTMessageInfo]] = []
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device,
                             protocol=mqtt.MQTTv311, clean_session=False)  # fmt: skip
        client.username_pw_set(device, token)
        client.max_inflight_messages_set(200)
        client.reconnect_delay_set(1, 2)
        host, port = str(self.emulator.endpoints["mqtt"]).rsplit(":", 1)
        client.connect_async(host, int(port))
        client.loop_start()
        while not self.stop.wait(1 / self.mqtt_rate):
            stamp = self._stamp()
            payload = orjson.dumps({"sensor_id": sensor, "timestamp": stamp, "value": 2.0})
            sent.append((stamp, client.publish(f"devices/{device}/events", payload, qos=1)))
        # refused at once (disconnected then): never sent, not counted; the rest until PUBACK
        sent = [(stamp, info) for stamp, info in sent if info.rc == mqtt.MQTT_ERR_SUCCESS]
        deadline = time.monotonic() + 30  # the in-flight ones after a reconnect
        while time.monotonic() < deadline and not all(_acked(info) for _, info in sent):
            time.sleep(0.2)
        client.disconnect()
        client.loop_stop()
        with self._lock:
            self.acked.update((sensor, stamp) for stamp, info in sent if _acked(info))

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._http), threading.Thread(target=self._mqtt)]
        for thread in threads:
            thread.start()
        return threads


def _signin(emulator: Emulator) -> str:
    credentials = {"username": "admin", "password": emulator.password}
    answer = httpx.post(f"{emulator.endpoints['base_url']}/api/users/signin", json=credentials)
    return str(answer.json()["token"])


def _acked(info: mqtt.MQTTMessageInfo) -> bool:
    try:
        return info.is_published()
    except RuntimeError:  # the connection dropped before it was sent
        return False


def _setup(emulator: Emulator) -> tuple[str, list[tuple[str, str, str]]]:
    base = emulator.endpoints["base_url"]
    token = _signin(emulator)
    auth = {"authorization": f"Bearer {token}"}
    mapping = {"name": "t", "mapping": {"type": "double"}}
    devices = []
    for name in ("chaos-http", "chaos-mqtt"):
        device = httpx.post(f"{base}/api/devices/", json={"name": name}, headers=auth).json()
        device_id = device["result"]["id"]
        sensors = f"{base}/api/devices/{device_id}/sensors/"
        sensor = httpx.post(sensors, headers=auth, json=mapping).json()["id"]
        key = httpx.get(f"{base}/api/devices/{device_id}/key", headers=auth).json()["token"]
        devices.append((device_id, key, sensor))
    return token, devices


def _stored(emulator: Emulator, devices: list[tuple[str, str, str]]) -> tuple[set[Any], int]:
    """(sensor, ts) of every stored reading, and how many rows came back (duplicates show)."""
    base = emulator.endpoints["base_url"]
    token = _signin(emulator)
    found: set[Any] = set()
    rows = 0
    with httpx.Client(timeout=60, headers={"authorization": f"Bearer {token}"}) as http:
        for device, _, sensor in devices:
            cursor = None
            while True:
                params = {"from": str(1_800_000_000 * S), "limit": "10000"}
                if cursor:
                    params["cursor"] = cursor
                page = http.get(f"{base}/api/devices/{device}/sensors/{sensor}/data",
                                params=params).json()  # fmt: skip
                rows += len(page["data"])
                found.update((sensor, point["timestamp"]) for point in page["data"])
                cursor = page.get("next")
                if not cursor:
                    break
    return found, rows


def _kill(emulator: Emulator, victim: str) -> float:
    """SIGKILL the victim; returns seconds until the platform answered again."""
    began = time.monotonic()
    if victim == "emulator":
        emulator.kill()
        time.sleep(0.5)  # the children's parent-death signal lands
        emulator.start()
    else:
        pids = [pid for pid, name in emulator.processes().items() if name == victim]
        if not pids:
            return 0.0
        os.kill(random.choice(pids), signal.SIGKILL)
        base = emulator.endpoints["base_url"]
        while time.monotonic() - began < 60:  # the supervisor (or granian) restarts it
            if any(name == victim for name in emulator.processes().values()):
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
    return time.monotonic() - began


def measure(data_dir: Path, *, minutes: float, chaos: bool, http_rate: float = 10,
            mqtt_rate: float = 50, kill_every: float = 40, sample_every: float = 15,
            seed: int = 17) -> dict[str, Any]:  # fmt: skip
    """One run; see the module docstring."""
    random.seed(seed)
    data_dir.mkdir(parents=True, exist_ok=True)
    emulator = Emulator(data_dir)
    emulator.start()
    try:
        _, devices = _setup(emulator)
        load = _Load(emulator, devices, http_rate, mqtt_rate)
        threads = load.run()
        began = load.began
        memory: dict[str, list[tuple[float, float]]] = {}
        kills: list[dict[str, Any]] = []
        next_sample, next_kill = began, began + kill_every * random.uniform(0.5, 1.0)
        victims = list(VICTIMS)
        while time.monotonic() - began < minutes * 60:
            now = time.monotonic()
            if now >= next_sample:
                totals: dict[str, float] = {}
                for pid, name in emulator.processes().items():
                    totals[name] = totals.get(name, 0.0) + _rss_mb(pid)
                for name, mb in totals.items():
                    memory.setdefault(name, []).append((round(now - began, 1), round(mb, 1)))
                next_sample = now + sample_every
            if chaos and now >= next_kill:
                victim = victims[len(kills) % len(victims)]
                back = _kill(emulator, victim)
                kills.append({"at_s": round(now - began, 1), "victim": victim,
                              "back_after_s": round(back, 2)})  # fmt: skip
                next_kill = time.monotonic() + kill_every * random.uniform(0.5, 1.5)
            time.sleep(0.2)
        load.stop.set()
        for thread in threads:
            thread.join()
        deadline = time.monotonic() + 120  # until all are stored, or none more for 15 s
        stored, rows = _stored(emulator, devices)
        grew = time.monotonic()
        while not load.acked <= stored and time.monotonic() < min(deadline, grew + 15):
            time.sleep(2)
            count = len(stored)
            stored, rows = _stored(emulator, devices)
            if len(stored) > count:
                grew = time.monotonic()
        lost = load.acked - stored
        return {
            "minutes": minutes,
            "chaos": chaos,
            "rates": {
                "http_requests_per_s": http_rate,
                "readings_per_request": 10,
                "mqtt_messages_per_s": mqtt_rate,
            },
            "attempted": load.attempted,
            "acknowledged": len(load.acked),
            "stored": len(stored & load.acked),
            "lost": len(lost),
            "lost_by_transport": {
                transport: sum(1 for sensor_id, _ in lost if sensor_id == sensor)
                for transport, (_, _, sensor) in zip(("http", "mqtt"), devices, strict=True)
            },
            "lost_at_s": sorted({round(load.sent_at.get(stamp, -1.0), 1) for _, stamp in lost})[
                :50
            ],
            "duplicated_rows": rows - len(stored),
            "kills": kills,
            "memory_mb": {name: _trend(points) for name, points in sorted(memory.items())},
        }
    finally:
        emulator.stop()


def _trend(points: list[tuple[float, float]]) -> dict[str, Any]:
    """First, last and peak RSS, and the least-squares slope over the second half in MB/min
    (the first half holds the warm-up)."""
    tail = points[len(points) // 2 :] or points
    n = len(tail)
    mean_t = sum(t for t, _ in tail) / n
    mean_m = sum(m for _, m in tail) / n
    var = sum((t - mean_t) ** 2 for t, _ in tail)
    slope = sum((t - mean_t) * (m - mean_m) for t, m in tail) / var if var else 0.0
    return {"first": points[0][1], "last": points[-1][1], "peak": max(m for _, m in points),
            "slope_mb_per_min": round(slope * 60, 3), "samples": len(points)}  # fmt: skip
