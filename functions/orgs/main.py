"""Entry points of the orgs function: Cloud Run (`http`), OpenWhisk (`main`), the emulator."""

from functions.orgs.api import authenticator, router
from shared.function import HttpFunction
from shared.platforms import functions_framework, openwhisk

MAX_BODY_BYTES = 16 * 1024

app = HttpFunction(
    "orgs", router, middlewares=[authenticator.middleware], max_body_bytes=MAX_BODY_BYTES
)
http = functions_framework.http_entry(app)
main = openwhisk.web_action(app)
