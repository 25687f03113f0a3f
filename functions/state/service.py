"""Core of the state function: keep each device's newest reported state, and the config version
it acknowledged (`config_version` in the state)."""

from __future__ import annotations

from typing import Any

from shared.control import config_path, state_path
from shared.errors import BadRequest, ValidationError
from shared.events import Message
from shared.store import Store, Transaction

__all__ = ["newest_state", "store_state"]


def newest_state(message: Message) -> tuple[str, str, int, dict[str, Any]]:
    """(org, device, received_ns, state) of the newest entry of a state batch message."""
    org, device = message.attributes.get("org", ""), message.attributes.get("device", "")
    if not org or not device:
        raise BadRequest("state message without org and device attributes")
    entries = message.json()
    if not isinstance(entries, list) or not entries:
        raise ValidationError("state message must be a non-empty array of entries")
    newest: dict[str, Any] | None = None
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("payload"), dict):
            raise ValidationError("state entry must be an object with a payload object")
        if not isinstance(entry.get("received_ns"), int):
            raise ValidationError("state entry needs an integer received_ns", field="received_ns")
        if newest is None or entry["received_ns"] >= newest["received_ns"]:
            newest = entry
    assert newest is not None
    return org, device, newest["received_ns"], newest["payload"]


def store_state(store: Store, message: Message) -> bool:
    """Store the newest state unless a newer one is already stored; True when it was stored.
    Idempotent: a redelivered message changes nothing."""
    org, device, received_ns, state = newest_state(message)
    transport = message.attributes.get("transport", "mqtt")
    version = state.get("config_version")
    acknowledged = version if isinstance(version, int) and not isinstance(version, bool) else None

    def write(tx: Transaction) -> bool:
        config = tx.get(config_path(org, device)) if acknowledged is not None else None
        current = tx.get(state_path(org, device))
        if current is not None and current.data.get("received_ns", 0) >= received_ns:
            return False
        tx.set(
            state_path(org, device),
            {"state": state, "received_ns": received_ns, "transport": transport},
        )
        if acknowledged is not None:
            fields = {"acknowledged_version": acknowledged, "acknowledged_ns": received_ns}
            if config is None:
                tx.set(config_path(org, device), {"version": 0, "config": None, **fields})
            else:
                tx.update(config_path(org, device), fields)
        return True

    return store.run_transaction(write)
