"""Entry points of the query function: Cloud Run (`http`), OpenWhisk (`main`), the emulator."""

from __future__ import annotations

from functools import lru_cache

from functions.query.access import Access
from functions.query.api import build_router
from functions.query.service import QueryService
from shared import clients
from shared.auth import Authenticator
from shared.directory import version_lookup
from shared.function import HttpFunction
from shared.platforms import functions_framework, openwhisk


@lru_cache(maxsize=1)
def _access() -> Access:
    return Access(clients.store())


@lru_cache(maxsize=1)
def _service() -> QueryService:
    return QueryService(clients.store())


authenticator = Authenticator(version_lookup(clients.store))
app = HttpFunction("query", build_router(_access, _service), middlewares=[authenticator.middleware])
http = functions_framework.http_entry(app)
main = openwhisk.web_action(app)
