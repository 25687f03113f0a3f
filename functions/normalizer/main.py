"""Wiring of the normalizer: its core on a lazily built bus and sensor directory, entry points."""

from __future__ import annotations

from functools import cache

from functions.normalizer.service import Normalizer
from shared import clients
from shared.entry import event_function
from shared.telemetry.sensors import cached_store_directory

__all__ = ["app", "event", "main"]

# built on the first message: the bus, the store and the settings are read then
_normalizer = cache(lambda: Normalizer(clients.bus(), cached_store_directory(clients.store)))

app, event, main = event_function(
    "normalizer",
    lambda message: _normalizer().handle(message),
    dead_letter=lambda message, error: _normalizer().dead_letter(message, error),
)
