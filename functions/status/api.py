"""HTTP routes of the status function."""

from __future__ import annotations

from collections.abc import Callable

from functions.status.service import Status
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["build_router"]


def build_router(status: Callable[[], Status]) -> Router:
    """The routes over a core built on first use (`status()` is called per request and caches)."""
    router = Router()

    @router.route("GET", "/api/status")
    def get_status(request: Request) -> Response:
        """Platform status: version, project, and whether the document store answers."""
        result = status().report()
        return json_response(result.body, 200 if result.healthy else 503)

    return router
