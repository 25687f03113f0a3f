"""Helpers for tests of the provisioning API: a signing key for a test, principals, HTTP calls."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import reset_caches
from tests.support.waiting import eventually

__all__ = ["bearer", "platform_keys", "signed_in", "signing_key", "unique_name", "until_status"]


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


def platform_keys(data_dir: Path) -> Any:
    """The signing key set of an emulator whose data directory is `data_dir`."""
    from shared.auth import KeySet

    pem = (data_dir / "keys" / "signing-key.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return KeySet.from_private_key(key)


def until_status(
    request: Callable[[], httpx.Response], status: int, timeout: float = 20.0
) -> httpx.Response:
    """Repeat `request` until it answers `status` or `timeout` passes (revocation is bounded by
    STRATUS_TOKEN_CACHE_SECONDS per worker); the last answer either way."""
    return eventually(request, lambda answer: answer.status_code == status, timeout)
