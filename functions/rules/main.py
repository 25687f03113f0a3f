"""Wiring of the rules function: its core on lazily built ports, its router, its entry points."""

from __future__ import annotations

import os
from functools import cache

from functions.rules.api import build_router
from functions.rules.service import Rules
from shared import clients, egress
from shared.entry import http_function
from shared.topics import RULE_OUTPUT

__all__ = ["app", "http", "main"]

MAX_BODY_BYTES = 64 * 1024


@cache
def _rules() -> Rules:
    topics = os.environ.get("STRATUS_RULE_TOPICS", RULE_OUTPUT).split(",")
    return Rules(
        clients.store(),
        clients.bus,
        topics={t.strip() for t in topics if t.strip()},
        allow_private_targets=egress.allowed(os.environ),
    )


app, http, main = http_function(
    "rules", build_router(_rules), authenticated=True, max_body_bytes=MAX_BODY_BYTES
)
