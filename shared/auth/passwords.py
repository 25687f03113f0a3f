"""Password hashing with scrypt, constant-time checks, and the password policy.

Stored form: `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`, so the cost can be raised later
without invalidating older hashes. `verify_or_dummy` costs the same for an unknown user as for a
wrong password, so sign-in does not reveal which user names exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata

from shared.errors import ValidationError

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "check_policy",
    "hash_password",
    "verify_or_dummy",
    "verify_password",
]

MIN_LENGTH = 8
MAX_LENGTH = 256

_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_MAXMEM = 64 * 1024 * 1024
_SCHEME = "scrypt"


def _encode(password: str) -> bytes:
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(_encode(password), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=length)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The stored form of `password` with a fresh random salt (or the one given, for tests)."""
    salt = os.urandom(_SALT_BYTES) if salt is None else salt
    digest = _scrypt(password, salt, _N, _R, _P, _HASH_BYTES)
    return f"{_SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        raise ValueError("stored password hash is not in the scrypt$n$r$p$salt$hash form")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except ValueError:
        raise ValueError("stored password hash has unreadable fields") from None
    # Bounds keep a corrupted record from asking for gigabytes or hours.
    if not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise ValueError(f"stored password hash has unsupported cost n={n} r={r} p={p}")
    if not (8 <= len(salt) <= 64 and 16 <= len(digest) <= 64):
        raise ValueError("stored password hash has an unsupported salt or hash length")
    return n, r, p, salt, digest


def verify_password(stored: str, password: str) -> bool:
    """Whether `password` matches the stored hash (compared in constant time).

    A stored value that is not a hash we wrote raises ValueError: that is a data error, not a
    wrong password.
    """
    n, r, p, salt, digest = _parse(stored)
    candidate = _scrypt(password, salt, n, r, p, len(digest))
    return hmac.compare_digest(candidate, digest)


# Same cost and lengths as a real hash; no password has an all-zero scrypt output in practice.
_DUMMY = f"{_SCHEME}${_N}${_R}${_P}${_b64(bytes(_SALT_BYTES))}${_b64(bytes(_HASH_BYTES))}"


def verify_or_dummy(stored: str | None, password: str) -> bool:
    """`verify_password`, or for an unknown user (`stored` None) the same work and False."""
    if stored is None:
        verify_password(_DUMMY, password)
        return False
    return verify_password(stored, password)


def check_policy(password: object) -> str:
    """The password if it may be set; ValidationError naming field `password` otherwise."""
    if not isinstance(password, str):
        raise ValidationError("password must be a string", field="password")
    length = len(unicodedata.normalize("NFC", password))
    if length < MIN_LENGTH:
        raise ValidationError(
            f"password must be at least {MIN_LENGTH} characters long", field="password"
        )
    if length > MAX_LENGTH:
        raise ValidationError(
            f"password must be at most {MAX_LENGTH} characters long", field="password"
        )
    if not password.strip():
        raise ValidationError("password must not be only spaces", field="password")
    return password
