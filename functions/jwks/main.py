"""Wiring of the JWKS function: the process's key set (read on first use), router, entry points."""

from __future__ import annotations

from functions.jwks.api import build_router
from shared.auth.keys import keyset
from shared.entry import http_function

__all__ = ["app", "http", "main"]

app, http, main = http_function("jwks", build_router(keyset))
