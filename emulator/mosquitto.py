"""Mosquitto for the emulator: a generated configuration, dynamic security, service accounts.

Devices log in with their id and token (see shared/broker). Three service accounts are generated
once per data directory and kept in `<data-dir>/mosquitto/accounts.json` (mode 0600):
`stratus-admin` (administers dynamic security), `stratus-bridge` (reads device traffic through a
shared subscription) and `stratus-api` (publishes device config and commands). Anonymous access
is off.
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
from dataclasses import dataclass
from pathlib import Path

from shared.broker.dynsec import DynamicSecurity, DynsecError

__all__ = ["INSTALL_HINT", "Broker", "MosquittoMissing", "prepare"]

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
SERVICE_ROLES: dict[str, list[dict[str, object]]] = {
    "stratus-bridge": [
        {"acltype": "subscribePattern", "topic": "$share/+/devices/#", "allow": True},
        {"acltype": "subscribePattern", "topic": "$share/+/+", "allow": True},
        {"acltype": "subscribePattern", "topic": "devices/#", "allow": True},
    ],
    "stratus-api": [
        {"acltype": "publishClientSend", "topic": "devices/+/config", "allow": True},
        {"acltype": "publishClientSend", "topic": "devices/+/commands/#", "allow": True},
    ],
}


class MosquittoMissing(RuntimeError):
    """mosquitto or its dynamic-security plugin is not on this machine."""


@dataclass(frozen=True)
class Broker:
    """A prepared broker: how to start it and the accounts the platform uses."""

    argv: list[str]
    host: str
    port: int
    ws_port: int
    accounts: dict[str, str]  # username -> password

    def env(self) -> dict[str, str]:
        """Variables telling functions and the bridge where the broker is and how to log in."""
        return {
            "STRATUS_MQTT_HOST": self.host,
            "STRATUS_MQTT_PORT": str(self.port),
            "STRATUS_MQTT_WS_PORT": str(self.ws_port),
            "STRATUS_MQTT_ADMIN_USERNAME": "stratus-admin",
            "STRATUS_MQTT_ADMIN_PASSWORD": self.accounts["stratus-admin"],
            "STRATUS_MQTT_BRIDGE_USERNAME": "stratus-bridge",
            "STRATUS_MQTT_BRIDGE_PASSWORD": self.accounts["stratus-bridge"],
            "STRATUS_MQTT_API_USERNAME": "stratus-api",
            "STRATUS_MQTT_API_PASSWORD": self.accounts["stratus-api"],
        }

    def ready(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def configure(self) -> None:
        """Create or refresh the service accounts (idempotent; run after every start)."""
        admin = DynamicSecurity(
            self.host, self.port, "stratus-admin", self.accounts["stratus-admin"]
        )
        try:
            for name, acls in SERVICE_ROLES.items():
                try:
                    admin.run("createRole", rolename=name, acls=acls)
                except DynsecError as exc:
                    if "already exists" not in exc.message:
                        raise
                try:
                    admin.run(
                        "createClient",
                        username=name,
                        password=self.accounts[name],
                        roles=[{"rolename": name}],
                    )
                except DynsecError as exc:
                    if "already exists" not in exc.message:
                        raise
        finally:
            admin.close()


def _find() -> tuple[str, str, str]:
    binary = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)), None
    )
    ctrl = shutil.which("mosquitto_ctrl")
    plugin = next((p for pattern in _PLUGIN_GLOBS for p in sorted(glob.glob(pattern))), None)
    if not (binary and ctrl and plugin):
        raise MosquittoMissing(INSTALL_HINT)
    return binary, ctrl, plugin


def _write_private(path: Path, text: str) -> None:
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    temp.replace(path)


def prepare(data_dir: Path, host: str, port: int, ws_port: int) -> Broker:
    """Write the configuration (and, on first start, the accounts and dynamic-security file)."""
    binary, ctrl, plugin = _find()
    home = data_dir / "mosquitto"
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    accounts_file = home / "accounts.json"
    if accounts_file.exists():
        accounts = json.loads(accounts_file.read_text())
    else:
        accounts = {name: secrets.token_urlsafe(24) for name in ("stratus-admin", *SERVICE_ROLES)}
        _write_private(accounts_file, json.dumps(accounts, indent=2))
    dynsec_file = home / "dynamic-security.json"
    if not dynsec_file.exists():
        subprocess.run(
            [ctrl, "dynsec", "init", str(dynsec_file), "stratus-admin", accounts["stratus-admin"]],
            check=True,
            capture_output=True,
        )
    conf = home / "mosquitto.conf"
    conf.write_text(
        "# Generated by the Stratus emulator at every start; edit emulator/mosquitto.py instead.\n"
        f"user {getpass.getuser()}\n"  # run as us even when we are root (it would switch)
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        f"listener {port} {host}\n"
        "protocol mqtt\n"
        f"listener {ws_port} {host}\n"
        "protocol websockets\n"
        f"plugin {plugin}\n"
        f"plugin_opt_config_file {dynsec_file}\n"
        "persistence true\n"
        f"persistence_location {home}/\n"
        "autosave_interval 30\n"
        "max_queued_messages 100000\n"
        "max_inflight_messages 1000\n"
        "log_dest stdout\n"
        "log_type error\nlog_type warning\nlog_type notice\n"
        "connection_messages false\n"
    )
    return Broker([binary, "-c", str(conf)], host, port, ws_port, accounts)
