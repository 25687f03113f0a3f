"""A client for Mosquitto's dynamic-security plugin: JSON commands over its control topic."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shared.errors import Unavailable

__all__ = ["DynamicSecurity", "DynsecError"]

CONTROL = "$CONTROL/dynamic-security/v1"
RESPONSE = CONTROL + "/response"


class DynsecError(RuntimeError):
    """The plugin refused a command; `.message` is its error text (e.g. 'Client not found')."""

    def __init__(self, command: str, message: str) -> None:
        super().__init__(f"{command}: {message}")
        self.command = command
        self.message = message


class DynamicSecurity:
    """One MQTT connection as an admin client; thread-safe; commands wait for their responses."""

    def __init__(
        self, host: str, port: int, username: str, password: str, *, timeout: float = 10.0
    ) -> None:
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._connected = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=username,  # one connection per account: its session is the account's
            protocol=mqtt.MQTTv5,
        )
        self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        try:
            self._client.connect(host, port, keepalive=30)
        except OSError as exc:
            raise Unavailable(f"MQTT broker at {host}:{port} unreachable: {exc}") from None
        self._client.loop_start()
        if not self._connected.wait(timeout):
            self.close()
            raise Unavailable(f"MQTT broker at {host}:{port} did not accept the admin login")

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if not reason.is_failure:
            client.subscribe(RESPONSE, qos=1)
            self._connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            responses = orjson.loads(message.payload).get("responses", [])
        except (orjson.JSONDecodeError, AttributeError):
            return
        for response in responses:
            waiting = self._waiting.get(str(response.get("correlationData", "")))
            if waiting:
                waiting[1].append(response)
                waiting[0].set()

    def execute(self, commands: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Run commands in one request; raise DynsecError for the first that failed."""
        slots = []
        for command in commands:
            key = f"c{next(self._ids)}"
            slot: tuple[threading.Event, list[dict[str, Any]]] = (threading.Event(), [])
            self._waiting[key] = slot
            slots.append((key, dict(command, correlationData=key), slot))
        try:
            payload = orjson.dumps({"commands": [entry for _, entry, _ in slots]})
            with self._lock:
                self._client.publish(CONTROL, payload, qos=1)
            results = []
            for _, entry, (event, found) in slots:
                if not event.wait(self.timeout):
                    raise Unavailable(f"broker did not answer {entry['command']} in time")
                response = found[0]
                if response.get("error"):
                    raise DynsecError(entry["command"], str(response["error"]))
                results.append(response)
            return results
        finally:
            for key, _, _ in slots:
                self._waiting.pop(key, None)

    def run(self, command: str, **arguments: Any) -> dict[str, Any]:
        return self.execute([{"command": command, **arguments}])[0]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
