"""Helpers for tests of the provisioning API: a signing key for a test, principals, HTTP calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import reset_caches

__all__ = ["bearer", "signed_in", "signing_key", "unique_name"]


@contextmanager
def signing_key(directory: Path) -> Iterator[Path]:
    """A fresh ES256 key in `directory`, made this process's signing key while in use."""
    key = ec.generate_private_key(ec.SECP256R1())
    path = directory / f"signing-key-{uuid.uuid4().hex[:8]}.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("STRATUS_JWT_PRIVATE_KEY", raising=False)
        patch.delenv("STRATUS_JWT_PUBLIC_KEYS_FILE", raising=False)
        patch.setenv("STRATUS_JWT_PRIVATE_KEY_FILE", str(path))
        reset_caches()
        try:
            yield path
        finally:
            reset_caches()
    reset_caches()


def unique_name(prefix: str = "user") -> str:
    """A user name no other test uses (user names are unique across organisations)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def signed_in(base_url: str, username: str, password: str) -> str:
    """A user token through POST /api/users/signin (asserts it worked)."""
    response = httpx.post(
        f"{base_url}/api/users/signin", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    token: Any = response.json()["token"]
    return str(token)
