"""Entry points of the JWKS function: Cloud Run (`http`), OpenWhisk (`main`), the emulator."""

from functions.jwks.api import router
from shared.function import HttpFunction
from shared.platforms import functions_framework, openwhisk

app = HttpFunction("jwks", router)
http = functions_framework.http_entry(app)
main = openwhisk.web_action(app)
