"""The broker port: what the platform asks of the MQTT broker (device credentials, publishing).

Devices authenticate to the broker with username = device id and password = device token; the
provisioning functions keep the broker's view in step when a device is created, its key rotated
or it is deleted. The Mosquitto adapter (`shared.broker.mosquitto`) implements it with the
dynamic-security plugin.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["BrokerAdmin", "device_topics"]


def device_topics(device_id: str) -> dict[str, list[str]]:
    """The topics a device may use: publish (telemetry, state) and subscribe (config, commands)."""
    return {
        "publish": [f"devices/{device_id}/events/#", f"devices/{device_id}/state", device_id],
        "subscribe": [f"devices/{device_id}/config", f"devices/{device_id}/commands/#"],
    }


class BrokerAdmin(Protocol):
    """Keeps device credentials in the broker; every call is idempotent."""

    def register_device(self, device_id: str, password: str) -> None:
        """Create or replace the device's credentials; a connected session with old ones is cut."""
        ...

    def remove_device(self, device_id: str) -> None:
        """Delete the device's credentials and disconnect it; no error if it is unknown."""
        ...
