"""Wiring of the openapi function: the description (read on first use), router, entry points."""

from __future__ import annotations

from functions.openapi.api import build_router
from functions.openapi.service import document
from shared.entry import http_function

__all__ = ["app", "http", "main"]

app, http, main = http_function("openapi", build_router(document))
