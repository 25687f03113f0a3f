"""Lazily built, once-per-process clients for the ports; wiring modules call these, cores never do.

Nothing here imports a Google library until a function first asks for that client.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import update_wrapper
from typing import TYPE_CHECKING, Generic, TypeVar

from shared.settings import settings

if TYPE_CHECKING:
    from shared.broker import BrokerAdmin, BrokerPublisher, BrokerSettings
    from shared.bus import Bus
    from shared.store import Store

__all__ = ["broker_admin", "broker_publisher", "broker_settings", "bus", "once", "store"]

T = TypeVar("T")


class once(Generic[T]):  # a decorator, named like functools.cache
    """`functools.cache` for a builder of no arguments, but thread-safe: concurrent first calls
    build exactly once (lru_cache may build twice, and two MQTT clients of one account kick each
    other off the broker for as long as they live). `cache_clear()` forgets the value."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._built: list[T] = []
        update_wrapper(self, build)

    def __call__(self) -> T:
        if not self._built:
            with self._lock:
                if not self._built:
                    self._built.append(self._build())
        return self._built[0]

    def cache_clear(self) -> None:
        with self._lock:
            self._built.clear()


@once
def store() -> Store:
    """The document store of this process (Firestore, or the emulator's when
    FIRESTORE_EMULATOR_HOST is set)."""
    from shared.store.firestore import FirestoreStore

    return FirestoreStore(settings().project)


@once
def bus() -> Bus:
    """The message bus of this process (Pub/Sub, or the emulator's when PUBSUB_EMULATOR_HOST is
    set), with publisher batching on."""
    from shared.bus.pubsub import PubSubBus

    return PubSubBus(settings().project)


@once
def broker_settings() -> BrokerSettings | None:
    """Where the MQTT broker is (STRATUS_MQTT_*), or None when MQTT is off."""
    from shared.broker import BrokerSettings

    return BrokerSettings.from_env(os.environ)


@once
def broker_admin() -> BrokerAdmin | None:
    """The broker's device-credential admin (connects on first use), or None when MQTT is off."""
    config = broker_settings()
    if config is None:
        return None
    from shared.broker.mosquitto import MosquittoAdmin

    return MosquittoAdmin(config.host, config.port, config.admin_username, config.admin_password)


@once
def broker_publisher() -> BrokerPublisher | None:
    """Publishing to devices as the API account (connects on first use); None when MQTT is off."""
    config = broker_settings()
    if config is None:
        return None
    from shared.broker.publisher import MqttPublisher

    return MqttPublisher(config.host, config.port, config.api_username, config.api_password)
