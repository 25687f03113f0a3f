"""The device's MQTT link (paho, MQTT 5): publishes telemetry at QoS 1 and delivers config and
commands to callbacks. paho reconnects by itself; publishing while disconnected fails fast."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from stratus_sdk.errors import ConnectionFailed, PermissionDenied

__all__ = ["CommandHandler", "ConfigHandler", "MqttLink"]

_log = logging.getLogger("stratus_sdk.mqtt")

ConfigHandler = Callable[[int | None, Any], None]  # (version, config)
CommandHandler = Callable[[str, bytes], None]  # (name, payload)


class MqttLink:
    """One MQTT session of a device: username = device id, password = device token."""

    def __init__(
        self,
        url: str,
        device_id: str,
        token: str,
        *,
        on_config: Callable[[], ConfigHandler | None] = lambda: None,
        on_command: Callable[[], CommandHandler | None] = lambda: None,
    ) -> None:
        parts = urlsplit(url)
        self.device_id = device_id
        self._on_config, self._on_command = on_config, on_command
        self.connected = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=device_id, protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(device_id, token)
        if parts.scheme == "mqtts":
            self.client.tls_set()
        self.client.reconnect_delay_set(1, 10)
        self.client.on_connect = self._connected
        self.client.on_disconnect = lambda *args: self.connected.clear()
        self.client.on_message = self._message
        self.client.on_publish = self._published
        self._refused: dict[int, str] = {}
        self.client.connect_async(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=30)
        self.client.loop_start()

    def _connected(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            _log.warning("MQTT connection refused: %s", reason)
            return
        base = f"devices/{self.device_id}"
        client.subscribe([(f"{base}/config", 1), (f"{base}/commands/#", 1)])
        self.connected.set()

    def _published(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        if reason is not None and reason.is_failure:
            self._refused[mid] = str(reason)

    def _message(self, client: Any, userdata: Any, message: Any) -> None:
        try:
            if message.topic.endswith("/config"):
                handler = self._on_config()
                if handler is not None:
                    body = json.loads(message.payload or b"{}")
                    handler(body.get("version"), body.get("config"))
            elif "/commands/" in message.topic:
                handler_c = self._on_command()
                if handler_c is not None:
                    handler_c(message.topic.rsplit("/", 1)[-1], bytes(message.payload))
        except Exception:
            _log.exception("callback for %s failed", message.topic)

    def publish(
        self, topic: str, payload: bytes, key: str | None = None, timeout: float = 10.0
    ) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK; ConnectionFailed when not connected
        or no PUBACK in time, PermissionDenied when the broker refuses the topic."""
        if not self.connected.wait(timeout):
            raise ConnectionFailed("MQTT broker not connected")
        properties = Properties(PacketTypes.PUBLISH)
        properties.ContentType = "application/json"
        if key:
            properties.UserProperty = ("idempotency-key", key)
        info = self.client.publish(topic, payload, qos=1, properties=properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionFailed(f"MQTT publish failed: {mqtt.error_string(info.rc)}")
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            raise ConnectionFailed(f"MQTT publish failed: {exc}") from None
        if not info.is_published():
            raise ConnectionFailed("no PUBACK from the MQTT broker in time")
        refused = self._refused.pop(info.mid, None)
        if refused is not None:
            raise PermissionDenied(f"the MQTT broker refused the publish: {refused}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
