"""Wiring of the detectors function: its core on the lazily built store, its router, entries."""

from __future__ import annotations

import os
from functools import cache

from functions.detectors.api import build_router
from functions.detectors.service import Detectors
from shared import clients, egress
from shared.entry import http_function

__all__ = ["app", "http", "main"]

_detectors = cache(
    lambda: Detectors(clients.store(), allow_private_targets=egress.allowed(os.environ))
)

app, http, main = http_function(
    "detectors", build_router(_detectors), authenticated=True, max_body_bytes=16 * 1024
)
