"""Deterministic ES256 signing (RFC 6979): the same claims and key always give the same token.

A device's MQTT password is its device token, registered in the broker when the key is issued;
`GET /api/devices/{id}/key` must hand out exactly that token again. PyJWT's ES256 signatures are
randomized, so device tokens are signed here instead. Verification is standard ES256: any JWT
library checks these tokens.

ECDSA signatures are malleable: (r, n - s) verifies wherever (r, s) does, and base64url leaves
spare bits in a segment's last character. Our signatures are low-S (s <= n/2) and `canonical`
tells whether a token is the one encoding of its content, so every token has exactly one valid
string (a verifier that remembers tokens, or a revocation list, sees each token once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from jwt import PyJWS
from jwt.algorithms import ECAlgorithm
from jwt.utils import base64url_decode, base64url_encode, der_to_raw_signature

__all__ = ["P256_ORDER", "DeterministicES256", "canonical", "encode_deterministic", "low_s"]

# the order n of the P-256 group (SEC 2, secp256r1)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_B64URL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def low_s(signature: bytes) -> bytes:
    """A raw ES256 signature (r || s, 64 bytes) with s replaced by n - s when s > n/2."""
    r, s = signature[:32], int.from_bytes(signature[32:], "big")
    if s > P256_ORDER // 2:
        s = P256_ORDER - s
    return r + s.to_bytes(32, "big")


def canonical(token: str) -> bool:
    """Whether a compact ES256 token is in its one canonical form: three segments of unpadded
    base64url, each the exact encoding of its bytes, and a 64-byte signature with low S."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    decoded = []
    for part in parts:
        raw = part.encode("ascii", "replace")
        if not raw or not _B64URL.issuperset(raw):
            return False
        try:
            value = base64url_decode(raw)
        except ValueError:
            return False
        if base64url_encode(value) != raw:
            return False
        decoded.append(value)
    signature = decoded[2]
    return len(signature) == 64 and int.from_bytes(signature[32:], "big") <= P256_ORDER // 2


class DeterministicES256(ECAlgorithm):
    """ES256 whose signatures use RFC 6979 nonces (cryptography >= 44), always low-S."""

    def __init__(self) -> None:
        super().__init__(ECAlgorithm.SHA256)

    def sign(self, msg: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
        der = key.sign(msg, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        return low_s(der_to_raw_signature(der, key.curve))


_jws = PyJWS(algorithms=[])
_jws.register_algorithm("ES256", DeterministicES256())


def encode_deterministic(
    claims: Mapping[str, Any], key: ec.EllipticCurvePrivateKey, kid: str
) -> str:
    """A compact ES256 JWT of `claims` (keys sorted) with header `kid`; byte-for-byte stable."""
    payload = orjson.dumps(dict(claims), option=orjson.OPT_SORT_KEYS)
    return _jws.encode(payload, key, algorithm="ES256", headers={"kid": kid, "typ": "JWT"})
