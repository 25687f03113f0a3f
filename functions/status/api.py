"""HTTP routes of the status function."""

from __future__ import annotations

from functions.status.service import report
from shared import clients
from shared.http import Request, Response, json_response
from shared.router import Router
from shared.settings import settings

__all__ = ["router"]

router = Router()


def _store_check() -> None:
    clients.store().get("_stratus/health")


@router.route("GET", "/api/status")
def get_status(request: Request) -> Response:
    """Platform status: version, project, and whether the document store answers."""
    result = report("stratus", settings().project, {"store": _store_check})
    return json_response(result.body, 200 if result.healthy else 503)
