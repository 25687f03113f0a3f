"""Entry points of the consumers function: Cloud Run (`http`), OpenWhisk (`main`), the emulator."""

from functools import lru_cache

from functions.consumers.api import build_router
from functions.consumers.service import Consumers
from shared import clients
from shared.auth import Authenticator
from shared.directory import version_lookup
from shared.function import HttpFunction
from shared.platforms import functions_framework, openwhisk

MAX_BODY_BYTES = 64 * 1024


@lru_cache(maxsize=1)
def consumers() -> Consumers:
    return Consumers(clients.store())


authenticator = Authenticator(version_lookup(clients.store))
app = HttpFunction(
    "consumers",
    build_router(consumers),
    middlewares=[authenticator.middleware],
    max_body_bytes=MAX_BODY_BYTES,
)
http = functions_framework.http_entry(app)
main = openwhisk.web_action(app)
