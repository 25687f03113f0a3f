"""First-start seed: one organisation and its admin, the generated password shown exactly once."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.bootstrap import ADMIN, MARKER, first_organisation
from functions.users.model import Credentials
from functions.users.service import Users
from shared.auth import verify_token
from shared.store.firestore import FirestoreStore
from tests.support.api import signing_key
from tests.support.services import RunningService

pytestmark = pytest.mark.e2e


@pytest.fixture
def store(firestore: RunningService, monkeypatch: pytest.MonkeyPatch) -> FirestoreStore:
    """A project of its own: each test is a first start (user names are per project)."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore.address)
    return FirestoreStore(project=f"seed-{uuid.uuid4().hex[:8]}")


@pytest.fixture(autouse=True)
def key(tmp_path: Path) -> Iterator[Path]:
    with signing_key(tmp_path) as path:
        yield path


def test_a_generated_password_is_printed_once_and_signs_the_admin_in(
    store: FirestoreStore,
) -> None:
    out = io.StringIO()
    org = first_organisation(store, None, out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    found = re.search(r"password (\S+) \(shown only this once", lines[0])
    assert found and org in lines[0]
    password = found.group(1)
    assert len(password) >= 20
    principal = verify_token(Users(store).signin(Credentials(ADMIN, password)))
    assert (principal.org, principal.role) == (org, "admin")
    organisation = store.get(f"orgs/{org}")
    assert organisation is not None and organisation.data["name"] == "default"

    again = io.StringIO()
    assert first_organisation(store, None, again) is None
    assert again.getvalue() == ""
    marker = store.get(MARKER)
    assert marker is not None and marker.data["org"] == org


def test_a_given_password_is_used_and_never_printed(store: FirestoreStore) -> None:
    out = io.StringIO()
    org = first_organisation(store, "chosen by the operator", out)
    assert org is not None
    assert "chosen by the operator" not in out.getvalue()
    assert "STRATUS_ADMIN_PASSWORD" in out.getvalue()
    token = Users(store).signin(Credentials(ADMIN, "chosen by the operator"))
    assert verify_token(token).org == org
    assert first_organisation(store, "another password", io.StringIO()) is None


def test_a_given_password_must_meet_the_policy(store: FirestoreStore) -> None:
    with pytest.raises(SystemExit, match="STRATUS_ADMIN_PASSWORD: password must be at least 8"):
        first_organisation(store, "short", io.StringIO())
    assert store.get(MARKER) is None


def test_the_signing_key_comes_with_its_public_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateways get the JWKS, not the private key (emulator/platform.py), as deployed
    functions that only verify do."""
    import json

    from emulator.bootstrap import prepare
    from shared.auth import KeySet, reset_caches
    from shared.auth.config import AuthConfig

    for name in ("STRATUS_JWT_PRIVATE_KEY", "STRATUS_JWT_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    env = prepare(tmp_path)
    signer = KeySet.from_config(AuthConfig(private_key_file=env["STRATUS_JWT_PRIVATE_KEY_FILE"]))
    verifier = KeySet.from_config(AuthConfig(public_keys_file=env["STRATUS_JWT_PUBLIC_KEYS_FILE"]))
    assert not verifier.can_sign and list(verifier.verifiers) == [signer.kid]
    assert json.loads(Path(env["STRATUS_JWT_PUBLIC_KEYS_FILE"]).read_text()) == signer.jwks()
    reset_caches()
