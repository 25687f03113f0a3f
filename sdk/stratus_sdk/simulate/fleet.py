"""A simulated fleet against any Stratus deployment: devices registered for bootstrap by an
admin, bootstrapped like real devices, sending their signals through the SDK over HTTP and MQTT.

The fleet keeps its external keys in `<data_dir>/fleet.json` (mode 0600) and each device's
offline buffer in `<data_dir>/<external id>.db`, so a restarted fleet finds its devices again
(a registration whose key was lost gets a rotated one).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from stratus_sdk.admin import AdminClient
from stratus_sdk.device import DeviceClient
from stratus_sdk.errors import Conflict
from stratus_sdk.simulate.signals import SENSORS, DeviceSignals

__all__ = ["Fleet", "FleetOptions", "SimulatedDevice"]

_log = logging.getLogger("stratus_sdk.simulate")


@dataclass(frozen=True, slots=True)
class FleetOptions:
    """Fleet size and rate: `devices` devices, one reading per sensor every `interval` s, the
    first `mqtt_share` of them over MQTT (when the deployment has a broker), the rest HTTP."""

    devices: int = 24
    interval: float = 1.0
    mqtt_share: float = 0.5
    prefix: str = "demo"
    anomaly_rate: float = 0.002
    dropout_rate: float = 0.0005
    batch_size: int = 500
    seed: int = 1
    parallel: int = 8  # registrations and bootstraps in flight at once


@dataclass
class SimulatedDevice:
    external_id: str
    client: DeviceClient
    signals: DeviceSignals
    sent: int = 0


@dataclass
class Fleet:
    """Provision (`start`), then `run` until `stop()`; `sent()` counts readings given the SDK."""

    base_url: str
    admin: AdminClient
    data_dir: Path
    options: FleetOptions = field(default_factory=FleetOptions)
    clock: Callable[[], float] = time.time
    devices: list[SimulatedDevice] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _keys(self) -> dict[str, str]:
        path = self.data_dir / "fleet.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _save_keys(self, keys: dict[str, str]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "fleet.json"
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(keys, indent=1))
        os.chmod(path, 0o600)

    def _register_one(self, index: int) -> tuple[str, str]:
        external_id = f"{self.options.prefix}-{index + 1:04d}"
        try:
            registration = self.admin.register_device(
                external_id,
                name=f"{self.options.prefix} device {index + 1}",
                description="simulated by stratus_sdk.simulate",
                config={"interval_s": self.options.interval},
                sensors=SENSORS,
            )
            return external_id, registration.external_key or ""
        except Conflict:  # registered by an earlier run whose key file is gone
            return external_id, self.admin.rotate_external_key(external_id)

    def register(self) -> dict[str, str]:
        """Every device's bootstrap registration and its external key (`parallel` at a time)."""
        keys = self._keys()
        missing = [i for i in range(self.options.devices)
                   if f"{self.options.prefix}-{i + 1:04d}" not in keys]  # fmt: skip
        with ThreadPoolExecutor(self.options.parallel) as pool:
            keys.update(pool.map(self._register_one, missing))
        self._save_keys(keys)
        return keys

    def _bootstrap_one(self, index: int, key: str, mqtt: bool) -> SimulatedDevice:
        external_id = f"{self.options.prefix}-{index + 1:04d}"
        buffer = self.data_dir / f"{external_id}.db"
        try:
            client = DeviceClient.bootstrap(
                self.base_url, external_id, key, buffer_path=buffer,
                transport="mqtt" if mqtt else "http", batch_size=self.options.batch_size,
            )  # fmt: skip
        except ValueError:  # the deployment has no MQTT broker: HTTP it is
            client = DeviceClient.bootstrap(
                self.base_url, external_id, key, buffer_path=buffer,
                batch_size=self.options.batch_size,
            )  # fmt: skip
        signals = DeviceSignals(
            self.options.seed * 100_003 + index,
            anomaly_rate=self.options.anomaly_rate,
            dropout_rate=self.options.dropout_rate,
        )
        return SimulatedDevice(external_id, client, signals)

    def start(self) -> None:
        """Register and bootstrap every device (created on first contact), `parallel` at a
        time; the first `mqtt_share` of them send over MQTT when the deployment has a broker."""
        keys = self.register()
        mqtt_count = round(self.options.devices * self.options.mqtt_share)
        with ThreadPoolExecutor(self.options.parallel) as pool:
            jobs = [
                pool.submit(self._bootstrap_one, index,
                            keys[f"{self.options.prefix}-{index + 1:04d}"], index < mqtt_count)
                for index in range(self.options.devices)
            ]  # fmt: skip
            self.devices.extend(job.result() for job in jobs)
        over_mqtt = sum(1 for d in self.devices if d.client.transport == "mqtt")
        _log.info("fleet of %d devices started (%d over MQTT)", len(self.devices), over_mqtt)

    def tick(self) -> int:
        """Each device's readings for now; returns how many were handed to the SDK."""
        now = self.clock()
        stamp = time.time_ns() if self.clock is time.time else int(now * 1e9)
        total = 0
        for device in self.devices:
            readings = [(name, value, stamp) for name, value in device.signals.tick(now)]
            if readings:
                device.sent += device.client.send(readings)
                total += len(readings)
        return total

    def run(self, duration: float | None = None) -> None:
        """Tick every `interval` seconds until `stop()` or `duration` passes."""
        deadline = None if duration is None else time.monotonic() + duration
        next_tick = time.monotonic()
        while not self._stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return
            self.tick()
            next_tick += self.options.interval
            self._stop.wait(max(0.0, next_tick - time.monotonic()))

    def sent(self) -> int:
        return sum(device.sent for device in self.devices)

    def flush(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        return all(d.client.flush(max(0.0, deadline - time.monotonic())) for d in self.devices)

    def request_stop(self) -> None:
        """Make `run` return (from a signal handler or another thread)."""
        self._stop.set()

    def stop(self, flush_timeout: float = 5.0) -> None:
        self._stop.set()
        for device in self.devices:
            device.client.close(flush_timeout=flush_timeout)
