"""The token keys: the ES256 signing key, the public keys that verify, and their JWKS.

Only the functions that sign tokens (sign-in, device and consumer keys, bootstrap) hold the private
key; every other one verifies with public keys alone (`STRATUS_JWT_PUBLIC_KEYS`, a JWKS), which is
a verify-only `KeySet`. Keys are parsed once per process (`keyset()`), so verifying a token never
parses PEM. Every key is named by its RFC 7638 JWK thumbprint, the `kid` of the tokens it signs.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth.config import AuthConfig, auth_config
from shared.errors import Unavailable

__all__ = ["KeySet", "jwks", "keyset", "public_jwk", "thumbprint"]

_NOT_CONFIGURED = (
    "signing key not configured: set STRATUS_JWT_PRIVATE_KEY_FILE (or STRATUS_JWT_PRIVATE_KEY) "
    "where tokens are signed, STRATUS_JWT_PUBLIC_KEYS (a JWKS) where they are only verified"
)
_VERIFY_ONLY = (
    "this function holds only the public keys (STRATUS_JWT_PUBLIC_KEYS): it verifies tokens but "
    "never signs one; only the functions that issue tokens are given STRATUS_JWT_PRIVATE_KEY"
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _coordinates(key: ec.EllipticCurvePublicKey) -> tuple[str, str]:
    numbers = key.public_numbers()
    return _b64url(numbers.x.to_bytes(32, "big")), _b64url(numbers.y.to_bytes(32, "big"))


def thumbprint(key: ec.EllipticCurvePublicKey) -> str:
    """The RFC 7638 JWK thumbprint (base64url SHA-256 of the required members, sorted)."""
    x, y = _coordinates(key)
    canonical = json.dumps(
        {"crv": "P-256", "kty": "EC", "x": x, "y": y}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public JWK of a P-256 key, with its thumbprint as `kid`."""
    x, y = _coordinates(key)
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": x,
        "y": y,
        "kid": thumbprint(key),
        "alg": "ES256",
        "use": "sig",
    }


def _p256(key: object, where: str) -> None:
    if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) or not (
        isinstance(key.curve, ec.SECP256R1)
    ):
        raise Unavailable(f"{where} is not an EC P-256 key (ES256 needs one)")


def _load_private(pem: bytes, where: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise Unavailable(f"{where} is not a readable unencrypted PEM private key: {exc}") from None
    _p256(key, where)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _read_jwks_file(path: str) -> tuple[str, str]:
    where = f"STRATUS_JWT_PUBLIC_KEYS_FILE={path}"
    try:
        return Path(path).read_text(), where
    except OSError as exc:
        raise Unavailable(f"{where} cannot be read: {exc.strerror}") from None


def _load_public_jwks(text: str, where: str) -> list[ec.EllipticCurvePublicKey]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise Unavailable(f"{where} is not JSON: {exc}") from None
    raw_keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(raw_keys, list):
        raise Unavailable(f'{where} must be a JWKS: {{"keys": [...]}}')
    keys = []
    for index, raw in enumerate(raw_keys):
        if not (
            isinstance(raw, Mapping)
            and raw.get("kty") == "EC"
            and raw.get("crv") == "P-256"
            and isinstance(raw.get("x"), str)
            and isinstance(raw.get("y"), str)
        ):
            raise Unavailable(f"{where}: key {index} is not an EC P-256 JWK with x and y")
        try:
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(_b64url_decode(raw["x"]), "big"),
                int.from_bytes(_b64url_decode(raw["y"]), "big"),
                ec.SECP256R1(),
            )
            keys.append(numbers.public_key())
        except ValueError as exc:
            raise Unavailable(f"{where}: key {index} is not a valid P-256 point: {exc}") from None
    return keys


@dataclass(frozen=True, slots=True)
class KeySet:
    """The signing key (None: verify only) and every public key a token may name in its `kid`."""

    signing_key: ec.EllipticCurvePrivateKey | None
    kid: str  # the signing key's; "" when verifying only
    verifiers: Mapping[str, ec.EllipticCurvePublicKey] = field(default_factory=dict)

    @property
    def can_sign(self) -> bool:
        return self.signing_key is not None

    def signer(self) -> tuple[ec.EllipticCurvePrivateKey, str]:
        """(private key, kid) to sign with; Unavailable in a verify-only function."""
        if self.signing_key is None:
            raise Unavailable(_VERIFY_ONLY)
        return self.signing_key, self.kid

    @classmethod
    def from_private_key(
        cls,
        key: ec.EllipticCurvePrivateKey,
        older: list[ec.EllipticCurvePublicKey] | None = None,
    ) -> KeySet:
        """A key set signing with `key` that also verifies tokens of the `older` keys."""
        public = key.public_key()
        kid = thumbprint(public)
        verifiers = {kid: public}
        for extra in older or []:
            verifiers.setdefault(thumbprint(extra), extra)
        return cls(key, kid, verifiers)

    @classmethod
    def from_pem(cls, pem: bytes, where: str = "the signing key") -> KeySet:
        """A key set signing with the PEM private key `pem` (Unavailable naming `where` when it
        is not an unencrypted EC P-256 key)."""
        return cls.from_private_key(_load_private(pem, where))

    @classmethod
    def verify_only(cls, keys: list[ec.EllipticCurvePublicKey]) -> KeySet:
        """A key set that verifies tokens of `keys` and signs none."""
        return cls(None, "", {thumbprint(key): key for key in keys})

    @classmethod
    def from_config(cls, config: AuthConfig) -> KeySet:
        """Load the keys the settings name; Unavailable with the reason when they are unusable.

        With a private key: it signs, and the public keys (text and file) verify besides it.
        Without: a verify-only key set of the public keys, which must name at least one."""
        public: list[ec.EllipticCurvePublicKey] = []
        if config.public_keys:
            public += _load_public_jwks(config.public_keys, "STRATUS_JWT_PUBLIC_KEYS")
        if config.public_keys_file:
            public += _load_public_jwks(*_read_jwks_file(config.public_keys_file))
        if config.private_key_pem:
            key = _load_private(config.private_key_pem.encode(), "STRATUS_JWT_PRIVATE_KEY")
        elif config.private_key_file:
            where = f"STRATUS_JWT_PRIVATE_KEY_FILE={config.private_key_file}"
            try:
                pem = Path(config.private_key_file).read_bytes()
            except OSError as exc:
                raise Unavailable(f"{where} cannot be read: {exc.strerror}") from None
            key = _load_private(pem, where)
        elif public:
            return cls.verify_only(public)
        else:
            raise Unavailable(_NOT_CONFIGURED)
        return cls.from_private_key(key, public)

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JWK Set, the signing key first."""
        return {"keys": [public_jwk(key) for key in self.verifiers.values()]}


@lru_cache(maxsize=1)
def keyset() -> KeySet:
    """This process's keys, loaded on first use (a failed load is retried on the next call)."""
    return KeySet.from_config(auth_config())


def jwks() -> dict[str, Any]:
    """The JWK Set of this process's keys: `{"keys": [...]}`."""
    return keyset().jwks()
