"""HTTP routes of the bootstrap function: the device's `GET /bootstrap/{external_id}` and the
admins' registrations under `/api/bootstrap`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.bootstrap.registrations import Registrations
from functions.bootstrap.service import Bootstrapper
from shared.auth.guard import require
from shared.directory import page_limit
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["build_router"]

BASE = "/api/bootstrap"
_NO_STORE = {"cache-control": "no-store"}  # answers carry secrets


def _optional_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or {} when there is none (key rotation takes either)."""
    return request.json_object() if request.body else {}


def build_router(
    registrations: Callable[[], Registrations], bootstrapper: Callable[[], Bootstrapper]
) -> Router:
    """The routes over lazily built cores."""
    router = Router()

    def org(request: Request) -> str:
        return require(request, kinds={"user"}, role="admin").org

    @router.route("GET", "/bootstrap/{external_id}")
    def bootstrap(request: Request) -> Response:
        """The device's configuration for `authorization: Bootstrap <external key>`; the device
        and its sensors are created on the first call."""
        answer = bootstrapper().bootstrap(
            request.path_params["external_id"], request.header("authorization")
        )
        return json_response(answer, headers=_NO_STORE)

    @router.route("POST", BASE)
    def create(request: Request) -> Response:
        """Register a device by its external id; the answer shows the external key once."""
        caller = org(request)
        created = registrations().create(caller, request.json_object())
        location = {"location": f"{BASE}/{created['external_id']}", **_NO_STORE}
        return json_response(created, 201, location)

    @router.route("GET", BASE)
    def list_registrations(request: Request) -> Response:
        caller = org(request)
        limit = page_limit(request.arg("limit"))
        return json_response(registrations().list(caller, limit, request.arg("cursor") or None))

    @router.route("GET", BASE + "/{external_id}")
    def get(request: Request) -> Response:
        caller = org(request)
        return json_response(registrations().get(caller, request.path_params["external_id"]))

    @router.route("PATCH", BASE + "/{external_id}")
    def update(request: Request) -> Response:
        """Change name, description, config, sensors or `enabled`."""
        caller = org(request)
        external_id = request.path_params["external_id"]
        return json_response(registrations().update(caller, external_id, request.json_object()))

    @router.route("POST", BASE + "/{external_id}/key/rotate")
    def rotate(request: Request) -> Response:
        """A new external key (`{"external_key"}` to choose it); the old one stops working."""
        caller = org(request)
        external_id = request.path_params["external_id"]
        body = _optional_object(request)
        return json_response(registrations().rotate(caller, external_id, body), headers=_NO_STORE)

    @router.route("DELETE", BASE + "/{external_id}")
    def delete(request: Request) -> Response:
        """Remove the registration; a device it created stays."""
        registrations().delete(org(request), request.path_params["external_id"])
        return Response(204)

    return router
