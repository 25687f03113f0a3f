"""Wiring of the orgs function: its core on a lazily built store, its router, its entry points."""

from __future__ import annotations

from functools import cache

from functions.orgs.api import build_router
from functions.orgs.service import Orgs
from shared import clients
from shared.entry import http_function

__all__ = ["app", "http", "main"]

_orgs = cache(lambda: Orgs(clients.store()))  # built on the first request

app, http, main = http_function(
    "orgs", build_router(_orgs), authenticated=True, max_body_bytes=16 * 1024
)
