"""HTTP route of the openapi function."""

from __future__ import annotations

from functions.openapi.service import CACHE_CONTROL, document
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["router"]

router = Router()


@router.route("GET", "/openapi.json")
def get_openapi(request: Request) -> Response:
    """The OpenAPI description of the management API (public)."""
    return json_response(document(), headers={"cache-control": CACHE_CONTROL})
