"""Wiring of the users function: its core on a lazily built store, its router, its entry points."""

from __future__ import annotations

from functools import cache

from functions.users.api import build_router
from functions.users.service import Users
from shared import clients
from shared.entry import http_function

__all__ = ["app", "http", "main"]

_users = cache(lambda: Users(clients.store()))  # built on the first request

app, http, main = http_function(
    "users", build_router(_users), authenticated=True, max_body_bytes=64 * 1024
)
