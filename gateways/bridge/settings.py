"""The bridge's settings, read once from the environment (STRATUS_MQTT_* and STRATUS_BRIDGE_*)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from gateways.bridge.service import BridgeConfig
from shared.broker import BrokerSettings
from shared.settings import MAX_BODY_BYTES_LIMIT, env_bool, env_int
from shared.topics import DEVICE_STATE, TELEMETRY_DEAD, TELEMETRY_RAW

__all__ = ["BridgeSettings"]


@dataclass(frozen=True, slots=True)
class BridgeSettings:
    """Where the broker is, who the bridge is in its shared subscription, and batch bounds.

    Each bridge process needs an account of its own: its client id is its username, so that a
    broker tying sessions to accounts (Mosquitto's `use_username_as_clientid`, or a client id
    pinned to the account) lets it, and only it, resume its persistent session."""

    broker: BrokerSettings
    client_id: str
    group: str
    session_expiry: int
    receive_maximum: int
    core: BridgeConfig
    keep_session: bool = False  # a clean stop keeps the session for this bridge's next start

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] = os.environ, broker: BrokerSettings | None = None
    ) -> BridgeSettings:
        """From STRATUS_BRIDGE_*; the broker from STRATUS_MQTT_* unless `broker` is given."""
        broker = broker or BrokerSettings.from_env(environ)
        if broker is None:
            raise ValueError("STRATUS_MQTT_HOST is not set: the bridge needs a broker")
        bridge_id = environ.get("STRATUS_BRIDGE_ID", "").strip() or socket.gethostname()
        receive_maximum = env_int(environ, "STRATUS_BRIDGE_RECEIVE_MAXIMUM", 1000, minimum=1)
        core = BridgeConfig(
            telemetry_topic=environ.get("STRATUS_BRIDGE_TELEMETRY_TOPIC", TELEMETRY_RAW),
            state_topic=environ.get("STRATUS_BRIDGE_STATE_TOPIC", DEVICE_STATE),
            dead_letter_topic=environ.get("STRATUS_BRIDGE_DEAD_LETTER_TOPIC", TELEMETRY_DEAD),
            max_messages=env_int(environ, "STRATUS_BRIDGE_MAX_MESSAGES", 500, minimum=1),
            max_bytes=env_int(environ, "STRATUS_BRIDGE_MAX_BYTES", 512 * 1024, minimum=1024),
            max_delay=env_int(environ, "STRATUS_BRIDGE_MAX_DELAY_MS", 50, minimum=1) / 1000,
            max_unacked=receive_maximum,
            bridge_id=bridge_id,
            max_payload=env_int(
                environ,
                "STRATUS_MAX_BODY_BYTES",
                1024 * 1024,
                minimum=1,
                maximum=MAX_BODY_BYTES_LIMIT,
            ),
        )
        return cls(
            broker=broker,
            client_id=broker.bridge_username,  # the session is the account's (see README.md)
            group=environ.get("STRATUS_BRIDGE_GROUP", "stratus"),
            session_expiry=env_int(environ, "STRATUS_BRIDGE_SESSION_EXPIRY", 3600, minimum=0),
            receive_maximum=receive_maximum,
            core=core,
            keep_session=env_bool(environ, "STRATUS_BRIDGE_KEEP_SESSION", False),
        )
