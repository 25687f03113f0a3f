"""HTTP routes of the consumers function (user tokens of an organisation admin)."""

from __future__ import annotations

from collections.abc import Callable

from functions.consumers.service import Consumers, parse_grant
from shared.auth.guard import require
from shared.directory import page_limit
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["build_router"]

BASE = "/api/consumers"
ONE = BASE + "/{consumer_id}"


def build_router(consumers: Callable[[], Consumers]) -> Router:
    """The routes, on a lazily built core. Consumers decide who outside the platform reads the
    organisation's data, so every route needs an admin's user token."""
    router = Router()

    def org(request: Request) -> str:
        return require(request, kinds={"user"}, role="admin").org

    @router.route("POST", BASE)
    def create_consumer(request: Request) -> Response:
        caller = org(request)
        consumer = consumers().create(caller, request.json_object())
        return json_response(consumer, 201, {"location": f"{BASE}/{consumer['id']}"})

    @router.route("GET", BASE)
    def list_consumers(request: Request) -> Response:
        caller = org(request)
        limit = page_limit(request.arg("limit"))
        return json_response(consumers().list(caller, limit, request.arg("cursor") or None))

    @router.route("GET", ONE)
    def get_consumer(request: Request) -> Response:
        caller = org(request)
        return json_response(consumers().get(caller, request.path_params["consumer_id"]))

    @router.route("PATCH", ONE)
    def update_consumer(request: Request) -> Response:
        caller = org(request)
        body = request.json_object()
        return json_response(consumers().update(caller, request.path_params["consumer_id"], body))

    @router.route("DELETE", ONE)
    def delete_consumer(request: Request) -> Response:
        consumers().delete(org(request), request.path_params["consumer_id"])
        return Response(204)

    @router.route("POST", ONE + "/sensors")
    def grant_sensor(request: Request) -> Response:
        """Grant read access to one sensor: `{"device": id, "sensor": id}` (idempotent)."""
        caller = org(request)
        device, sensor = parse_grant(request.json_object())
        consumer = request.path_params["consumer_id"]
        return json_response(consumers().grant(caller, consumer, device, sensor))

    @router.route("DELETE", ONE + "/sensors/{device_id}/{sensor_id}")
    def revoke_sensor(request: Request) -> Response:
        caller = org(request)
        params = request.path_params
        return json_response(
            consumers().revoke(
                caller, params["consumer_id"], params["device_id"], params["sensor_id"]
            )
        )

    @router.route("GET", ONE + "/key")
    def get_key(request: Request) -> Response:
        """The consumer's current read-only token (stable until rotated)."""
        caller = org(request)
        return json_response(consumers().key(caller, request.path_params["consumer_id"]))

    @router.route("POST", ONE + "/key/rotate")
    def rotate_key(request: Request) -> Response:
        caller = org(request)
        return json_response(consumers().rotate(caller, request.path_params["consumer_id"]))

    return router
