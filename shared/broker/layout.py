"""The broker's security layout on Mosquitto's dynamic security: receiving denied by default,
service roles and accounts, each account pinned to its own client id (see docs/ARCHITECTURE.md,
"Broker (MQTT)").

`apply` is idempotent and runs after every start of the emulator's broker; a cloud deployment
runs the same commands once against its own broker.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.broker import device_acls
from shared.broker.dynsec import DynamicSecurity, DynsecError

__all__ = [
    "ADMIN_ROLE",
    "API_ROLE",
    "BRIDGE_ROLE",
    "SERVICE_ROLES",
    "apply",
    "bridge_account",
    "pin_in_file",
    "role_of",
    "worker_accounts",
]

API_ROLE = "stratus-api"
BRIDGE_ROLE = "stratus-bridge"
ADMIN_ROLE = "admin"  # the role `mosquitto_ctrl dynsec init` gives the admin account


def bridge_account(n: int) -> str:
    """The account (and client id) of bridge process `n`, counting from 1."""
    return f"stratus-bridge-{n}"


def worker_accounts(n: int) -> tuple[str, str]:
    """The (API, admin) accounts of function worker process `n`, counting from 1: one MQTT
    connection per account, so every process that publishes or provisions has its own."""
    return f"stratus-api-{n}", f"stratus-admin-{n}"


def role_of(username: str) -> str:
    """The role of a service account, by its name."""
    if username.startswith("stratus-bridge-"):
        return BRIDGE_ROLE
    if username.startswith("stratus-api"):
        return API_ROLE
    if username.startswith("stratus-admin"):
        return ADMIN_ROLE
    raise ValueError(f"{username!r} is not a service account")


def _acl(acltype: str, topic: str) -> dict[str, object]:
    return {"acltype": acltype, "topic": topic, "allow": True}


SERVICE_ROLES: dict[str, list[dict[str, object]]] = {
    # the bridges read device telemetry and state through shared subscriptions, nothing else
    BRIDGE_ROLE: [
        _acl("subscribePattern", "$share/+/devices/#"),
        _acl("subscribePattern", "$share/+/+"),
        _acl("publishClientReceive", "devices/+/events/#"),
        _acl("publishClientReceive", "devices/+/state"),
        _acl("publishClientReceive", "+"),
    ],
    # the API sends device config (retained) and commands; it subscribes to and reads nothing
    API_ROLE: [
        _acl("publishClientSend", "devices/+/config"),
        _acl("publishClientSend", "devices/+/commands/#"),
    ],
}
# the admin keeps only the dynamic-security control topics (`init` also grants it `#`)
_ADMIN_EXTRAS = [
    ("publishClientReceive", "#"),
    ("subscribePattern", "#"),
    ("publishClientReceive", "$SYS/#"),
    ("subscribePattern", "$SYS/#"),
]
# nothing is delivered to a client unless one of its roles allows the topic
DEFAULT_ACCESS = [
    {"acltype": "publishClientSend", "allow": False},
    {"acltype": "publishClientReceive", "allow": False},
    {"acltype": "subscribe", "allow": False},
    {"acltype": "unsubscribe", "allow": True},
]
# accounts of an older layout: one shared by every bridge, one shared by every API process
LEGACY_ACCOUNTS = ("stratus-bridge", "stratus-api")


def _ignoring(dynsec: DynamicSecurity, command: str, tolerated: str, **arguments: Any) -> None:
    try:
        dynsec.run(command, **arguments)
    except DynsecError as exc:
        if tolerated not in exc.message.lower():
            raise


def _role(dynsec: DynamicSecurity, name: str, acls: list[dict[str, object]]) -> None:
    try:
        dynsec.run("createRole", rolename=name, acls=acls)
    except DynsecError as exc:
        if "already exists" not in exc.message:
            raise
        for acl in acls:  # a role of an older layout gains what it lacks
            _ignoring(dynsec, "addRoleACL", "already exists", rolename=name, **acl)


def _account(dynsec: DynamicSecurity, username: str, password: str, role: str) -> None:
    """Create the account, or bring an existing one to its role; either way it is pinned to the
    client id equal to its username (no other client id logs in with it)."""
    try:
        dynsec.run(
            "createClient",
            username=username,
            password=password,
            clientid=username,
            roles=[{"rolename": role}],
        )
    except DynsecError as exc:
        if "already exists" not in exc.message:
            raise
        # the password was set when it was created (accounts and dynamic-security file live
        # together); setting it again would disconnect a process logged in with it
        found = dynsec.run("getClient", username=username)["data"]["client"]
        if found.get("clientid") != username:
            dynsec.run("setClientId", username=username, clientid=username)
        if role not in {str(r.get("rolename")) for r in found.get("roles", [])}:
            dynsec.run("addClientRole", username=username, rolename=role)


def pin_in_file(path: Path, username: str) -> None:
    """Pin an account to its own client id in a dynamic-security file, while the broker is
    stopped (pinning the account a command comes from would disconnect that command)."""
    data = json.loads(path.read_text())
    for client in data.get("clients", []):
        if client.get("username") == username and client.get("clientid") != username:
            client["clientid"] = username
            temp = path.with_name(path.name + ".tmp")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(data, out, indent=2)
            temp.replace(path)


def _pin_devices(dynsec: DynamicSecurity) -> int:
    """Bring device accounts of an older layout up to date: pinned client id, receive grants."""
    listing = dynsec.run("listClients", verbose=True, count=-1, offset=0)
    commands: list[dict[str, Any]] = []
    for client in listing.get("data", {}).get("clients", []):
        username = str(client.get("username", ""))
        roles = {str(r.get("rolename")) for r in client.get("roles", [])}
        if f"device-{username}" not in roles:
            continue
        if client.get("clientid") != username:
            commands.append({"command": "setClientId", "username": username, "clientid": username})
        for acl in device_acls(username):
            if acl["acltype"] == "publishClientReceive":
                commands.append({"command": "addRoleACL", "rolename": f"device-{username}", **acl})
    for command in commands:
        _ignoring(dynsec, command.pop("command"), "already exists", **command)
    return len(commands)


def apply(
    dynsec: DynamicSecurity,
    accounts: Mapping[str, str],
    *,
    admin: str = "stratus-admin",
    migrate: bool = False,
) -> None:
    """Make the broker's layout what the platform expects.

    `accounts` maps every service username to its password: `admin` (the account `dynsec`
    is logged in as, left as it is: pin it with `pin_in_file` before the broker starts), and
    the accounts of `bridge_account(n)` and `worker_accounts(n)`. Every account is pinned to the
    client id equal to its username and holds one connection at a time. `migrate` also updates
    device accounts created by an older layout (pins and receive grants) and removes the
    accounts that several processes shared before.
    """
    dynsec.run("setDefaultACLAccess", acls=DEFAULT_ACCESS)
    for acltype, topic in _ADMIN_EXTRAS:
        _ignoring(dynsec, "removeRoleACL", "not found", rolename=ADMIN_ROLE, acltype=acltype,
                  topic=topic)  # fmt: skip
    for name, acls in SERVICE_ROLES.items():
        _role(dynsec, name, acls)
    for username, password in accounts.items():
        if username != admin:
            _account(dynsec, username, password, role_of(username))
    if migrate:
        for legacy in LEGACY_ACCOUNTS:
            if legacy not in accounts:
                _ignoring(dynsec, "deleteClient", "not found", username=legacy)
        _pin_devices(dynsec)
