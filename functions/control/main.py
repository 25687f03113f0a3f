"""Entry points of the control function: Cloud Run (`http`), OpenWhisk (`main`), the emulator."""

from __future__ import annotations

from functools import lru_cache

from functions.control.api import MAX_COMMAND_BYTES, build_router
from functions.control.service import Control
from shared import clients
from shared.auth import Authenticator
from shared.auth.guard import require
from shared.directory import device_key_version, version_lookup
from shared.errors import NotFound
from shared.function import HttpFunction
from shared.http import Request
from shared.platforms import functions_framework, openwhisk

__all__ = ["app", "http", "main"]


class DirectoryGate:
    """`Gate` on user tokens and the provisioning directory: a device of another organisation
    is answered exactly like an unknown one (404)."""

    def user_org(self, request: Request) -> str:
        return require(request, kinds={"user"}).org

    def check_device(self, org: str, device_id: str) -> None:
        if device_key_version(clients.store(), org, device_id) is None:
            raise NotFound(f"device {device_id} not found")


@lru_cache(maxsize=1)
def control() -> Control:
    """Built on the first request: the store and the broker publisher connect then."""
    return Control(clients.store(), clients.broker_publisher())


authenticator = Authenticator(version_lookup(clients.store))
app = HttpFunction(
    "control",
    build_router(DirectoryGate(), control),
    middlewares=[authenticator.middleware],
    max_body_bytes=MAX_COMMAND_BYTES + 1024,
)
http = functions_framework.http_entry(app)
main = openwhisk.web_action(app)
