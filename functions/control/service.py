"""Core of device control: versioned config (retained on the broker), last state, commands."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from shared.broker import BrokerPublisher, command_topic, config_topic
from shared.control import config_path, state_path
from shared.errors import NotFound, PreconditionFailed, Unavailable, ValidationError
from shared.http import dumps
from shared.store import Store, Transaction

__all__ = ["Control", "config_view"]


def config_view(device_id: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """The API's answer for a config document (version 0 and config null before the first set)."""
    data = data or {}
    return {
        "device_id": device_id,
        "version": data.get("version", 0),
        "config": data.get("config"),
        "updated_ns": data.get("updated_ns"),
        "acknowledged_version": data.get("acknowledged_version"),
        "acknowledged_ns": data.get("acknowledged_ns"),
    }


@dataclass
class Control:
    """Operations on one organisation's devices; the caller has checked the device is theirs."""

    store: Store
    broker: BrokerPublisher | None

    def _broker(self) -> BrokerPublisher:
        if self.broker is None:
            raise Unavailable("MQTT is not configured (STRATUS_MQTT_HOST is unset)")
        return self.broker

    def get_config(self, org: str, device_id: str) -> dict[str, Any]:
        document = self.store.get(config_path(org, device_id))
        return config_view(device_id, document.data if document else None)

    def set_config(
        self, org: str, device_id: str, config: Any, if_version: int | None = None
    ) -> dict[str, Any]:
        """Store the next version, then publish it retained; a racing older publish is repaired
        by publishing the newest again."""
        broker = self._broker()
        path = config_path(org, device_id)

        def write(tx: Transaction) -> dict[str, Any]:
            current = tx.get(path)
            data = dict(current.data) if current else {}
            version = int(data.get("version", 0))
            if if_version is not None and if_version != version:
                raise PreconditionFailed(
                    f"config is at version {version}, not {if_version}", field="version"
                )
            data.update(version=version + 1, config=config, updated_ns=time.time_ns())
            tx.set(path, data)
            return data

        data = self.store.run_transaction(write)
        self._publish(broker, device_id, data)
        latest = self.store.get(path)
        if latest is not None and latest.data.get("version", 0) > data["version"]:
            data = dict(latest.data)
            self._publish(broker, device_id, data)
        return config_view(device_id, data)

    @staticmethod
    def _publish(broker: BrokerPublisher, device_id: str, data: dict[str, Any]) -> None:
        message = dumps({"version": data["version"], "config": data["config"]})
        broker.publish(config_topic(device_id), message, qos=1, retain=True)

    def get_state(self, org: str, device_id: str) -> dict[str, Any]:
        document = self.store.get(state_path(org, device_id))
        if document is None:
            raise NotFound(f"device {device_id} has not reported a state yet")
        return {"device_id": device_id, **document.data}

    def send_command(self, device_id: str, name: str, payload: bytes) -> dict[str, Any]:
        """Publish at QoS 1; `delivered` is whether a subscription of the device matched."""
        try:
            topic = command_topic(device_id, name)
        except ValueError as exc:
            raise ValidationError(str(exc), field="name") from None
        delivered = self._broker().publish(topic, payload, qos=1)
        return {"device_id": device_id, "command": name, "delivered": delivered}
