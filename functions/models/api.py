"""HTTP routes of the models function: admins upload and delete, every user of the organisation
reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.models.service import Models
from shared.auth.guard import require
from shared.directory import page_limit
from shared.errors import BadRequest, UnsupportedMediaType, ValidationError
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["build_router"]

_FILE_TYPES = {"application/octet-stream", "application/onnx", "application/x-onnx"}


def _body(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object", field="body")
    return body


def build_router(models: Callable[[], Models]) -> Router:
    """The routes over a lazily built core."""
    router = Router()

    def reader(request: Request) -> str:
        return require(request, kinds={"user"}).org

    def admin(request: Request) -> str:
        return require(request, kinds={"user"}, role="admin").org

    @router.route("POST", "/api/models")
    def create(request: Request) -> Response:
        """Create a model (admin) to upload versions to."""
        found = models().create(admin(request), _body(request))
        return json_response(found, 201, {"location": f"/api/models/{found['id']}"})

    @router.route("GET", "/api/models")
    def list_all(request: Request) -> Response:
        org = reader(request)
        limit = page_limit(request.arg("limit"))
        return json_response(models().list(org, limit, request.arg("cursor") or None))

    @router.route("GET", "/api/models/{model_id}")
    def get(request: Request) -> Response:
        return json_response(models().get(reader(request), request.path_params["model_id"]))

    @router.route("DELETE", "/api/models/{model_id}")
    def delete(request: Request) -> Response:
        """Delete the model and its versions (admin); 409 while a detector uses it."""
        models().delete(admin(request), request.path_params["model_id"])
        return Response(204)

    @router.route("POST", "/api/models/{model_id}/versions")
    def upload(request: Request) -> Response:
        """Upload an ONNX file as the next version (admin); its signature is read from it."""
        org = admin(request)
        if request.media_type not in _FILE_TYPES:
            raise UnsupportedMediaType("send the model file as application/octet-stream")
        model = request.path_params["model_id"]
        found = models().upload(org, model, request.body)
        location = f"/api/models/{model}/versions/{found['version']}"
        return json_response(found, 201, {"location": location})

    @router.route("GET", "/api/models/{model_id}/versions")
    def versions(request: Request) -> Response:
        return json_response(models().versions(reader(request), request.path_params["model_id"]))

    @router.route("GET", "/api/models/{model_id}/versions/{version}")
    def version(request: Request) -> Response:
        org = reader(request)
        raw = request.path_params["version"]
        if not raw.isdigit() or not 1 <= int(raw) <= 1_000_000:
            raise BadRequest("version is a positive integer", field="version")
        return json_response(models().version(org, request.path_params["model_id"], int(raw)))

    return router
