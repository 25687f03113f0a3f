"""Issuing and verifying Stratus tokens: ES256 JWTs for users, devices and consumers.

Claims: `iss` "stratus", `sub`, `iat`, `typ` (user, device or consumer), `org`. User tokens add
`role` (admin or member), `tv` (the user's token version) and `exp`; device and consumer tokens
add `kv` (the key version) and never expire: they last until the key is rotated or the owner is
deleted (see `shared.auth.guard`). All tokens are signed with RFC 6979 nonces, so a device or
consumer token with the same key version and issue time is the same string every time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from shared.auth.config import auth_config
from shared.auth.keys import KeySet, keyset
from shared.errors import PermissionDenied
from shared.jws import canonical, encode_deterministic

__all__ = [
    "ISSUER",
    "KINDS",
    "ROLES",
    "Principal",
    "issue_consumer_token",
    "issue_device_token",
    "issue_user_token",
    "verify_token",
]

ISSUER = "stratus"
KINDS = frozenset({"user", "device", "consumer"})
ROLES = frozenset({"admin", "member"})
LEEWAY_SECONDS = 30  # clock skew tolerated between the issuing and the verifying instance

_REQUIRED = ["iss", "sub", "iat", "typ", "org"]
_DECODE_OPTIONS: Any = {
    "require": _REQUIRED,
    "verify_exp": False,  # checked below against the caller's clock
    "verify_iat": False,
    "verify_nbf": False,
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified token speaks for.

    `version` is the user's token version (`tv`) or the device's or consumer's key version (`kv`);
    `role` is set for users only.
    """

    kind: str
    subject: str
    org: str
    role: str | None
    version: int


def _sign(claims: dict[str, Any], keys: KeySet | None) -> str:
    private_key, kid = (keys or keyset()).signer()
    return encode_deterministic({"iss": ISSUER, **claims}, private_key, kid)


def issue_user_token(
    user_id: str,
    org: str,
    role: str,
    version: int,
    *,
    now: int | None = None,
    ttl: int | None = None,
    keys: KeySet | None = None,
) -> str:
    """A user token that expires `ttl` seconds (STRATUS_USER_TOKEN_TTL) after `now`."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {sorted(ROLES)}, not {role!r}")
    issued = int(time.time()) if now is None else int(now)
    lifetime = auth_config().user_token_ttl if ttl is None else ttl
    claims = {
        "sub": user_id,
        "typ": "user",
        "org": org,
        "role": role,
        "tv": version,
        "iat": issued,
        "exp": issued + lifetime,
    }
    return _sign(claims, keys)


def _key_token(
    kind: str, subject: str, org: str, version: int, issued_at: int, keys: KeySet | None
) -> str:
    claims = {"sub": subject, "typ": kind, "org": org, "kv": version, "iat": int(issued_at)}
    return _sign(claims, keys)


def issue_device_token(
    device_id: str, org: str, key_version: int, issued_at: int, *, keys: KeySet | None = None
) -> str:
    """The device token of one key version; `issued_at` is fixed per version (e.g. its creation
    time), so asking again gives the same string (the broker keeps it as the MQTT password)."""
    return _key_token("device", device_id, org, key_version, issued_at, keys)


def issue_consumer_token(
    consumer_id: str, org: str, key_version: int, issued_at: int, *, keys: KeySet | None = None
) -> str:
    """The consumer token of one key version; stable like a device token."""
    return _key_token("consumer", consumer_id, org, key_version, issued_at, keys)


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise PermissionDenied("token is malformed: not a compact JWS") from None


def _decode(token: str, keys: KeySet) -> dict[str, Any]:
    header = _header(token)
    alg = header.get("alg")
    if alg != "ES256":
        raise PermissionDenied(f"token algorithm {str(alg)[:20]!r} is not accepted; only ES256 is")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise PermissionDenied("token has no key id (kid)")
    public_key = keys.verifiers.get(kid)
    if public_key is None:
        raise PermissionDenied(f"token key id {kid[:64]!r} is not one of our keys")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, public_key, algorithms=["ES256"], issuer=ISSUER, options=_DECODE_OPTIONS
        )
    except jwt.InvalidSignatureError:
        raise PermissionDenied("token signature is invalid") from None
    except jwt.MissingRequiredClaimError as exc:
        raise PermissionDenied(f"token is missing the {exc.claim!r} claim") from None
    except jwt.InvalidIssuerError:
        raise PermissionDenied(f"token issuer is not {ISSUER!r}") from None
    except jwt.InvalidTokenError as exc:
        raise PermissionDenied(f"token is invalid: {exc}") from None
    return claims


def _string(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise PermissionDenied(f"token claim {name!r} must be a non-empty string")
    return value


def _integer(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        if value is None:
            raise PermissionDenied(f"token is missing the {name!r} claim")
        raise PermissionDenied(f"token claim {name!r} must be an integer")
    return value


def verify_token(token: str, *, keys: KeySet | None = None, now: float | None = None) -> Principal:
    """The principal of a valid token; PermissionDenied saying what is wrong otherwise.

    Only ES256 with a known `kid` is accepted (no `none`, no HS/RS algorithm swap), in its one
    canonical encoding (low-S signature, exact base64url: `shared.jws.canonical`). Revocation
    (a rotated key, a changed password, a deleted owner) is the guard's job, not this function's.
    """
    claims = _decode(token, keys or keyset())
    moment = time.time() if now is None else now
    kind = _string(claims, "typ")
    if kind not in KINDS:
        raise PermissionDenied(f"token type {kind[:20]!r} is not one of {sorted(KINDS)}")
    subject, org = _string(claims, "sub"), _string(claims, "org")
    issued = _integer(claims, "iat")
    if issued > moment + LEEWAY_SECONDS:
        raise PermissionDenied("token is issued in the future")
    if kind == "user":
        role = _string(claims, "role")
        if role not in ROLES:
            raise PermissionDenied(f"token role {role[:20]!r} is not one of {sorted(ROLES)}")
        expires = _integer(claims, "exp")
        if moment >= expires + LEEWAY_SECONDS:
            raise PermissionDenied("token has expired")
        principal = Principal(kind, subject, org, role, _integer(claims, "tv"))
    else:
        principal = Principal(kind, subject, org, None, _integer(claims, "kv"))
    if not canonical(token):  # a second encoding of a valid token (high S, spare bits)
        raise PermissionDenied("token is not in canonical form (one encoding per token)")
    return principal
