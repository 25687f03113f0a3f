"""Entry points of the normalizer: Cloud Run (`event`), OpenWhisk (`main`), the emulator."""

from __future__ import annotations

import os
from functools import cache

from functions.normalizer.directory import CachedSensorDirectory, load_sensors
from functions.normalizer.pipeline import Normalizer
from shared import clients
from shared.errors import StratusError
from shared.events import EventFunction, Message
from shared.platforms import functions_framework, openwhisk
from shared.settings import env_int

__all__ = ["app", "event", "main"]


@cache
def _normalizer() -> Normalizer:
    """Built on the first message: the bus, the store and the settings are read then."""
    ttl = env_int(os.environ, "STRATUS_SENSOR_CACHE_SECONDS", 5)
    directory = CachedSensorDirectory(
        lambda org, device: load_sensors(clients.store(), org, device), ttl
    )
    return Normalizer(clients.bus(), directory)


def _handle(message: Message) -> None:
    _normalizer().handle(message)


def _dead_letter(message: Message, error: StratusError) -> None:
    _normalizer().dead_letter(message, error)


app = EventFunction("normalizer", _handle, dead_letter=_dead_letter)
event = functions_framework.cloud_event_entry(app)
main = openwhisk.trigger_action(app)
