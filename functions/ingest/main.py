"""Entry points of the ingest function: Cloud Run (`http`), OpenWhisk (`main`), the emulator."""

from __future__ import annotations

from functools import cache

from functions.ingest.api import build_router
from functions.ingest.service import Ingest
from shared import clients
from shared.auth import Authenticator
from shared.directory import version_lookup
from shared.function import HttpFunction
from shared.platforms import functions_framework, openwhisk
from shared.telemetry.sensors import cached_store_directory

__all__ = ["app", "http", "main"]


@cache
def _ingest() -> Ingest:
    """Built on the first request: the bus, the store and the settings are read then."""
    return Ingest(
        clients.bus(),
        Authenticator(version_lookup(clients.store)),
        # read again before every refusal: a sensor created a moment ago is accepted
        cached_store_directory(clients.store, min_age=0),
    )


app = HttpFunction("ingest", build_router(_ingest))
http = functions_framework.http_entry(app)
main = openwhisk.web_action(app)
