"""HTTP routes of the detectors function: admins write, every user of the organisation reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.detectors.service import Detectors
from shared.auth.guard import require
from shared.directory import page_limit
from shared.errors import ValidationError
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["build_router"]


def _body(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object", field="body")
    return body


def build_router(detectors: Callable[[], Detectors]) -> Router:
    """The routes over a lazily built core."""
    router = Router()

    def reader(request: Request) -> str:
        return require(request, kinds={"user"}).org

    def admin(request: Request) -> str:
        return require(request, kinds={"user"}, role="admin").org

    @router.route("POST", "/api/detectors")
    def create(request: Request) -> Response:
        """Bind a detector to a sensor (admin); its derived score and anomaly sensors are made."""
        org = admin(request)
        found = detectors().create(org, _body(request))
        return json_response(found, 201, {"location": f"/api/detectors/{found['id']}"})

    @router.route("GET", "/api/detectors")
    def list_all(request: Request) -> Response:
        org = reader(request)
        limit = page_limit(request.arg("limit"))
        return json_response(detectors().list(org, limit, request.arg("cursor") or None))

    @router.route("GET", "/api/detectors/{detector_id}")
    def get(request: Request) -> Response:
        return json_response(detectors().get(reader(request), request.path_params["detector_id"]))

    @router.route("PATCH", "/api/detectors/{detector_id}")
    def update(request: Request) -> Response:
        """Change name, description, threshold or enabled (admin)."""
        org = admin(request)
        detector = request.path_params["detector_id"]
        return json_response(detectors().update(org, detector, _body(request)))

    @router.route("DELETE", "/api/detectors/{detector_id}")
    def delete(request: Request) -> Response:
        """Delete the binding with its derived sensors and their readings (admin)."""
        detectors().delete(admin(request), request.path_params["detector_id"])
        return Response(204)

    return router
