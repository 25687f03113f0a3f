"""First-start preparation of the local platform: signing keys, then the first organisation."""

from __future__ import annotations

import json
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from shared.store import Store

__all__ = ["first_organisation", "prepare", "seed"]


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
    across restarts, with its public keys beside it (`public-keys.json`, for the processes that
    only verify). A key given in STRATUS_JWT_PRIVATE_KEY(_FILE) takes precedence.
    """
    if os.environ.get("STRATUS_JWT_PRIVATE_KEY") or os.environ.get("STRATUS_JWT_PRIVATE_KEY_FILE"):
        return {}
    key_file = data_dir / "keys" / "signing-key.pem"
    if not key_file.exists():
        _signing_key(key_file)
    return {
        "STRATUS_JWT_PRIVATE_KEY_FILE": str(key_file),
        "STRATUS_JWT_PUBLIC_KEYS_FILE": str(_public_keys(key_file)),
    }


def _public_keys(key_file: Path) -> Path:
    """The JWKS of the signing key, next to it: what the processes that only verify tokens
    (the gateways) are given instead of the private key, as deployed functions are."""
    from shared.auth.keys import KeySet

    keys = KeySet.from_pem(key_file.read_bytes(), str(key_file))
    path = key_file.with_name("public-keys.json")
    path.write_text(json.dumps(keys.jwks(), indent=2) + "\n")
    return path


def seed(data_dir: Path, env: dict[str, str]) -> None:
    """Create what a first start needs in the store (the first organisation and its admin).

    Runs after the Firestore endpoint is up, with FIRESTORE_EMULATOR_HOST set; idempotent.
    """
    from shared.settings import DEFAULT_PROJECT
    from shared.store.firestore import FirestoreStore

    project = os.environ.get("STRATUS_PROJECT") or env.get("STRATUS_PROJECT") or DEFAULT_PROJECT
    given = os.environ.get("STRATUS_ADMIN_PASSWORD") or env.get("STRATUS_ADMIN_PASSWORD") or None
    first_organisation(FirestoreStore(project), given)


MARKER = "_stratus/bootstrap"
ADMIN = "admin"


def first_organisation(store: Store, password: str | None, out: TextIO = sys.stdout) -> str | None:
    """Create the first organisation and its admin `admin` unless a start did so before.

    The password is `password` (checked against the policy) or a generated one, printed on one
    line of `out` exactly once. Returns the new organisation's id, None when nothing was done.
    """
    from functions.users.model import NewUser
    from functions.users.service import Users
    from shared.auth import check_policy
    from shared.directory import new_id
    from shared.errors import Conflict, ValidationError

    if store.get(MARKER) is not None:
        return None
    generated = password is None
    if password is None:
        password = secrets.token_urlsafe(18)
    try:
        check_policy(password)
    except ValidationError as exc:
        raise SystemExit(f"STRATUS_ADMIN_PASSWORD: {exc.message}") from None
    org = new_id()
    now = datetime.now(UTC)
    try:
        Users(store).add(
            org,
            NewUser(ADMIN, password, "admin"),
            also={
                f"orgs/{org}": {"name": "default", "created_at": now, "updated_at": now},
                MARKER: {"org": org, "created_at": now},
            },
        )
    except Conflict:
        return None  # an admin user exists already (created by an earlier, older start)
    if generated:
        print(
            f"stratus: created organisation {org} with admin user '{ADMIN}', password "
            f"{password} (shown only this once; set STRATUS_ADMIN_PASSWORD to choose it)",
            file=out,
            flush=True,
        )
    else:
        print(
            f"stratus: created organisation {org} with admin user '{ADMIN}' "
            "(password from STRATUS_ADMIN_PASSWORD)",
            file=out,
            flush=True,
        )
    return org
