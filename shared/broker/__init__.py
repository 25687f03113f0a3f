"""The broker port: what the platform asks of the MQTT broker (device credentials, publishing).

Devices authenticate to the broker with username = device id and password = device token; the
provisioning functions keep the broker's view in step when a device is created, its key rotated
or it is deleted. The Mosquitto adapter (`shared.broker.mosquitto`) implements `BrokerAdmin` with
the dynamic-security plugin; `shared.broker.publisher` implements `BrokerPublisher` on paho.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from shared.settings import env_int

__all__ = [
    "BrokerAdmin",
    "BrokerPublisher",
    "BrokerSettings",
    "command_topic",
    "config_topic",
    "device_acls",
    "device_topics",
    "state_topic",
]

COMMAND_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def device_topics(device_id: str) -> dict[str, list[str]]:
    """The topics a device may use: publish (telemetry, state) and subscribe (config, commands)."""
    return {
        "publish": [f"devices/{device_id}/events/#", f"devices/{device_id}/state", device_id],
        "subscribe": [f"devices/{device_id}/config", f"devices/{device_id}/commands/#"],
    }


def device_acls(device_id: str) -> list[dict[str, object]]:
    """The device's dynamic-security ACLs: publish its own topics, subscribe to and receive
    only its config and commands (nothing else is ever delivered to it)."""
    topics = device_topics(device_id)
    return (
        [_allow("publishClientSend", topic) for topic in topics["publish"]]
        + [_allow("subscribePattern", topic) for topic in topics["subscribe"]]
        + [_allow("publishClientReceive", topic) for topic in topics["subscribe"]]
    )


def _allow(acltype: str, topic: str) -> dict[str, object]:
    return {"acltype": acltype, "topic": topic, "allow": True}


def config_topic(device_id: str) -> str:
    """Where the device's latest configuration is kept (retained)."""
    return f"devices/{device_id}/config"


def state_topic(device_id: str) -> str:
    """Where the device reports its state."""
    return f"devices/{device_id}/state"


def command_topic(device_id: str, name: str) -> str:
    """Where a one-shot command `name` is sent; `name` must match COMMAND_NAME."""
    if not COMMAND_NAME.match(name):
        raise ValueError(f"command name {name!r} must match {COMMAND_NAME.pattern}")
    return f"devices/{device_id}/commands/{name}"


class BrokerAdmin(Protocol):
    """Keeps device credentials in the broker; every call is idempotent."""

    def register_device(self, device_id: str, password: str) -> None:
        """Create or replace the device's credentials; a connected session with old ones is cut."""
        ...

    def remove_device(self, device_id: str) -> None:
        """Delete the device's credentials and disconnect it; no error if it is unknown."""
        ...


class BrokerPublisher(Protocol):
    """Publishes to devices as the platform's API account."""

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Publish and wait for the broker; True when a subscription matched (the message will
        reach a device, now or from its persistent session), False when nobody is subscribed.
        Raises Unavailable when the broker is unreachable or refuses the publish."""
        ...


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where the broker is and the service accounts' logins, from STRATUS_MQTT_* variables."""

    host: str
    port: int = 1883
    admin_username: str = "stratus-admin"
    admin_password: str = ""
    api_username: str = "stratus-api"
    api_password: str = ""
    bridge_username: str = "stratus-bridge-1"
    bridge_password: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> BrokerSettings | None:
        """The settings, or None when STRATUS_MQTT_HOST is unset (MQTT is off)."""
        host = environ.get("STRATUS_MQTT_HOST", "").strip()
        if not host:
            return None
        get = environ.get
        return cls(
            host=host,
            port=env_int(environ, "STRATUS_MQTT_PORT", 1883, minimum=1),
            admin_username=get("STRATUS_MQTT_ADMIN_USERNAME", "stratus-admin"),
            admin_password=get("STRATUS_MQTT_ADMIN_PASSWORD", ""),
            api_username=get("STRATUS_MQTT_API_USERNAME", "stratus-api"),
            api_password=get("STRATUS_MQTT_API_PASSWORD", ""),
            bridge_username=get("STRATUS_MQTT_BRIDGE_USERNAME", "stratus-bridge-1"),
            bridge_password=get("STRATUS_MQTT_BRIDGE_PASSWORD", ""),
        )
