"""Entry points of the sensors function: Cloud Run (`http`), OpenWhisk (`main`), the emulator."""

from functools import lru_cache

from functions.sensors.api import build_router
from functions.sensors.service import Sensors
from shared import clients
from shared.auth import Authenticator
from shared.directory import version_lookup
from shared.function import HttpFunction
from shared.platforms import functions_framework, openwhisk

MAX_BODY_BYTES = 64 * 1024


@lru_cache(maxsize=1)
def sensors() -> Sensors:
    return Sensors(clients.store())


authenticator = Authenticator(version_lookup(clients.store))
app = HttpFunction(
    "sensors",
    build_router(sensors),
    middlewares=[authenticator.middleware],
    max_body_bytes=MAX_BODY_BYTES,
)
http = functions_framework.http_entry(app)
main = openwhisk.web_action(app)
