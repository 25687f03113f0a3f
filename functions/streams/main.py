"""Wiring of the streams function: its ports built on first use, its router, its entry points."""

from __future__ import annotations

import os
from functools import cache

from functions.streams.api import StreamConfig, build_router
from shared import clients
from shared.access import Access
from shared.entry import http_function
from shared.settings import env_int
from shared.streaming import StreamSettings

__all__ = ["app", "http", "main"]


@cache
def _access() -> Access:
    return Access(clients.store())


@cache
def _config() -> StreamConfig:
    late = env_int(os.environ, "STRATUS_STREAM_LATE_SECONDS", 30, minimum=1)
    return StreamConfig(StreamSettings.from_env(os.environ), late_seconds=late)


app, http, main = http_function(
    "streams", build_router(clients.store, _access, _config), authenticated=True
)
