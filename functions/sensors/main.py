"""Wiring of the sensors function: its core on lazily built ports, its router, its entry points."""

from __future__ import annotations

from functools import cache

from functions.sensors.api import build_router
from functions.sensors.service import Sensors
from shared import clients
from shared.entry import http_function

__all__ = ["app", "http", "main"]

_sensors = cache(lambda: Sensors(clients.store()))  # built on the first request

app, http, main = http_function(
    "sensors", build_router(_sensors), authenticated=True, max_body_bytes=64 * 1024
)
