"""The broker publisher on paho (MQTT 5): waits for each PUBACK and reads its reason code."""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shared.errors import Unavailable

__all__ = ["NO_MATCHING_SUBSCRIBERS", "MqttPublisher"]

NO_MATCHING_SUBSCRIBERS = 16  # MQTT 5 PUBACK reason: accepted, but no subscription matched
_Slot = tuple[threading.Event, list[int]]


class MqttPublisher:
    """`BrokerPublisher` over one MQTT 5 connection; connects lazily, thread-safe, reconnects."""

    def __init__(
        self, host: str, port: int, username: str, password: str, *, timeout: float = 10.0
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._connected = threading.Event()
        self._refused: str | None = None
        self._waiting: dict[int, _Slot] = {}
        self._early: dict[int, int] = {}  # PUBACKs that arrived before their publisher waited
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=username,  # one connection per account: its session is the account's
            protocol=mqtt.MQTTv5,
        )
        self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._started = False

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason)
        else:
            self._refused = None
            self._connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, p: Any) -> None:
        self._connected.clear()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        # runs in paho's loop holding its message lock: never call paho under self._lock
        with self._lock:
            slot = self._waiting.pop(mid, None)
            if slot is None:
                self._early[mid] = int(reason.value)
                return
        slot[1].append(int(reason.value))
        slot[0].set()

    def _ensure_connected(self) -> None:
        if not self._started:
            with self._start_lock:
                if not self._started:
                    try:
                        self._client.connect(self.host, self.port, keepalive=30)
                    except OSError as exc:
                        raise Unavailable(
                            f"MQTT broker at {self.host}:{self.port} unreachable: {exc}"
                        ) from None
                    self._client.loop_start()
                    self._started = True
        if not self._connected.wait(self.timeout):
            why = f" ({self._refused})" if self._refused else ""
            raise Unavailable(f"not connected to the MQTT broker at {self.host}:{self.port}{why}")

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        self._ensure_connected()
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise Unavailable(f"publishing to {topic} failed: {mqtt.error_string(info.rc)}")
        if qos == 0:
            return True
        slot: _Slot = (threading.Event(), [])
        with self._lock:
            early = self._early.pop(info.mid, None)
            if early is None:
                self._waiting[info.mid] = slot
        if early is not None:
            reason = early
        elif slot[0].wait(self.timeout):
            reason = slot[1][0]
        else:
            with self._lock:
                self._waiting.pop(info.mid, None)
            raise Unavailable(f"the MQTT broker did not acknowledge the publish to {topic}")
        if reason >= 128:
            raise Unavailable(f"the MQTT broker refused the publish to {topic} (reason {reason})")
        return reason != NO_MATCHING_SUBSCRIBERS

    def close(self) -> None:
        if self._started:
            self._client.disconnect()
            self._client.loop_stop()
            self._started = False
