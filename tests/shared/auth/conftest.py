"""A fresh signing key per test, given through the environment as the emulator gives it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import reset_caches


def write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def signing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    for name in ("STRATUS_JWT_PRIVATE_KEY", "STRATUS_JWT_PUBLIC_KEYS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STRATUS_JWT_PRIVATE_KEY_FILE", str(write_key(tmp_path / "key.pem", key)))
    reset_caches()
    yield key
    reset_caches()
