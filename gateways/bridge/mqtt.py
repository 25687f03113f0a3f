"""The bridge's MQTT side on paho 2.x: a persistent MQTT 5 session in a shared subscription,
with manual acknowledgements handed to the core."""

from __future__ import annotations

import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateways.bridge.service import Bridge, Bus
from gateways.bridge.settings import BridgeSettings

__all__ = ["MqttBridge", "subscriptions"]

_log = logging.getLogger("stratus.bridge")


def subscriptions(group: str) -> list[str]:
    """Device telemetry, state and the bare `{id}` topic, shared among the group's bridges
    (config and commands stay out, so the API's delivery reports stay true)."""
    return [
        f"$share/{group}/devices/+/events/#",
        f"$share/{group}/devices/+/state",
        f"$share/{group}/+",
    ]


class MqttBridge:
    """One bridge process: a paho client feeding a `Bridge` and a flusher thread."""

    def __init__(self, settings: BridgeSettings, bus: Bus, org_of: Any) -> None:
        self.settings = settings
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        self.client.username_pw_set(
            settings.broker.bridge_username, settings.broker.bridge_password
        )
        self.client.reconnect_delay_set(0.1, 2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.bridge = Bridge(bus, org_of, self._ack, settings.core)
        self._stop = threading.Event()
        self._epoch = 0
        self._flusher = threading.Thread(
            target=self.bridge.run, args=(self._stop,), name="bridge-flusher", daemon=True
        )

    def _ack(self, tokens: list[int]) -> None:
        # a token is (connection epoch << 16) | packet id: after a reconnect the broker resends
        # what was unacknowledged, and a stale ack could hit a new message reusing the id
        epoch = self._epoch
        for token in tokens:
            if token and token >> 16 == epoch:
                self.client.ack(token & 0xFFFF, 1)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, p: Any) -> None:
        if reason.is_failure:
            _log.error("the broker refused the bridge's login: %s", reason)
            return
        _log.info("connected as %s (session present: %s)", self.settings.client_id,
                  flags.session_present)  # fmt: skip
        self._epoch += 1
        client.subscribe([(topic, 1) for topic in subscriptions(self.settings.group)])
        self.connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, p: Any) -> None:
        self.connected.clear()
        _log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        token = (self._epoch << 16) | message.mid if message.qos else 0  # 0: nothing to ack
        content_type = getattr(message.properties, "ContentType", "") or ""
        self.bridge.receive(message.topic, message.payload, token, content_type)

    def start(self) -> None:
        """Connect (retrying in the background until the broker answers) and start flushing."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.session_expiry
        props.ReceiveMaximum = self.settings.receive_maximum
        broker = self.settings.broker
        self.client.connect_async(
            broker.host, broker.port, keepalive=30, clean_start=False, properties=props
        )
        self.client.loop_start()
        self._flusher.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop taking messages, publish what is held, wait for the acks; True when all were.

        A clean stop ends the persistent session; a crash keeps it (with its unacknowledged
        messages) until a bridge with the same client id resumes it or it expires."""
        self.client.on_message = lambda *args: None  # leave later ones to the broker's session
        self._stop.set()
        self._flusher.join(timeout)
        done = self.bridge.wait_acked(timeout)
        props = Properties(PacketTypes.DISCONNECT)
        if done:  # nothing is owed: end the session, or the broker keeps sharing messages with it
            props.SessionExpiryInterval = 0
        self.client.disconnect(properties=props)
        self.client.loop_stop()
        return done
