"""The bridge's core: MQTT messages in, batched bus messages out, each MQTT message acknowledged
only after the bus confirmed the publish that carries it (or its dead letter)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from gateways.bridge.batcher import Batch, Batcher
from gateways.bridge.topics import detect_format, encode_entry, route
from shared.deadletter import clip
from shared.errors import BadRequest
from shared.http import parse_json
from shared.topics import DEVICE_STATE, TELEMETRY_DEAD, TELEMETRY_RAW

__all__ = ["Bridge", "BridgeConfig", "Bus"]

_log = logging.getLogger("stratus.bridge")


class Bus(Protocol):
    """What the bridge needs of the bus: a publish whose future resolves once it is durable."""

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> Future[Any]: ...


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """Topics and batch bounds (see gateways/bridge/README.md for the variables)."""

    telemetry_topic: str = TELEMETRY_RAW
    state_topic: str = DEVICE_STATE
    dead_letter_topic: str = TELEMETRY_DEAD
    max_messages: int = 500
    max_bytes: int = 512 * 1024
    max_delay: float = 0.05
    max_unacked: int = 1000  # the broker's window: flush everything when half of it is batched
    bridge_id: str = "bridge"
    retry_delay: float = 0.5
    max_payload: int = 1024 * 1024  # STRATUS_MAX_BODY_BYTES: the platform's one body limit


class Bridge:
    """Thread-safe: `receive` runs on the MQTT thread, `run` on a flusher thread."""

    def __init__(
        self,
        bus: Bus,
        org_of: Callable[[str], str | None],
        ack: Callable[[list[int]], None],
        config: BridgeConfig,
    ) -> None:
        self.bus, self.org_of, self.ack, self.config = bus, org_of, ack, config
        self._batcher = Batcher(config.max_messages, config.max_bytes, config.max_delay)
        self._lock = threading.Lock()
        self._ready: list[Batch] = []
        self._wake = threading.Event()
        self._unacked = 0
        self._seq = 0
        self._closed = False
        self.stats = {"received": 0, "published": 0, "dead_lettered": 0, "retries": 0}

    @property
    def unacked(self) -> int:
        return self._unacked

    def receive(self, topic: str, payload: bytes, token: int, content_type: str = "") -> None:
        """Take one MQTT message; never raises (a bad message is dead-lettered)."""
        received_ns = time.time_ns()
        with self._lock:
            self._unacked += 1
            self.stats["received"] += 1
        where = route(topic)
        if where is None:
            self._dead_letter("", topic, payload, received_ns, token, "not a device topic")
            return
        if len(payload) > self.config.max_payload:
            reason = (
                f"payload is {len(payload)} bytes; the limit is {self.config.max_payload} bytes "
                "(STRATUS_MAX_BODY_BYTES), as for HTTP and WebSocket bodies"
            )
            self._dead_letter(where.device, topic, payload, received_ns, token, reason)
            return
        try:
            value = parse_json(payload, "payload")  # bounded depth, as at every door
        except BadRequest as exc:
            self._dead_letter(where.device, topic, payload, received_ns, token, exc.message)
            return
        if where.kind == "state":
            if not isinstance(value, dict):
                reason = "state must be a JSON object"
                self._dead_letter(where.device, topic, payload, received_ns, token, reason)
                return
            fmt = "state"
        else:
            try:
                fmt = detect_format(value, content_type)
            except ValueError as exc:
                self._dead_letter(where.device, topic, payload, received_ns, token, str(exc))
                return
        entry = encode_entry(fmt, received_ns, topic, where.device, payload)
        shared = where.kind != "state"  # telemetry of all devices together; state per device
        with self._lock:
            full = self._batcher.add(
                where.device, where.kind, entry, token, time.monotonic(), shared=shared
            )
            if full is not None:
                self._ready.append(full)
            urgent = full is not None or self._batcher.count >= self.config.max_unacked // 2
        if urgent:
            self._wake.set()

    def _dead_letter(
        self, device: str, topic: str, payload: bytes, received_ns: int, token: int, reason: str
    ) -> None:
        _log.warning("dead-lettering a message of device %r: %s", clip(device, 200), reason)
        attributes = {
            "device": clip(device),
            "reason": clip(reason),
            "source": "bridge",
            "mqtt_topic": clip(topic),  # a topic may be 64 KiB; an attribute value 1 KiB
            "transport": "mqtt",
            "received_ns": str(received_ns),
        }
        self._send(self.config.dead_letter_topic, payload, attributes, [token], "dead_lettered")

    def _send(
        self, topic: str, data: bytes, attributes: dict[str, str], tokens: list[int], stat: str
    ) -> None:
        """Publish, then acknowledge `tokens`; on failure retry after a pause, forever (a crash
        in between leaves the MQTT messages unacknowledged, so the broker redelivers them)."""

        def done(future: Future[Any]) -> None:
            error = future.exception()
            if error is None:
                self.ack(tokens)
                with self._lock:
                    self._unacked -= len(tokens)
                    self.stats[stat] += len(tokens)
                return
            if self._closed:  # the broker keeps them unacknowledged for the next bridge
                _log.warning("bus publish failed (%s); %d messages left to the broker",
                             error, len(tokens))  # fmt: skip
                return
            _log.warning("bus publish failed (%s); retrying %d messages", error, len(tokens))
            with self._lock:
                self.stats["retries"] += 1
            timer = threading.Timer(self.config.retry_delay, attempt)
            timer.daemon = True
            timer.start()

        def attempt() -> None:
            try:
                future = self.bus.publish(topic, data, attributes)
            except Exception as exc:  # the bus client refused outright: treat like a failure
                future = Future()
                future.set_exception(exc)
            future.add_done_callback(done)

        attempt()

    def _flush(self, batch: Batch) -> None:
        """Publish a batch as one bus message per organisation (a message never mixes
        tenants), and the entries of devices that no longer exist as one dead letter per
        device. Every organisation is looked up before anything is sent, so a failing
        directory leaves the whole batch for the next round."""
        orgs = {device: self._org(device) for device in dict.fromkeys(batch.devices)}
        parts: dict[tuple[str | None, str], list[int]] = {}
        for index, device in enumerate(batch.devices):
            org = orgs[device]
            parts.setdefault((org, "") if org is not None else (None, device), []).append(index)
        for (org, gone), indexes in parts.items():
            devices = dict.fromkeys(batch.devices[i] for i in indexes)
            self._seq += 1
            attributes = {
                "format": "batch",
                "received_ns": str(time.time_ns()),
                "transport": "mqtt",
                "request_id": f"{self.config.bridge_id}-{self._seq}",
            }
            if len(devices) == 1:
                attributes["device"] = next(iter(devices))
            if org is None:  # deleted while its messages were on their way
                attributes.update(reason=f"unknown device {gone!r}", source="bridge")
                topic, stat = self.config.dead_letter_topic, "dead_lettered"
            else:
                attributes["org"] = org
                stat = "published"
                topic = self.config.telemetry_topic
                if batch.kind == "state":
                    topic = self.config.state_topic
            tokens = [batch.tokens[i] for i in indexes]
            self._send(topic, batch.data(indexes), attributes, tokens, stat)

    def _org(self, device: str) -> str | None:
        try:
            return self.org_of(device)
        except Exception:
            _log.exception("looking up the organisation of device %r failed", device)
            raise

    def flush(self, everything: bool = False) -> int:
        """Publish the ready and due batches (all open ones when `everything`); returns how many."""
        now = time.monotonic()
        with self._lock:
            batches = self._ready
            self._ready = []
            if everything or self._batcher.count >= self.config.max_unacked // 2:
                batches += self._batcher.drain()
            else:
                batches += self._batcher.due(now)
        for batch in batches:
            try:
                self._flush(batch)
            except Exception:  # the directory failed: keep the batch for the next round
                with self._lock:
                    self._ready.append(batch)
                time.sleep(self.config.retry_delay)
        return len(batches)

    def run(self, stop: threading.Event) -> None:
        """Flush until `stop` is set, waking early when a batch fills; then flush what is left."""
        tick = min(max(self.config.max_delay / 5, 0.002), 0.05)
        while not stop.is_set():
            self._wake.wait(tick)
            self._wake.clear()
            self.flush()
        self.flush(everything=True)

    def close(self) -> None:
        """Stop retrying failed publishes: after the MQTT session is gone an acknowledgement
        cannot reach the broker any more, which redelivers those messages to the next bridge."""
        self._closed = True

    def wait_acked(self, timeout: float) -> bool:
        """After the last flush: wait until every received message was acknowledged."""
        deadline = time.monotonic() + timeout
        while self._unacked > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        return self._unacked == 0
