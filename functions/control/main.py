"""Wiring of the control function: its gate and core on lazily built ports, router, entry points."""

from __future__ import annotations

from functools import cache

from functions.control.access import DirectoryGate
from functions.control.api import MAX_COMMAND_BYTES, build_router
from functions.control.service import Control
from shared import clients
from shared.entry import http_function

__all__ = ["app", "http", "main"]

# built on the first request: the store, and the broker publisher (None without MQTT)
_gate = cache(lambda: DirectoryGate(clients.store()))
_control = cache(lambda: Control(clients.store(), clients.broker_publisher()))

app, http, main = http_function(
    "control",
    build_router(_gate, _control),
    authenticated=True,
    max_body_bytes=MAX_COMMAND_BYTES + 1024,
)
