"""HTTP routes of the sensors function (user tokens of the device's organisation)."""

from __future__ import annotations

from collections.abc import Callable

from functions.sensors.service import Sensors
from shared.auth.guard import require
from shared.directory import page_limit
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["build_router"]

BASE = "/api/devices/{device_id}/sensors"


def build_router(sensors: Callable[[], Sensors]) -> Router:
    """The routes, on a lazily built core."""
    router = Router()

    def org(request: Request) -> str:
        return require(request, kinds={"user"}).org

    @router.route("POST", BASE)
    def create_sensor(request: Request) -> Response:
        """Create a sensor on the device; `.id` is its id (as the reference script reads it)."""
        caller = org(request)
        device = request.path_params["device_id"]
        sensor = sensors().create(caller, device, request.json_object())
        location = {"location": f"/api/devices/{device}/sensors/{sensor['id']}"}
        return json_response(sensor, 201, location)

    @router.route("GET", BASE)
    def list_sensors(request: Request) -> Response:
        """A page of the device's sensors, oldest first; `?path=front/left` keeps one folder."""
        caller = org(request)
        limit = page_limit(request.arg("limit"))
        page = sensors().list(
            caller, request.path_params["device_id"], limit, request.arg("cursor") or None,
            request.arg("path"),
        )  # fmt: skip
        return json_response(page)

    @router.route("GET", BASE + "/{sensor_id}")
    def get_sensor(request: Request) -> Response:
        caller = org(request)
        params = request.path_params
        return json_response(sensors().get(caller, params["device_id"], params["sensor_id"]))

    @router.route("PATCH", BASE + "/{sensor_id}")
    def update_sensor(request: Request) -> Response:
        """Change name, description, mapping and/or path (names stay unique per folder)."""
        caller = org(request)
        params = request.path_params
        body = request.json_object()
        return json_response(
            sensors().update(caller, params["device_id"], params["sensor_id"], body)
        )

    @router.route("DELETE", BASE + "/{sensor_id}")
    def delete_sensor(request: Request) -> Response:
        """Delete the sensor and its stored readings; consumers lose its grant."""
        caller = org(request)
        params = request.path_params
        sensors().delete(caller, params["device_id"], params["sensor_id"])
        return Response(204)

    return router
