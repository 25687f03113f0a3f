"""HTTP routes of the devices function (user tokens of the device's organisation)."""

from __future__ import annotations

from collections.abc import Callable

from functions.devices.service import Devices
from shared.auth.guard import require
from shared.directory import page_limit
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["build_router"]


def build_router(devices: Callable[[], Devices]) -> Router:
    """The routes, on a lazily built core."""
    router = Router()

    def org(request: Request) -> str:
        return require(request, kinds={"user"}).org

    @router.route("POST", "/api/devices")
    def create_device(request: Request) -> Response:
        """Create a device; `.result.id` is its id (as the reference script reads it)."""
        caller = org(request)
        device = devices().create(caller, request.json_object())
        location = {"location": f"/api/devices/{device['id']}"}
        return json_response({"result": device}, 201, location)

    @router.route("GET", "/api/devices")
    def list_devices(request: Request) -> Response:
        """A page of the organisation's devices, oldest first; `next` is the following page's
        cursor (null on the last)."""
        caller = org(request)
        limit = page_limit(request.arg("limit"))
        return json_response(devices().list(caller, limit, request.arg("cursor") or None))

    @router.route("GET", "/api/devices/{device_id}")
    def get_device(request: Request) -> Response:
        caller = org(request)
        return json_response({"result": devices().get(caller, request.path_params["device_id"])})

    @router.route("PATCH", "/api/devices/{device_id}")
    def update_device(request: Request) -> Response:
        """Change name and/or description."""
        caller = org(request)
        device_id = request.path_params["device_id"]
        return json_response({"result": devices().update(caller, device_id, request.json_object())})

    @router.route("DELETE", "/api/devices/{device_id}")
    def delete_device(request: Request) -> Response:
        """Delete the device, its sensors and their data; its tokens stop working."""
        devices().delete(org(request), request.path_params["device_id"])
        return Response(204)

    @router.route("GET", "/api/devices/{device_id}/key")
    def get_key(request: Request) -> Response:
        """The device's current token (the same string until the key is rotated)."""
        caller = org(request)
        return json_response(devices().key(caller, request.path_params["device_id"]))

    @router.route("POST", "/api/devices/{device_id}/key/rotate")
    def rotate_key(request: Request) -> Response:
        """A new key version; older tokens are refused from now on."""
        caller = org(request)
        return json_response(devices().rotate(caller, request.path_params["device_id"]))

    return router
