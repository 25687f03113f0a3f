"""Wiring of the alerts function: its core on lazily built ports, its router, its entry points."""

from __future__ import annotations

from functools import cache

from functions.alerts.api import build_router
from functions.alerts.service import Alerts
from shared import clients
from shared.entry import http_function

__all__ = ["app", "http", "main"]

_alerts = cache(lambda: Alerts(clients.store(), clients.bus))

app, http, main = http_function(
    "alerts", build_router(_alerts, clients.store), authenticated=True, max_body_bytes=4096
)
