"""Wiring of the models function: its core on the lazily built store, its router, entries."""

from __future__ import annotations

from functools import cache

from functions.models.api import build_router
from functions.models.service import Models
from shared import clients
from shared.entry import http_function

__all__ = ["app", "http", "main"]

MAX_MODEL_BYTES = 16 * 1024 * 1024

_models = cache(lambda: Models(clients.store()))

app, http, main = http_function(
    "models", build_router(_models), authenticated=True, max_body_bytes=MAX_MODEL_BYTES
)
