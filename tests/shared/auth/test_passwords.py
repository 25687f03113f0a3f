"""Passwords: scrypt hashes in a self-describing form, constant-time checks, the policy."""

from __future__ import annotations

import base64

import pytest

from shared.auth import passwords
from shared.auth.passwords import check_policy, hash_password, verify_or_dummy, verify_password
from shared.errors import ValidationError


def test_hash_form_and_verification() -> None:
    stored = hash_password("correct horse")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horsE")
    assert not verify_password(stored, "")


def test_salts_differ_and_a_given_salt_is_stable() -> None:
    assert hash_password("same password") != hash_password("same password")
    salt = bytes(range(16))
    assert hash_password("same password", salt=salt) == hash_password("same password", salt=salt)


def test_unicode_is_normalised() -> None:
    stored = hash_password("caf\u00e9 au lait")  # precomposed é
    assert verify_password(stored, "cafe\u0301 au lait")  # e + combining acute


def test_older_costs_still_verify() -> None:
    salt = b"0123456789abcdef"
    digest = passwords._scrypt("old password", salt, 2**10, 8, 1, 32)
    stored = (
        f"scrypt$1024$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    )
    assert verify_password(stored, "old password")


@pytest.mark.parametrize(
    "stored",
    [
        "plain-text",
        "bcrypt$1$2$3$4$5",
        "scrypt$x$8$1$AAAA$AAAA",
        "scrypt$1073741824$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 44,
        "scrypt$1000$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 44,
        "scrypt$16384$8$1$AA==$" + "A" * 44,
        "scrypt$16384$8$1$!!!!$AAAA",
    ],
)
def test_a_corrupted_stored_hash_is_a_data_error(stored: str) -> None:
    with pytest.raises(ValueError, match="stored password hash"):
        verify_password(stored, "whatever1")


def test_unknown_user_does_the_same_work(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int, int]] = []
    real = passwords._scrypt

    def counting(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
        calls.append((n, r, p))
        return real(password, salt, n, r, p, length)

    stored = hash_password("the password")
    monkeypatch.setattr(passwords, "_scrypt", counting)
    assert verify_or_dummy(stored, "the password") is True
    assert verify_or_dummy(stored, "wrong password") is False
    assert verify_or_dummy(None, "the password") is False
    assert verify_or_dummy(None, "") is False
    assert calls == [(2**14, 8, 1)] * 4


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "must be a string"),
        (12345678, "must be a string"),
        ("short", "at least 8 characters"),
        ("x" * 257, "at most 256 characters"),
        (" " * 8, "only spaces"),
    ],
)
def test_policy_names_the_field(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        check_policy(value)
    assert caught.value.field == "password"


def test_policy_accepts_a_reasonable_password() -> None:
    assert check_policy("eight ch") == "eight ch"
