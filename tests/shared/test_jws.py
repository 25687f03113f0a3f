"""Deterministic ES256: stable tokens, verified by stock PyJWT, different for other claims."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared.jws import encode_deterministic


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_same_claims_same_token_and_stock_verification(key: ec.EllipticCurvePrivateKey) -> None:
    claims = {"sub": "d1", "org": "o1", "kv": 3, "iat": 1_790_000_000}
    token = encode_deterministic(claims, key, "k1")
    assert token == encode_deterministic(dict(reversed(claims.items())), key, "k1")
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "k1", "typ": "JWT"}
    assert jwt.decode(token, key.public_key(), algorithms=["ES256"]) == claims


def test_other_claims_or_key_give_another_token(key: ec.EllipticCurvePrivateKey) -> None:
    claims = {"sub": "d1", "kv": 1}
    token = encode_deterministic(claims, key, "k1")
    assert token != encode_deterministic({"sub": "d1", "kv": 2}, key, "k1")
    assert token != encode_deterministic(claims, ec.generate_private_key(ec.SECP256R1()), "k1")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, ec.generate_private_key(ec.SECP256R1()).public_key(), ["ES256"])
