"""HTTP route of the JWKS function."""

from __future__ import annotations

from collections.abc import Callable

from functions.jwks.service import CACHE_CONTROL, document
from shared.auth.keys import KeySet
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["build_router"]


def build_router(keys: Callable[[], KeySet]) -> Router:
    """The route over the process's key set, read on first use (`keys()` caches it)."""
    router = Router()

    @router.route("GET", "/.well-known/jwks.json")
    def get_jwks(request: Request) -> Response:
        """The public keys that verify Stratus tokens (no authentication: they are public)."""
        return json_response(document(keys()), headers={"cache-control": CACHE_CONTROL})

    return router
