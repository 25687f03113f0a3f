"""Wiring of the users function: its core on a lazily built store, its router, its entry points."""

from __future__ import annotations

import os
from functools import cache

from functions.users.api import build_router
from functions.users.limits import SigninLimits
from functions.users.service import Users
from shared import clients
from shared.entry import http_function
from shared.settings import env_int, settings

__all__ = ["app", "http", "main"]


def _core() -> Users:
    store, environ = clients.store(), os.environ
    limits = SigninLimits.of(
        store,
        user_attempts=env_int(environ, "STRATUS_SIGNIN_USER_ATTEMPTS", 10, minimum=1),
        client_attempts=env_int(environ, "STRATUS_SIGNIN_CLIENT_ATTEMPTS", 50, minimum=1),
        window=env_int(environ, "STRATUS_SIGNIN_WINDOW_SECONDS", 300, minimum=1),
    )
    return Users(store, limits=limits)


_users = cache(_core)  # built on the first request

app, http, main = http_function(
    "users",
    build_router(_users, behind_proxy=not settings().is_local),
    authenticated=True,
    max_body_bytes=64 * 1024,
)
