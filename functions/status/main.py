"""Entry points of the status function: Cloud Run (`http`), OpenWhisk (`main`), the emulator."""

from functions.status.api import router
from shared.function import HttpFunction
from shared.platforms import functions_framework, openwhisk

app = HttpFunction("status", router)
http = functions_framework.http_entry(app)
main = openwhisk.web_action(app)
