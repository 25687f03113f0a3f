"""One paho MQTT 5 client driven by the asyncio loop (no thread per client, paho's external-loop
hooks): `publish` returns when the broker acknowledged (QoS 1, PUBACK) or when the packet was
written to the TCP socket (QoS 0, which has no acknowledgement).

Outcomes are names the recorder understands: `puback` and `sent` succeed; `puback-<code>
<reason>` (e.g. `puback-135 Not authorized`, `puback-16 No matching subscribers`),
`disconnected` and `not-connected` do not.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

__all__ = ["ConnectRefused", "Publisher", "split_address"]


class ConnectRefused(RuntimeError):
    """The broker refused the login (CONNACK with a failure reason) or closed the connection."""


def split_address(address: str) -> tuple[str, int]:
    """`host:port` -> (host, port); a bare host means port 1883."""
    host, sep, port = address.rpartition(":")
    if not sep:
        return address, 1883
    if not port.isdigit() or not host:
        raise ValueError(f"{address!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


class Publisher:
    """A connected publishing client; create it inside the running loop, then `await connect()`."""

    def __init__(self, address: str, username: str | None, password: str | None,
                 client_id: str = "") -> None:  # fmt: skip
        self.host, self.port = split_address(address)
        self.username = username
        self._loop = asyncio.get_running_loop()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5)  # fmt: skip
        if username is not None:
            client.username_pw_set(username, password)
        client.max_inflight_messages_set(65535)  # the broker's Receive Maximum still applies
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        self.client = client
        self._connected: asyncio.Future[None] = self._loop.create_future()
        self._disconnected: asyncio.Future[None] = self._loop.create_future()
        self._pending: dict[int, asyncio.Future[str]] = {}
        self._early: dict[int, str] = {}  # acknowledged before `publish` registered its future
        self._misc: asyncio.Task[None] | None = None

    async def connect(self, timeout: float = 10.0) -> Publisher:
        """Open the TCP connection (blocking, loopback-fast) and wait for the CONNACK."""
        self.client.connect(self.host, self.port, keepalive=60)
        try:
            await asyncio.wait_for(asyncio.shield(self._connected), timeout)
        except TimeoutError:
            self.client.disconnect()
            raise ConnectRefused(f"{self._who()}: no CONNACK within {timeout} s") from None
        return self

    async def publish(self, topic: str, payload: bytes, qos: int, timeout: float = 30.0) -> str:
        """Publish and wait for the PUBACK (QoS 1) or the socket write (QoS 0)."""
        info = self.client.publish(topic, payload, qos=qos)
        reason: str | None = self._early.pop(info.mid, None)
        if info.rc != mqtt.MQTT_ERR_SUCCESS or reason is not None:
            # refused at once (not connected), or written (QoS 0) already: yield once anyway,
            # or a VU whose publishes never wait starves the loop and its clock never stops it
            await asyncio.sleep(0)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return "not-connected" if info.rc == mqtt.MQTT_ERR_NO_CONN else f"mqtt-error-{info.rc}"
        if reason is None:
            future: asyncio.Future[str] = self._loop.create_future()
            self._pending[info.mid] = future
            try:
                reason = await asyncio.wait_for(future, timeout)
            finally:
                self._pending.pop(info.mid, None)
        if reason == "ok":
            return "puback" if qos else "sent"
        return str(reason)

    async def close(self, timeout: float = 5.0) -> None:
        """DISCONNECT and wait (bounded) for the socket to close."""
        if self._connected.done() and not self._disconnected.done():
            self.client.disconnect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._disconnected), timeout)
        self._stop_misc()
        sock = self.client.socket()
        if sock is not None:
            self._on_socket_close(self.client, None, sock)

    # paho callbacks, all called on the loop's thread

    def _who(self) -> str:
        return f"{self.username or 'anonymous'}@{self.host}:{self.port}"

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if self._connected.done():
            return
        if reason.is_failure:
            self._connected.set_exception(ConnectRefused(f"{self._who()}: {reason}"))
        else:
            self._connected.set_result(None)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                       props: Any) -> None:  # fmt: skip
        if not self._connected.done():
            self._connected.set_exception(ConnectRefused(f"{self._who()}: closed ({reason})"))
        if not self._disconnected.done():
            self._disconnected.set_result(None)
        for future in self._pending.values():
            if not future.done():
                future.set_result("disconnected")  # paho would resend them after a reconnect

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        value = getattr(reason, "value", 0)
        outcome = "ok" if value == 0 else f"puback-{value} {reason}"
        future = self._pending.get(mid)
        if future is None:
            self._early[mid] = outcome
        elif not future.done():
            future.set_result(outcome)

    def _on_socket_open(self, client: Any, userdata: Any, sock: Any) -> None:
        self._loop.add_reader(sock, client.loop_read)
        self._misc = self._loop.create_task(self._misc_loop())

    def _on_socket_close(self, client: Any, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)
        self._stop_misc()

    def _on_register_write(self, client: Any, userdata: Any, sock: Any) -> None:
        self._loop.add_writer(sock, client.loop_write)

    def _on_unregister_write(self, client: Any, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_writer(sock)

    def _stop_misc(self) -> None:
        if self._misc is not None and self._misc is not asyncio.current_task():
            self._misc.cancel()
        self._misc = None

    async def _misc_loop(self) -> None:
        """Keep-alive pings and retries, once a second, as paho's own loop does."""
        with contextlib.suppress(asyncio.CancelledError):
            while self.client.loop_misc() == mqtt.MQTT_ERR_SUCCESS:
                await asyncio.sleep(1)
