"""HTTP routes of the orgs function."""

from __future__ import annotations

from collections.abc import Callable

from functions.orgs.service import OrgChanges, Orgs
from shared.auth import require
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["build_router"]


def build_router(orgs: Callable[[], Orgs]) -> Router:
    """The routes, on a lazily built core (user tokens of the organisation)."""
    router = Router()

    @router.route("GET", "/api/orgs/self")
    def get_org(request: Request) -> Response:
        """The caller's organisation (any user of it)."""
        return json_response(orgs().get(require(request)))

    @router.route("PATCH", "/api/orgs/self")
    def rename_org(request: Request) -> Response:
        """Rename the caller's organisation (admins)."""
        actor = require(request, role="admin")
        return json_response(orgs().rename(actor, OrgChanges.parse(request.json())))

    return router
