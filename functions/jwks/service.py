"""Core of the JWKS function: the JWK Set document and how long verifiers may cache it."""

from __future__ import annotations

from typing import Any

from shared.auth.keys import KeySet

__all__ = ["CACHE_CONTROL", "document"]

# Verifiers refetch at least every five minutes; a key added for rotation must be published at
# least this long before tokens signed with it are handed out.
CACHE_CONTROL = "public, max-age=300"


def document(keys: KeySet) -> dict[str, Any]:
    """The public JWK Set (RFC 7517) of `keys`: the signing key first, then older keys."""
    return keys.jwks()
