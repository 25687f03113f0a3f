"""Entry points of the ingest function: Cloud Run (`http`), OpenWhisk (`main`), the emulator."""

from __future__ import annotations

import os
from functools import cache

from functions.ingest.api import build_router
from functions.ingest.directory import CachedSensorIds, sensor_ids
from functions.ingest.service import Ingest
from shared import clients
from shared.auth import Authenticator
from shared.directory import version_lookup
from shared.function import HttpFunction
from shared.platforms import functions_framework, openwhisk
from shared.settings import env_int

__all__ = ["app", "http", "main"]


@cache
def _ingest() -> Ingest:
    """Built on the first request: the bus, the store and the settings are read then."""
    ttl = env_int(os.environ, "STRATUS_SENSOR_CACHE_SECONDS", 5)
    return Ingest(
        clients.bus(),
        Authenticator(version_lookup(clients.store)),
        CachedSensorIds(lambda org, device: sensor_ids(clients.store(), org, device), ttl),
    )


app = HttpFunction("ingest", build_router(_ingest))
http = functions_framework.http_entry(app)
main = openwhisk.web_action(app)
