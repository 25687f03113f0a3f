"""HTTP route of the openapi function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.openapi.service import CACHE_CONTROL
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["build_router"]


def build_router(document: Callable[[], dict[str, Any]]) -> Router:
    """The route over the description, read on first use (`document()` caches it)."""
    router = Router()

    @router.route("GET", "/openapi.json")
    def get_openapi(request: Request) -> Response:
        """The OpenAPI description of the management API (public)."""
        return json_response(document(), headers={"cache-control": CACHE_CONTROL})

    return router
