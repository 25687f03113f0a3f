"""Lazily built, once-per-process clients for the ports; wiring modules call these, cores never do.

Nothing here imports a Google library until a function first asks for that client.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

from shared.settings import settings

if TYPE_CHECKING:
    from shared.broker import BrokerAdmin, BrokerPublisher, BrokerSettings
    from shared.bus import Bus
    from shared.store import Store

__all__ = ["broker_admin", "broker_publisher", "broker_settings", "bus", "store"]


@lru_cache(maxsize=1)
def store() -> Store:
    """The document store of this process (Firestore, or the emulator's when
    FIRESTORE_EMULATOR_HOST is set)."""
    from shared.store.firestore import FirestoreStore

    return FirestoreStore(settings().project)


@lru_cache(maxsize=1)
def bus() -> Bus:
    """The message bus of this process (Pub/Sub, or the emulator's when PUBSUB_EMULATOR_HOST is
    set), with publisher batching on."""
    from shared.bus.pubsub import PubSubBus

    return PubSubBus(settings().project)


@lru_cache(maxsize=1)
def broker_settings() -> BrokerSettings | None:
    """Where the MQTT broker is (STRATUS_MQTT_*), or None when MQTT is off."""
    from shared.broker import BrokerSettings

    return BrokerSettings.from_env(os.environ)


@lru_cache(maxsize=1)
def broker_admin() -> BrokerAdmin | None:
    """The broker's device-credential admin (connects on first use), or None when MQTT is off."""
    config = broker_settings()
    if config is None:
        return None
    from shared.broker.mosquitto import MosquittoAdmin

    return MosquittoAdmin(config.host, config.port, config.admin_username, config.admin_password)


@lru_cache(maxsize=1)
def broker_publisher() -> BrokerPublisher | None:
    """Publishing to devices as the API account (connects on first use); None when MQTT is off."""
    config = broker_settings()
    if config is None:
        return None
    from shared.broker.publisher import MqttPublisher

    return MqttPublisher(config.host, config.port, config.api_username, config.api_password)
