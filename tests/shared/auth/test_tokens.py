"""Tokens: what each kind carries, stable device tokens, and every way a forged token fails."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.auth import (
    KeySet,
    Principal,
    issue_consumer_token,
    issue_device_token,
    issue_user_token,
    keyset,
    thumbprint,
    verify_token,
)
from shared.errors import PermissionDenied
from shared.jws import encode_deterministic

NOW = 1_700_000_000  # 2023: always in the past of the real clock


def b64(data: bytes | dict) -> str:
    if isinstance(data, dict):
        data = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def device_claims(**changes: object) -> dict:
    claims = {"iss": "stratus", "sub": "d1", "typ": "device", "org": "o1", "kv": 1, "iat": NOW}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def test_user_token_claims_and_principal(signing_key: ec.EllipticCurvePrivateKey) -> None:
    token = issue_user_token("u1", "o1", "admin", 4, now=NOW, ttl=600)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": keyset().kid, "typ": "JWT"}
    claims = jwt.decode(
        token, signing_key.public_key(), algorithms=["ES256"], options={"verify_exp": False}
    )
    assert claims == {
        "iss": "stratus",
        "sub": "u1",
        "typ": "user",
        "org": "o1",
        "role": "admin",
        "tv": 4,
        "iat": NOW,
        "exp": NOW + 600,
    }
    assert verify_token(token, now=NOW + 1) == Principal("user", "u1", "o1", "admin", 4)


def test_user_token_ttl_comes_from_the_environment(
    signing_key: ec.EllipticCurvePrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.auth import reset_caches

    monkeypatch.setenv("STRATUS_USER_TOKEN_TTL", "120")
    reset_caches()
    claims = jwt.decode(
        issue_user_token("u1", "o1", "member", 0, now=NOW), options={"verify_signature": False}
    )
    assert claims["exp"] == NOW + 120


def test_user_token_refuses_an_unknown_role(signing_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(ValueError, match="role"):
        issue_user_token("u1", "o1", "owner", 0)


def test_device_token_is_the_same_string_every_time(
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    token = issue_device_token("d1", "o1", 3, NOW)
    assert token == issue_device_token("d1", "o1", 3, NOW)
    assert token != issue_device_token("d1", "o1", 4, NOW)
    claims = jwt.decode(token, signing_key.public_key(), algorithms=["ES256"])
    assert claims == {
        "iss": "stratus",
        "sub": "d1",
        "typ": "device",
        "org": "o1",
        "kv": 3,
        "iat": NOW,
    }
    assert "exp" not in claims
    assert verify_token(token) == Principal("device", "d1", "o1", None, 3)


def test_consumer_token(signing_key: ec.EllipticCurvePrivateKey) -> None:
    token = issue_consumer_token("c1", "o1", 2, NOW)
    assert token == issue_consumer_token("c1", "o1", 2, NOW)
    assert verify_token(token) == Principal("consumer", "c1", "o1", None, 2)


def test_tokens_of_an_older_key_verify_after_rotation(
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    old = KeySet.from_private_key(signing_key)
    token = issue_device_token("d1", "o1", 1, NOW, keys=old)
    rotated = KeySet.from_private_key(
        ec.generate_private_key(ec.SECP256R1()), [signing_key.public_key()]
    )
    assert verify_token(token, keys=rotated).subject == "d1"
    with pytest.raises(PermissionDenied, match="is not one of our keys"):
        verify_token(token, keys=KeySet.from_private_key(ec.generate_private_key(ec.SECP256R1())))


def _alg_none(kid: str) -> str:
    return f"{b64({'alg': 'none', 'kid': kid, 'typ': 'JWT'})}.{b64(device_claims())}."


def _hs256_with_public_pem(key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    secret = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{b64({'alg': 'HS256', 'kid': kid, 'typ': 'JWT'})}.{b64(device_claims())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def _rs256(kid: str) -> str:
    other = rsa.generate_private_key(65537, 2048)
    return jwt.encode(device_claims(), other, algorithm="RS256", headers={"kid": kid})


def _tampered(key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    header, _, signature = encode_deterministic(device_claims(), key, kid).split(".")
    return f"{header}.{b64(device_claims(sub='d2'))}.{signature}"


def _signed(claims: dict, key: ec.EllipticCurvePrivateKey, kid: str | None) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, key, algorithm="ES256", headers=headers)


FORGERIES = {
    "alg none": (lambda key, kid: _alg_none(kid), "algorithm 'none' is not accepted"),
    "HS256 with the public key as secret": (_hs256_with_public_pem, "'HS256' is not accepted"),
    "RS256 with another key": (lambda key, kid: _rs256(kid), "'RS256' is not accepted"),
    "unknown kid": (
        lambda key, kid: (
            lambda other: _signed(device_claims(), other, thumbprint(other.public_key()))
        )(ec.generate_private_key(ec.SECP256R1())),
        "is not one of our keys",
    ),
    "no kid": (lambda key, kid: _signed(device_claims(), key, None), "no key id"),
    "our kid, another key": (
        lambda key, kid: _signed(device_claims(), ec.generate_private_key(ec.SECP256R1()), kid),
        "signature is invalid",
    ),
    "tampered payload": (_tampered, "signature is invalid"),
    "not a JWT": (lambda key, kid: "not-a-token", "malformed"),
    "garbage segments": (lambda key, kid: "a.b.c", "malformed"),
    "wrong issuer": (
        lambda key, kid: _signed(device_claims(iss="evil"), key, kid),
        "issuer is not 'stratus'",
    ),
    "no issuer": (
        lambda key, kid: _signed(device_claims(iss=None), key, kid),
        "missing the 'iss' claim",
    ),
    "no org": (
        lambda key, kid: _signed(device_claims(org=None), key, kid),
        "missing the 'org' claim",
    ),
    "no sub": (
        lambda key, kid: _signed(device_claims(sub=None), key, kid),
        "missing the 'sub' claim",
    ),
    "no kv": (lambda key, kid: _signed(device_claims(kv=None), key, kid), "missing the 'kv' claim"),
    "kv not an integer": (
        lambda key, kid: _signed(device_claims(kv="1"), key, kid),
        "'kv' must be an integer",
    ),
    "wrong typ": (
        lambda key, kid: _signed(device_claims(typ="admin"), key, kid),
        "token type 'admin'",
    ),
    "no typ": (
        lambda key, kid: _signed(device_claims(typ=None), key, kid),
        "missing the 'typ' claim",
    ),
    "empty org": (
        lambda key, kid: _signed(device_claims(org=""), key, kid),
        "'org' must be a non-empty",
    ),
    "issued in the future": (
        lambda key, kid: _signed(device_claims(iat=NOW + 3600), key, kid),
        "issued in the future",
    ),
    "user without exp": (
        lambda key, kid: _signed(device_claims(typ="user", role="admin", tv=0, kv=None), key, kid),
        "missing the 'exp' claim",
    ),
    "user with a made-up role": (
        lambda key, kid: _signed(
            device_claims(typ="user", role="root", tv=0, exp=NOW + 60), key, kid
        ),
        "role 'root'",
    ),
}


@pytest.mark.parametrize("case", list(FORGERIES))
def test_forged_or_broken_tokens_are_denied(
    signing_key: ec.EllipticCurvePrivateKey, case: str
) -> None:
    make, message = FORGERIES[case]
    token = make(signing_key, keyset().kid)
    with pytest.raises(PermissionDenied, match=message):
        verify_token(token, now=NOW)


def test_expired_user_token(signing_key: ec.EllipticCurvePrivateKey) -> None:
    token = issue_user_token("u1", "o1", "member", 0, now=NOW, ttl=60)
    assert verify_token(token, now=NOW + 60).subject == "u1"  # within the clock-skew leeway
    with pytest.raises(PermissionDenied, match="token has expired"):
        verify_token(token, now=NOW + 60 + 30)
    with pytest.raises(PermissionDenied, match="token has expired"):
        verify_token(token)  # the real clock: long after 2023


def _malleated(token: str) -> list[str]:
    """Other strings for the same signed content: (r, n - s), and spare base64url bits set."""
    from shared.jws import P256_ORDER

    header, payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    s = int.from_bytes(raw[32:], "big")
    flipped = raw[:32] + (P256_ORDER - s).to_bytes(32, "big")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])  # 64 bytes = 86 characters: the last carries 2 spare bits
    return [
        f"{header}.{payload}.{b64(flipped)}",
        f"{header}.{payload}.{signature[:-1]}{alphabet[last | 1]}",
        f"{header}.{payload}.{signature}=",
        f"{header} .{payload}.{signature}",
    ]


def test_every_token_has_exactly_one_valid_encoding() -> None:
    """ECDSA is malleable: (r, n - s) verifies wherever (r, s) does. Our signer only makes low-S
    signatures, and a high-S or otherwise re-encoded copy of a valid token is refused."""
    from shared.jws import P256_ORDER

    keys = KeySet.from_private_key(ec.generate_private_key(ec.SECP256R1()))
    for n in range(40):  # a high S would come up about every other signature
        token = issue_device_token(f"d{n}", "o1", 1, NOW, keys=keys)
        s = base64.urlsafe_b64decode(token.split(".")[2] + "==")[32:]
        assert int.from_bytes(s, "big") <= P256_ORDER // 2
        assert verify_token(token, keys=keys).subject == f"d{n}"
        others = [t for t in _malleated(token) if t != token]
        assert len(others) == 4
        for other in others:
            with pytest.raises(PermissionDenied):
                verify_token(other, keys=keys)
    # stock PyJWT still verifies the high-S copy: the refusal is ours, on purpose
    high = _malleated(token)[0]
    assert jwt.decode(high, keys.signing_key.public_key(), algorithms=["ES256"])["sub"] == "d39"
