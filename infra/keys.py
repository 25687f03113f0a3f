"""The public half of the token keys for a deployment: a JWKS from the PEM signing key, keeping
the keys an older JWKS trusted (a rotation keeps verifying the tokens they signed)."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth.keys import KeySet

__all__ = ["jwks_of"]


def jwks_of(pem: bytes, keep: str = "") -> str:
    """Canonical JSON (sorted keys, no spaces) of the signing key's public JWK followed by the
    keys of `keep` (a JWKS, or empty) that are not that key."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise SystemExit("error: the signing key must be an EC P-256 private key (PEM)")
    current = KeySet.from_private_key(key).jwks()["keys"]
    kept = json.loads(keep).get("keys", []) if keep.strip() else []
    seen = {jwk["kid"] for jwk in current}
    keys = current + [jwk for jwk in kept if jwk.get("kid") not in seen]
    return json.dumps({"keys": keys}, sort_keys=True, separators=(",", ":"))
