"""Wiring of the devices function: its core on lazily built ports, its router, its entry points."""

from __future__ import annotations

from functools import cache

from functions.devices.api import build_router
from functions.devices.service import Devices
from shared import clients
from shared.entry import http_function

__all__ = ["app", "http", "main"]

# built on the first request: the store and the broker's admin (None without MQTT)
_devices = cache(lambda: Devices(clients.store(), clients.broker_admin()))

app, http, main = http_function(
    "devices", build_router(_devices), authenticated=True, max_body_bytes=64 * 1024
)
