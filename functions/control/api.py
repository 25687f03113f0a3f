"""HTTP routes of device control: config (versioned, retained on the broker), state, commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from functions.control.service import Control
from shared.errors import PayloadTooLarge, ValidationError
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["MAX_COMMAND_BYTES", "Gate", "build_router"]

MAX_COMMAND_BYTES = 64 * 1024


class Gate(Protocol):
    """Who may act on which device (`functions.control.access.DirectoryGate`)."""

    def user_org(self, request: Request) -> str:
        """The organisation of the caller's user token; 401/403 for anything else."""
        ...

    def check_device(self, org: str, device_id: str) -> None:
        """NotFound unless the device exists in `org`."""
        ...


def _version(body: dict[str, Any]) -> int | None:
    if "version" not in body:
        return None
    version = body["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ValidationError("version must be a non-negative integer", field="version")
    return version


def build_router(gate: Callable[[], Gate], control: Callable[[], Control]) -> Router:
    """The routes, with the gate and the core they use, both built on first use."""
    router = Router()

    def device(request: Request) -> tuple[str, str]:
        org = gate().user_org(request)
        device_id = request.path_params["device_id"]
        gate().check_device(org, device_id)
        return org, device_id

    @router.route("GET", "/api/devices/{device_id}/config")
    def get_config(request: Request) -> Response:
        """The latest config, its version and the version the device acknowledged."""
        return json_response(control().get_config(*device(request)))

    @router.route("PUT", "/api/devices/{device_id}/config")
    def put_config(request: Request) -> Response:
        """Set the next config version (optionally only if `version` is the current one)."""
        org, device_id = device(request)
        body = request.json()
        if not isinstance(body, dict) or "config" not in body:
            raise ValidationError("body must be an object with a 'config' field", field="config")
        view = control().set_config(org, device_id, body["config"], _version(body))
        return json_response(view)

    @router.route("GET", "/api/devices/{device_id}/state")
    def get_state(request: Request) -> Response:
        """The state the device last reported."""
        return json_response(control().get_state(*device(request)))

    @router.route("POST", "/api/devices/{device_id}/commands/{name}")
    def send_command(request: Request) -> Response:
        """Send a one-shot command; the answer says whether a subscription of the device got it."""
        _, device_id = device(request)
        if len(request.body) > MAX_COMMAND_BYTES:
            raise PayloadTooLarge(f"a command payload is at most {MAX_COMMAND_BYTES} bytes")
        result = control().send_command(device_id, request.path_params["name"], request.body)
        return json_response(result)

    return router
