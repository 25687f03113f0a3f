"""Wiring of the query function: its access rules and core on a lazily built store, its router,
its entry points."""

from __future__ import annotations

from functools import cache

from functions.query.access import Access
from functions.query.api import build_router
from functions.query.service import QueryService
from shared import clients
from shared.entry import http_function

__all__ = ["app", "http", "main"]

_access = cache(lambda: Access(clients.store()))  # built on the first request
_service = cache(lambda: QueryService(clients.store()))

app, http, main = http_function("query", build_router(_access, _service), authenticated=True)
