"""Wiring of the query function: its access rules and core on a lazily built store, its router,
its entry points."""

from __future__ import annotations

from functools import cache

from functions.query.access import Access
from functions.query.api import build_router
from functions.query.service import QueryService
from shared import clients
from shared.auth.config import auth_config
from shared.entry import http_function

__all__ = ["app", "http", "main"]

# built on the first request; a read allowed is reused as long as a revocation lookup is
_access = cache(lambda: Access(clients.store(), cache_seconds=auth_config().cache_seconds))
_service = cache(lambda: QueryService(clients.store()))

app, http, main = http_function("query", build_router(_access, _service), authenticated=True)
