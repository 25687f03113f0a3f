"""Entry points of the openapi function: Cloud Run (`http`), OpenWhisk (`main`), the emulator."""

from functions.openapi.api import router
from shared.function import HttpFunction
from shared.platforms import functions_framework, openwhisk

app = HttpFunction("openapi", router)
http = functions_framework.http_entry(app)
main = openwhisk.web_action(app)
