"""The public half of the token keys for a deployment: a JWKS from the PEM signing key, keeping
the keys an older JWKS trusted (a rotation keeps verifying the tokens they signed)."""

from __future__ import annotations

import json

from shared.auth.keys import KeySet
from shared.errors import Unavailable

__all__ = ["jwks_of"]


def jwks_of(pem: bytes, keep: str = "") -> str:
    """Canonical JSON (sorted keys, no spaces) of the signing key's public JWK followed by the
    keys of `keep` (a JWKS, or empty) that are not that key."""
    try:
        current = KeySet.from_pem(pem).jwks()["keys"]
    except Unavailable as error:
        raise SystemExit(f"error: {error.message}") from None
    kept = json.loads(keep).get("keys", []) if keep.strip() else []
    seen = {jwk["kid"] for jwk in current}
    keys = current + [jwk for jwk in kept if jwk.get("kid") not in seen]
    return json.dumps({"keys": keys}, sort_keys=True, separators=(",", ":"))
