"""Wiring of the status function: its core on lazily built ports, its router, its entry points."""

from __future__ import annotations

from functools import cache

from functions.status.api import build_router
from functions.status.service import Status, store_check
from shared import clients
from shared.entry import http_function
from shared.settings import settings

__all__ = ["app", "http", "main"]

# Built on the first request (nothing connects at import time); the store inside its check.
_status = cache(lambda: Status(settings().project, {"store": store_check(clients.store)}))

app, http, main = http_function("status", build_router(_status))
