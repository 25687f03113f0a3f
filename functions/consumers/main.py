"""Wiring of the consumers function: its core on a lazily built store, router, entry points."""

from __future__ import annotations

from functools import cache

from functions.consumers.api import build_router
from functions.consumers.service import Consumers
from shared import clients
from shared.entry import http_function

__all__ = ["app", "http", "main"]

_consumers = cache(lambda: Consumers(clients.store()))  # built on the first request

app, http, main = http_function(
    "consumers", build_router(_consumers), authenticated=True, max_body_bytes=64 * 1024
)
