"""Mosquitto for the emulator: a generated configuration, dynamic security, service accounts.

Devices log in with their id and token (see shared/broker). On both listeners (MQTT and MQTT
over WebSockets) Mosquitto replaces every client id by the username, and every account is also
pinned to that client id in dynamic security: a session belongs to its account, and no other
account can take it over or read it. Service accounts are generated once per data directory
and kept in `<data-dir>/mosquitto/accounts.json` (mode 0600): `stratus-admin` (the emulator's
own administration), one `stratus-bridge-<n>` per bridge process, and per function worker
process a `stratus-api-<n>` (publishes device config and commands) and a `stratus-admin-<n>`
(provisions devices). Anonymous access is off; the security layout is `shared.broker.layout`.
"""

from __future__ import annotations

import getpass
import glob
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from emulator.netif import interface_of
from emulator.process import write_private
from shared.broker import layout
from shared.broker.dynsec import DynamicSecurity

__all__ = ["INSTALL_HINT", "PACKET_OVERHEAD", "Broker", "MosquittoMissing", "prepare"]

INSTALL_HINT = (
    "Mosquitto 2.x is not installed: install it with `sudo apt-get install mosquitto` "
    "(or run `make deps`); MQTT is off until then"
)
_PLUGIN_GLOBS = (
    "/usr/lib/*/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
    "/usr/lib/*/mosquitto/mosquitto_dynamic_security.so",
)
ADMIN = "stratus-admin"
BRIDGE_GROUP = "stratus"  # the bridges' shared-subscription group (STRATUS_BRIDGE_GROUP)
BRIDGE_SESSION_EXPIRY = 3600  # as the bridges ask (STRATUS_BRIDGE_SESSION_EXPIRY)
# a PUBLISH packet's bytes beyond its payload: fixed header, topic (up to 64 KiB), packet id
# and MQTT 5 properties; a payload above the body limit that fits under it is dead-lettered
PACKET_OVERHEAD = 64 * 1024 + 1024
LAYOUT_VERSION = "2"  # pinned sessions, receive denied by default, one account per bridge


class MosquittoMissing(RuntimeError):
    """mosquitto or its dynamic-security plugin is not on this machine."""


@dataclass(frozen=True)
class Broker:
    """A prepared broker: how to start it and the accounts the platform uses."""

    argv: list[str]
    host: str
    port: int  # MQTT
    ws_port: int  # MQTT over WebSockets
    accounts: dict[str, str]  # username -> password
    bridges: int = 1
    workers: int = 1
    home: Path | None = field(default=None, compare=False)

    @property
    def local_host(self) -> str:
        """Where the platform's own processes reach the broker."""
        return _connectable(self.host)

    def env(self) -> dict[str, str]:
        """Where the broker is; each process adds its own login (`bridge_env`; function workers
        claim theirs with `emulator.host.accounts.claim_accounts`)."""
        return {"STRATUS_MQTT_HOST": self.local_host, "STRATUS_MQTT_PORT": str(self.port)}

    def bridge_env(self, n: int) -> dict[str, str]:
        """The login of bridge process `n` (its own account, so its own session)."""
        name = layout.bridge_account(n)
        return {
            "STRATUS_MQTT_BRIDGE_USERNAME": name,
            "STRATUS_MQTT_BRIDGE_PASSWORD": self.accounts[name],
        }

    def login(self, username: str) -> tuple[str, int, str, str]:
        """(host, port, username, password) of a service account."""
        return self.local_host, self.port, username, self.accounts[username]

    def ready(self) -> bool:
        try:
            with socket.create_connection((self.local_host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def configure(self, *, hold_bridge_sessions: bool = True) -> None:
        """Apply the security layout (idempotent; run after every start). Device accounts of an
        older layout are brought up to date once. `hold_bridge_sessions`: subscribe every
        bridge's session at once (`_hold_session`); only for a platform that runs them all (an
        offline member of a shared subscription still gets its share of the messages)."""
        marker = self.home / "layout" if self.home else None
        migrate = marker is not None and (
            not marker.exists() or marker.read_text().strip() != LAYOUT_VERSION
        )
        bridges = [layout.bridge_account(n) for n in range(1, self.bridges + 1)]
        held = set()
        if hold_bridge_sessions and not migrate:  # first of all: devices reconnect at once
            held = {account for account in bridges if self._hold_session(account)}
        admin = DynamicSecurity(*self.login(ADMIN))
        try:
            layout.apply(admin, self.accounts, admin=ADMIN, migrate=migrate)
        finally:
            admin.close()
        if marker is not None and migrate:
            write_private(marker, LAYOUT_VERSION + "\n")
        for account in bridges if hold_bridge_sessions else []:
            if account not in held and not self._hold_session(account):
                raise RuntimeError(f"the broker did not take {account}'s subscriptions")

    def _hold_session(self, account: str) -> bool:
        """Subscribe bridge `account`'s persistent session to the shared topics now, before its
        bridge runs. Mosquitto 2.0 restores an offline session's shared subscriptions from its
        snapshot without routing messages to them again: until the bridge re-subscribed, the
        devices' messages would be acknowledged and dropped. Held here, they queue for it.
        False when the broker refused the login (the account does not exist yet)."""
        from gateways.bridge.mqtt import subscriptions

        done = threading.Event()
        # manual_ack, never acknowledging: what the session holds (messages queued or in flight
        # to the bridge when the broker stopped) stays in it for the bridge
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=account, protocol=mqtt.MQTTv5, manual_ack=True
        )

        def on_connect(c: mqtt.Client, u: Any, flags: Any, reason: Any, props: Any) -> None:
            if reason.is_failure:
                done.set()
            else:
                c.subscribe([(topic, 1) for topic in subscriptions(BRIDGE_GROUP)])

        client.username_pw_set(account, self.accounts[account])
        client.on_connect = on_connect
        subscribed = threading.Event()

        def on_subscribe(*args: Any) -> None:
            subscribed.set()
            done.set()

        client.on_subscribe = on_subscribe
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = BRIDGE_SESSION_EXPIRY
        props.ReceiveMaximum = 1  # the broker sends it at most one of them meanwhile
        # clean_start=False: Mosquitto 2.0 keeps no other MQTT 5 session across its restarts
        client.connect(self.local_host, self.port, clean_start=False, properties=props)
        client.loop_start()
        try:
            return done.wait(10) and subscribed.is_set()
        finally:
            client.disconnect()  # the session stays, with its subscriptions
            client.loop_stop()


def _connectable(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host


def _find() -> tuple[str, str, str]:
    binary = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)), None
    )
    ctrl = shutil.which("mosquitto_ctrl")
    plugin = next((p for pattern in _PLUGIN_GLOBS for p in sorted(glob.glob(pattern))), None)
    if not (binary and ctrl and plugin):
        raise MosquittoMissing(INSTALL_HINT)
    return binary, ctrl, plugin


def _accounts(path: Path, bridges: int, workers: int) -> dict[str, str]:
    """The service accounts of this data directory, adding those more processes need."""
    accounts: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = [ADMIN, *(layout.bridge_account(n) for n in range(1, bridges + 1))]
    wanted += [name for n in range(1, workers + 1) for name in layout.worker_accounts(n)]
    missing = [name for name in wanted if name not in accounts]
    stale = [name for name in layout.LEGACY_ACCOUNTS if name in accounts]
    for name in missing:
        accounts[name] = secrets.token_urlsafe(24)
    for name in stale:
        del accounts[name]
    if missing or stale:
        write_private(path, json.dumps(accounts, indent=2))
    return accounts


def _ws_listener(port: int, host: str) -> str:
    """Mosquitto 2.0's WebSockets listener (libwebsockets) binds to an interface name, not an
    address: `listener 9001 127.0.0.1` listens on every interface. Name the interface that
    holds `host` instead."""
    if host in ("", "0.0.0.0", "::"):
        return f"listener {port}"
    name = interface_of(host)
    if name is None:
        raise ValueError(
            f"MQTT over WebSockets cannot listen on {host!r}: no network interface of this "
            "machine has that address (use one of its addresses, or 0.0.0.0)"
        )
    return f"listener {port} {name}"


def prepare(
    data_dir: Path,
    host: str,
    port: int,
    ws_port: int,
    *,
    bridges: int = 1,
    workers: int = 1,
    max_payload: int = 1024 * 1024,
    autosave_changes: int = 10,
) -> Broker:
    """Write the configuration (and, on first start, the accounts and dynamic-security file).

    `max_payload` is the platform's body limit (STRATUS_MAX_BODY_BYTES): the broker cuts a
    client that sends a larger packet (payload plus PACKET_OVERHEAD), so nothing it could never
    deliver is acknowledged; MQTT 5 clients learn the bound in the CONNACK. The broker writes
    its snapshot after `autosave_changes` changes (acknowledgements, queued messages,
    subscriptions, retained messages) besides the emulator's SIGUSR1 every half second: what it
    acknowledged since is lost to a kill -9 (docs/ARCHITECTURE.md, "Broker (MQTT)").
    """
    binary, ctrl, plugin = _find()
    home = data_dir / "mosquitto"
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    accounts = _accounts(home / "accounts.json", bridges, workers)
    dynsec_file = home / "dynamic-security.json"
    if not dynsec_file.exists():
        subprocess.run(
            [ctrl, "dynsec", "init", str(dynsec_file), ADMIN, accounts[ADMIN]],
            check=True,
            capture_output=True,
        )
        dynsec_file.chmod(0o600)
    layout.pin_in_file(dynsec_file, ADMIN)
    conf = home / "mosquitto.conf"
    write_private(
        conf,
        "# Generated by the Stratus emulator at every start; edit emulator/mosquitto.py instead.\n"
        f"user {getpass.getuser()}\n"  # run as us even when we are root (it would switch)
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        "# a session belongs to its account: the client id becomes the username\n"
        f"listener {port} {host}\n"
        "protocol mqtt\n"
        "use_username_as_clientid true\n"
        f"{_ws_listener(ws_port, host)}\n"
        "protocol websockets\n"
        "use_username_as_clientid true\n"
        f"plugin {plugin}\n"
        f"plugin_opt_config_file {dynsec_file}\n"
        f"max_packet_size {max_payload + PACKET_OVERHEAD}\n"
        "persistence true\n"
        f"persistence_location {home}/\n"
        "autosave_on_changes true\n"
        f"autosave_interval {autosave_changes}\n"  # with on_changes: a count of changes
        "max_queued_messages 100000\n"
        "max_inflight_messages 1000\n"
        "log_dest stdout\n"
        "log_type error\nlog_type warning\nlog_type notice\n"
        "connection_messages false\n",
    )
    return Broker([binary, "-c", str(conf)], host, port, ws_port, accounts, bridges, workers, home)
