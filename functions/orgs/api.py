"""HTTP routes of the orgs function."""

from __future__ import annotations

from functools import lru_cache

from functions.orgs.service import OrgChanges, Orgs
from shared import clients
from shared.auth import Authenticator, require
from shared.directory import version_lookup
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["authenticator", "router"]

router = Router()
authenticator = Authenticator(version_lookup(clients.store))


@lru_cache(maxsize=1)
def _orgs() -> Orgs:
    return Orgs(clients.store())


@router.route("GET", "/api/orgs/self")
def get_org(request: Request) -> Response:
    """The caller's organisation (any user of it)."""
    return json_response(_orgs().get(require(request)))


@router.route("PATCH", "/api/orgs/self")
def rename_org(request: Request) -> Response:
    """Rename the caller's organisation (admins)."""
    actor = require(request, role="admin")
    return json_response(_orgs().rename(actor, OrgChanges.parse(request.json())))
