"""The bridge's MQTT side on paho 2.x: a persistent MQTT 5 session in a shared subscription,
with manual acknowledgements handed to the core."""

from __future__ import annotations

import logging
import threading
import time
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
        # paho annotates the delays as int; it only compares and sleeps them, so 0.1 s works
        self.client.reconnect_delay_set(0.1, 2)  # type: ignore[arg-type]
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_unsubscribe = self._on_unsubscribe
        self.bridge = Bridge(bus, org_of, self._ack, settings.core)
        self._stop = threading.Event()
        self._leaving = False
        self._draining = False
        self._epoch = 0
        self._unsubacks: dict[int, threading.Event] = {}
        self._unsub_lock = threading.Lock()
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
        if not self._leaving:
            client.subscribe([(topic, 1) for topic in subscriptions(self.settings.group)])
        self.connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, p: Any) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if not self._leaving:
            _log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_unsubscribe(self, client: Any, userdata: Any, mid: int, *args: Any) -> None:
        with self._unsub_lock:
            done = self._unsubacks.pop(mid, None)
        if done is not None:
            done.set()

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self._draining:  # stopping with the session kept: the broker resends it on resume
            return
        token = (self._epoch << 16) | message.mid if message.qos else 0  # 0: nothing to ack
        content_type = getattr(message.properties, "ContentType", "") or ""
        # paho types payload bytes | bytearray (for publishing); a received one is bytes
        self.bridge.receive(message.topic, message.payload, token, content_type)  # type: ignore[arg-type]

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

    def _leave(self, timeout: float) -> bool:
        """UNSUBSCRIBE from the shared topics and wait for the UNSUBACK. The broker handles a
        connection's packets in order, so the answer also proves it has processed every PUBACK
        sent before it; from then on it routes no new message to this session."""
        done = threading.Event()
        with self._unsub_lock:  # registered before paho can see the answer
            rc, mid = self.client.unsubscribe(subscriptions(self.settings.group))
            if rc != mqtt.MQTT_ERR_SUCCESS or mid is None:
                return False
            self._unsubacks[mid] = done
        if done.wait(timeout):
            return True
        with self._unsub_lock:
            self._unsubacks.pop(mid, None)
        return False

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop cleanly; True when nothing was left owed. With `settings.keep_session` the
        session (and its shared subscriptions) stays for this bridge's next start; otherwise
        the bridge leaves the group and ends it (see `_leave_and_end`)."""
        if self.settings.keep_session:
            return self._stop_keeping(timeout)
        return self._leave_and_end(timeout)

    def _stop_keeping(self, timeout: float) -> bool:
        """Stop taking messages (those the broker still sends stay unacknowledged in the
        session, and come back on resume), publish what is held, acknowledge what the bus
        confirmed, then DISCONNECT keeping the session: the broker reads a connection's packets
        in order, so it has every PUBACK before the DISCONNECT. The subscriptions stay, so the
        broker queues the devices' messages for this bridge while it is away."""
        self._leaving = self._draining = True
        self._stop.set()
        self._flusher.join(timeout)
        done = self.bridge.wait_acked(timeout)
        self.client.disconnect()
        self.client.loop_stop()
        self.bridge.close()
        return done

    def _leave_and_end(self, timeout: float) -> bool:
        """Leave the shared subscription, publish what is held, wait until the broker has every
        acknowledgement, then end the session; True when nothing was left owed.

        Messages the broker had already queued for this session still arrive after leaving and
        are published like the others. Only when a round trip shows the broker holds nothing
        more for us does the DISCONNECT end the session (a session left behind keeps receiving
        its share from Mosquitto). Otherwise (timeout, broker gone) the session is kept with its
        unacknowledged messages until a bridge with the same client id resumes it, or expires:
        nothing the broker accepted is dropped. A crash keeps it the same way."""
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        self._leaving = True
        left_group = self.connected.is_set() and self._leave(left())
        self._stop.set()
        self._flusher.join(left())  # its last round publishes every open batch
        done = False
        while left_group and not self._flusher.is_alive():
            seen = self.bridge.stats["received"]
            if not self.bridge.wait_acked(left()) or not self._leave(left()):
                break
            if self.bridge.stats["received"] == seen:
                done = True  # the broker has read all our PUBACKs and sent nothing new
                break
            self.bridge.flush(everything=True)  # messages that were queued for this session
        props = Properties(PacketTypes.DISCONNECT)
        if done:
            props.SessionExpiryInterval = 0
        self.client.disconnect(properties=props)
        self.client.loop_stop()
        self.bridge.close()
        return done
