"""HTTP route of the JWKS function."""

from __future__ import annotations

from functions.jwks.service import CACHE_CONTROL, document
from shared.auth.keys import keyset
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["router"]

router = Router()


@router.route("GET", "/.well-known/jwks.json")
def get_jwks(request: Request) -> Response:
    """The public keys that verify Stratus tokens (no authentication: they are public)."""
    return json_response(document(keyset()), headers={"cache-control": CACHE_CONTROL})
