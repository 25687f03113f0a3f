"""First-start preparation of the local platform: signing keys, then the first organisation."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["prepare", "seed"]


def _signing_key(path: Path) -> None:
    """Create an ES256 (P-256) private key in PKCS#8 PEM, readable by this user only."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    temp.replace(path)


def prepare(data_dir: Path) -> dict[str, str]:
    """Make what the functions need before they start; returns variables for the host.

    The token signing key is generated once and kept in `<data-dir>/keys/`, so tokens stay valid
    across restarts. A key given in STRATUS_JWT_PRIVATE_KEY(_FILE) takes precedence.
    """
    if os.environ.get("STRATUS_JWT_PRIVATE_KEY") or os.environ.get("STRATUS_JWT_PRIVATE_KEY_FILE"):
        return {}
    key_file = data_dir / "keys" / "signing-key.pem"
    if not key_file.exists():
        _signing_key(key_file)
    return {"STRATUS_JWT_PRIVATE_KEY_FILE": str(key_file)}


def seed(data_dir: Path, env: dict[str, str]) -> None:
    """Create what a first start needs in the store (the first organisation and its admin).

    Runs after the Firestore endpoint is up, with FIRESTORE_EMULATOR_HOST set; idempotent.
    """
