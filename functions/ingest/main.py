"""Wiring of the ingest function: the telemetry door on a lazily built bus and sensor directory,
its router, its entry points."""

from __future__ import annotations

import os
from functools import cache

from functions.ingest.api import build_router
from shared import clients
from shared.auth import Authenticator
from shared.directory import version_lookup
from shared.entry import http_function
from shared.telemetry.coalesce import Coalescing
from shared.telemetry.ingest import Ingest
from shared.telemetry.sensors import cached_store_directory

__all__ = ["app", "http", "main"]

# Built on the first request. The core checks device tokens itself (the WebSocket gateway shares
# it), and reads a device's sensors again before every refusal (min_age=0): a sensor created a
# moment ago is accepted. Concurrent requests share bus messages (STRATUS_INGEST_WINDOW_MS).
_ingest = cache(
    lambda: Ingest(
        clients.bus(),
        Authenticator(version_lookup(clients.store)),
        cached_store_directory(clients.store, min_age=0),
        coalescing=Coalescing.from_env(os.environ),
    )
)

app, http, main = http_function("ingest", build_router(_ingest))
