"""Entry points of the normalizer: Cloud Run (`event`), OpenWhisk (`main`), the emulator."""

from __future__ import annotations

from functools import cache

from functions.normalizer.pipeline import Normalizer
from shared import clients
from shared.errors import StratusError
from shared.events import EventFunction, Message
from shared.platforms import functions_framework, openwhisk
from shared.telemetry.sensors import cached_store_directory

__all__ = ["app", "event", "main"]


@cache
def _normalizer() -> Normalizer:
    """Built on the first message: the bus, the store and the settings are read then."""
    return Normalizer(clients.bus(), cached_store_directory(clients.store))


def _handle(message: Message) -> None:
    _normalizer().handle(message)


def _dead_letter(message: Message, error: StratusError) -> None:
    _normalizer().dead_letter(message, error)


app = EventFunction("normalizer", _handle, dead_letter=_dead_letter)
event = functions_framework.cloud_event_entry(app)
main = openwhisk.trigger_action(app)
