"""Run a real Mosquitto prepared exactly as the emulator prepares it, and MQTT test clients."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from emulator.mosquitto import Broker, prepare
from emulator.process import free_port
from tests.support.waiting import until

__all__ = ["MqttClient", "running_broker"]


@contextmanager
def running_broker(data_dir: Path) -> Iterator[Broker]:
    broker = prepare(
        data_dir, "127.0.0.1", free_port("127.0.0.1"), free_port("127.0.0.1"), bridges=2
    )
    process = subprocess.Popen(broker.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        until(lambda: process.poll() is not None or broker.ready(), timeout=10)
        if process.poll() is not None or not broker.ready():
            raise RuntimeError("mosquitto did not start")
        broker.configure(hold_bridge_sessions=False)  # tests run the bridges they need
        yield broker
    finally:
        process.terminate()
        process.wait(10)


class MqttClient:
    """A paho MQTT v5 client that records what happens to it, for assertions."""

    def __init__(self, broker: Broker, username: str, password: str) -> None:
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.connect_reason: Any = None
        self.messages: list[mqtt.MQTTMessage] = []
        self.subacks: dict[int, list[int]] = {}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda c, u, m: self.messages.append(m)
        self.client.on_subscribe = self._on_subscribe
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self.connect_reason = reason
        (self.disconnected if reason.is_failure else self.connected).set()

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.disconnected.set()

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        self.subacks[mid] = [reason.value for reason in reasons]

    def wait_connected(self, timeout: float = 5) -> bool:
        """Whether the broker accepted the connection (False once it refused or dropped it)."""
        until(lambda: self.connected.is_set() or self.disconnected.is_set(), timeout)
        return self.connected.is_set() and not self.disconnected.is_set()

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> int:
        """Publish and return the broker's reason code (MQTT v5 PUBACK; >= 128 is refused)."""
        codes: list[int] = []
        done = threading.Event()

        def on_publish(client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
            codes.append(reason.value)
            done.set()

        self.client.on_publish = on_publish
        self.client.publish(topic, payload, qos=qos)
        if not done.wait(5):
            raise TimeoutError(f"no PUBACK for {topic}")
        return codes[0]

    def subscribe(self, topic: str) -> int:
        """Subscribe and return the broker's SUBACK reason code (>= 128 is refused)."""
        _, mid = self.client.subscribe(topic, qos=1)
        if not until(lambda: mid in self.subacks, timeout=5):
            raise TimeoutError(f"no SUBACK for {topic}")
        return self.subacks[mid][0]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
