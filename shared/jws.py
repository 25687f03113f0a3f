"""Deterministic ES256 signing (RFC 6979): the same claims and key always give the same token.

A device's MQTT password is its device token, registered in the broker when the key is issued;
`GET /api/devices/{id}/key` must hand out exactly that token again. PyJWT's ES256 signatures are
randomized, so device tokens are signed here instead. Verification is standard ES256: any JWT
library checks these tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from jwt import PyJWS
from jwt.algorithms import ECAlgorithm
from jwt.utils import der_to_raw_signature

__all__ = ["DeterministicES256", "encode_deterministic"]


class DeterministicES256(ECAlgorithm):
    """ES256 whose signatures use RFC 6979 nonces (cryptography >= 44)."""

    def __init__(self) -> None:
        super().__init__(ECAlgorithm.SHA256)

    def sign(self, msg: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
        der = key.sign(msg, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        return der_to_raw_signature(der, key.curve)


_jws = PyJWS(algorithms=[])
_jws.register_algorithm("ES256", DeterministicES256())


def encode_deterministic(
    claims: Mapping[str, Any], key: ec.EllipticCurvePrivateKey, kid: str
) -> str:
    """A compact ES256 JWT of `claims` (keys sorted) with header `kid`; byte-for-byte stable."""
    payload = orjson.dumps(dict(claims), option=orjson.OPT_SORT_KEYS)
    return _jws.encode(payload, key, algorithm="ES256", headers={"kid": kid, "typ": "JWT"})
