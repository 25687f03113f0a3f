"""The device client: bootstrap, then `send(readings)`; a background sender drains the offline
buffer in order over HTTP or MQTT, retrying with backoff and jitter, one batch in flight."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import httpx

from stratus_sdk._http import Http
from stratus_sdk.buffer import Batch, OfflineBuffer, Rejected
from stratus_sdk.errors import StratusError, is_transient
from stratus_sdk.identity import Identity, load_identity, save_identity
from stratus_sdk.mqtt import CommandHandler, ConfigHandler, MqttLink
from stratus_sdk.readings import Reading, ReadingLike, SensorIndex, encode
from stratus_sdk.retry import Backoff

__all__ = ["DeviceClient", "Reading"]

_log = logging.getLogger("stratus_sdk.device")

Transport = Literal["http", "mqtt"]


class DeviceClient:
    """One device: its identity, its offline buffer and its sender.

    Build it with `DeviceClient.bootstrap(...)` (zero-touch: external id and key) or directly
    from a device id and token. `send()` returns once the readings are on disk; `flush()` waits
    until the platform has them. Use it as a context manager or call `close()`.
    """

    def __init__(
        self,
        base_url: str,
        identity: Identity,
        *,
        buffer_path: str | Path,
        transport: Transport = "http",
        batch_size: int = 500,
        linger: float = 0.05,
        backoff: Backoff | None = None,
        timeout: float = 30.0,
        on_rejected: Callable[[Rejected], None] | None = None,
        rebootstrap: Callable[[], Identity] | None = None,
        http_client: httpx.Client | None = None,
        start: bool = True,
    ) -> None:
        if transport not in ("http", "mqtt"):
            raise ValueError("transport must be 'http' or 'mqtt'")
        if transport == "mqtt" and not identity.broker_url:
            raise ValueError("transport 'mqtt' needs a broker address (the platform has no MQTT)")
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.sensors = SensorIndex(identity.sensors)
        self.buffer = OfflineBuffer(buffer_path)
        self.transport = transport
        self.batch_size = batch_size
        self.linger = linger
        self.backoff = backoff or Backoff()
        self.on_rejected = on_rejected
        self._rebootstrap = rebootstrap
        self.http = Http(self.base_url, identity.token, timeout=timeout, client=http_client)
        self._config_handler: ConfigHandler | None = None
        self._command_handler: CommandHandler | None = None
        self._mqtt: MqttLink | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._drained = threading.Condition()
        self._failures = 0
        self.stats = {"batches": 0, "retries": 0, "rejected": 0}  # since this client started
        self._sender: threading.Thread | None = None
        if transport == "mqtt":
            self._link()
        if start:
            self.start()

    @classmethod
    def bootstrap(
        cls,
        base_url: str,
        external_id: str,
        external_key: str,
        *,
        buffer_path: str | Path,
        wait: float = 60.0,
        **options: Any,
    ) -> DeviceClient:
        """Fetch the device's identity from `GET /bootstrap/{external_id}` (creating the device
        on first contact), retrying transient failures for up to `wait` seconds. If the platform
        stays unreachable, a device that bootstrapped before starts from the identity kept in
        its buffer file and sends once the platform is back."""

        def fetch(deadline: float) -> Identity:
            http = Http(base_url, external_key)
            backoff, failures = options.get("backoff") or Backoff(), 0
            try:
                while True:
                    try:
                        answer = http.json(
                            "GET",
                            f"/bootstrap/{external_id}",
                            headers=http.headers(scheme="Bootstrap"),
                        )
                        return Identity.from_bootstrap(answer, external_id)
                    except StratusError as error:
                        if not is_transient(error) or time.monotonic() >= deadline:
                            raise
                        time.sleep(backoff.delay(failures, error.retry_after))
                        failures += 1
            finally:
                http.close()

        try:
            identity = fetch(time.monotonic() + wait)
        except StratusError as error:
            cached = load_identity(buffer_path)
            if not is_transient(error) or cached is None or cached.external_id != external_id:
                raise
            _log.warning("platform unreachable (%s): starting from the kept identity", error)
            identity = cached
        save_identity(buffer_path, identity)
        return cls(
            base_url,
            identity,
            buffer_path=buffer_path,
            rebootstrap=lambda: fetch(time.monotonic() + wait),
            **options,
        )

    # sending --------------------------------------------------------------------------------

    def send(self, readings: Iterable[ReadingLike]) -> int:
        """Put readings in the offline buffer (on disk when this returns) for the sender.

        A reading is a `Reading(sensor, value, timestamp=None)`, a `(sensor, value[, timestamp])`
        tuple or a dict with `sensor` (or `sensor_id`), `value` and optional `timestamp`.
        `sensor` is a sensor id, tree path or unique name; `timestamp` ns (int), seconds (float)
        or a datetime, now when absent. An unknown sensor raises ValueError and buffers nothing.
        """
        now = time.time_ns()
        bodies = [encode(reading, self.sensors, now) for reading in readings]
        count = self.buffer.add(bodies)
        self._wake.set()
        return count

    def send_one(self, sensor: str, value: Any, timestamp: Any = None) -> None:
        self.send([Reading(sensor, value, timestamp)])

    def pending(self) -> int:
        """Readings the platform does not have yet."""
        return self.buffer.pending()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every buffered reading is accepted (True) or `timeout` passes (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._wake.set()
        with self._drained:
            while self.buffer.pending():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._drained.wait(0.5 if left is None else min(left, 0.5))
        return True

    def start(self) -> None:
        if self._sender is None:
            self._sender = threading.Thread(target=self._run, name="stratus-sender", daemon=True)
            self._sender.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self.buffer.next_batch(self.batch_size)
            except Exception:
                _log.exception("offline buffer failed")
                self._stop.wait(1.0)
                continue
            if batch is None:
                with self._drained:
                    self._drained.notify_all()
                self._wake.wait(1.0)
                self._wake.clear()
                self._stop.wait(self.linger)  # let a burst of sends fill the next batch
                continue
            self._attempt(batch)

    def _attempt(self, batch: Batch) -> None:
        try:
            self._deliver(batch)
        except StratusError as error:
            if is_transient(error):
                self.stats["retries"] += 1
                self.buffer.attempted(batch)
                delay = self.backoff.delay(self._failures, error.retry_after)
                self._failures += 1
                _log.info(
                    "batch %s not delivered (%s): retrying in %.1f s", batch.key, error, delay
                )
                self._stop.wait(delay)
            elif error.status == 403 and self._rebootstrap is not None and "revoked" in str(error):
                self._renew()
            else:
                _log.error("batch %s refused for good: %s", batch.key, error)
                self.stats["rejected"] += 1
                self.buffer.reject(batch, error.status, str(error))
                if self.on_rejected is not None:
                    self.on_rejected(self.buffer.rejected()[-1])
            return
        self._failures = 0
        self.stats["batches"] += 1
        self.buffer.accepted(batch)

    def _deliver(self, batch: Batch) -> None:
        if self.transport == "mqtt":
            assert self._mqtt is not None
            topic = f"devices/{self.identity.device_id}/events"
            self._mqtt.publish(topic, batch.body, key=batch.key)
            return
        self.http.request(
            "POST",
            "/ingest",
            content=batch.body,
            headers={"content-type": "application/json", "idempotency-key": batch.key,
                     "x-request-id": batch.key},
        )  # fmt: skip

    def _renew(self) -> None:
        """The token was revoked (key rotated): bootstrap again for the current one."""
        assert self._rebootstrap is not None
        try:
            identity = self._rebootstrap()
        except StratusError as error:
            _log.warning("bootstrap after a revoked token failed: %s", error)
            self._stop.wait(self.backoff.delay(self._failures))
            self._failures += 1
            return
        save_identity(self.buffer.path, identity)
        self.identity, self.http.token = identity, identity.token
        self.sensors = SensorIndex(identity.sensors)
        if self._mqtt is not None:
            self._mqtt.close()
            self._mqtt = None
            self._link()

    # config, commands, state ----------------------------------------------------------------

    @property
    def config(self) -> Any:
        """The configuration the bootstrap gave (the registration's)."""
        return self.identity.config

    def on_config(self, handler: ConfigHandler) -> None:
        """Call `handler(version, config)` for the device's config (sent retained on connect,
        then on each change through PUT /api/devices/{id}/config); opens the MQTT link."""
        self._config_handler = handler
        self._link()

    def on_command(self, handler: CommandHandler) -> None:
        """Call `handler(name, payload)` for each command sent to the device."""
        self._command_handler = handler
        self._link()

    def report_state(self, state: dict[str, Any]) -> None:
        """Publish the device's state (`config_version` in it acknowledges a config)."""
        self._link()
        assert self._mqtt is not None
        self._mqtt.publish(f"devices/{self.identity.device_id}/state", json.dumps(state).encode())

    def _link(self) -> None:
        if self._mqtt is not None:
            return
        if not self.identity.broker_url:
            raise ValueError("this platform has no MQTT broker: config and commands need one")
        self._mqtt = MqttLink(
            self.identity.broker_url,
            self.identity.device_id,
            self.identity.token,
            on_config=lambda: self._config_handler,
            on_command=lambda: self._command_handler,
        )

    def close(self, flush_timeout: float | None = 0) -> None:
        """Stop the sender (after waiting up to `flush_timeout` for the buffer to drain; what is
        left stays on disk for the next start) and close the connections."""
        if flush_timeout:
            self.flush(flush_timeout)
        self._stop.set()
        self._wake.set()
        if self._sender is not None:
            self._sender.join(30)
        if self._mqtt is not None:
            self._mqtt.close()
        self.http.close()
        self.buffer.close()

    def __enter__(self) -> DeviceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
