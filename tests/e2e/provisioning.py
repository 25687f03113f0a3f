"""Helpers of the provisioning end-to-end tests: tokens of every kind against a running platform.

Tokens of a second organisation are minted with the platform's own signing key after writing the
organisation and its admin into the platform's store, exactly as the first-start seed does: the
API has no route that creates organisations.
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import KeySet, hash_password, issue_user_token
from shared.directory import new_id
from shared.store.firestore import FirestoreStore
from tests.support.emulator import RunningEmulator
from tests.support.waiting import eventually

__all__ = ["Api", "eventually", "foreign_admin", "revoked", "signin", "store_of"]


@dataclass
class Api:
    """An httpx client on the platform speaking with one bearer token (or none)."""

    base_url: str
    token: str | None = None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        out = {"authorization": f"Bearer {self.token}"} if self.token else {}
        out.update(extra or {})
        return out

    def call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = self.headers(kwargs.pop("headers", None))  # type: ignore[arg-type]
        return httpx.request(
            method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs
        )  # type: ignore[arg-type]

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: object) -> httpx.Response:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: object) -> httpx.Response:
        return self.call("DELETE", path, **kwargs)

    @property
    def org(self) -> str:
        """The organisation in the token's claims."""
        assert self.token
        return str(jwt.decode(self.token, options={"verify_signature": False})["org"])

    def with_token(self, token: str | None) -> Api:
        return Api(self.base_url, token)


def signin(platform: RunningEmulator, username: str = "admin", password: str = "") -> Api:
    """An Api speaking as a user signed in through POST /api/users/signin."""
    answer = httpx.post(
        f"{platform.base_url}/api/users/signin",
        json={"username": username, "password": password or platform.admin_password},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return Api(platform.base_url, answer.json()["token"])


def store_of(platform: RunningEmulator) -> FirestoreStore:
    """The platform's store, through the official client (for setup and for checking); the
    client reads FIRESTORE_EMULATOR_HOST once, when it is built, so the variable is set only
    for that moment."""
    before = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = platform.firestore
    try:
        store = FirestoreStore(platform.project)
        assert store.client is not None
    finally:
        if before is None:
            del os.environ["FIRESTORE_EMULATOR_HOST"]
        else:
            os.environ["FIRESTORE_EMULATOR_HOST"] = before
    return store


def _keys(platform: RunningEmulator) -> KeySet:
    pem = (platform.data_dir / "keys" / "signing-key.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return KeySet.from_private_key(key)


def foreign_admin(platform: RunningEmulator) -> Api:
    """An admin of a second organisation."""
    store, org, user = store_of(platform), new_id(), new_id()
    now = datetime.now(UTC)
    store.create(f"orgs/{org}", {"name": "other", "created_at": now})
    username = f"other-{uuid.uuid4().hex[:8]}"
    store.create(
        f"orgs/{org}/users/{user}",
        {"username": username, "password_hash": hash_password(secrets.token_urlsafe(12)),
         "role": "admin", "token_version": 0,
         "created_at": now, "updated_at": now},
    )  # fmt: skip
    store.create(f"usernames/{username}", {"org": org, "user": user})
    token = issue_user_token(user, org, "admin", 0, keys=_keys(platform))
    return Api(platform.base_url, token)


def revoked(answer: httpx.Response) -> bool:
    """A 403 saying the token was revoked."""
    return answer.status_code == 403 and "token revoked" in answer.text
