"""The provisioning functions' entry points: functions-framework and OpenWhisk agree, refuse
unauthenticated calls before touching the store, and cap bodies at 64 KiB."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import reset_caches
from tests.support.host import ROOT

FUNCTIONS = {  # name -> its collection route
    "devices": "/api/devices",
    "sensors": "/api/devices/0123456789abcdef0123/sensors",
    "consumers": "/api/consumers",
}


def openwhisk(name: str, method: str, path: str, **extra: Any) -> tuple[int, dict]:
    module = importlib.import_module(f"functions.{name}.main")
    args = {"__ow_method": method, "__ow_path": path, "__ow_headers": {}, "__ow_body": "", **extra}
    result = module.main(args)
    return result["statusCode"], json.loads(result["body"])


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_token_is_401_on_both_platforms(name: str) -> None:
    collection = FUNCTIONS[name]
    status, body = openwhisk(name, "get", collection)
    assert status == 401
    assert body["error"]["message"] == "authorization header missing; send 'Bearer <token>'"
    source = ROOT / "functions" / name / "main.py"
    client = functions_framework.create_app("http", str(source), "http").test_client()
    answer = client.post(collection, json={"name": "x"})
    assert answer.status_code == 401
    assert answer.get_json()["error"] == body["error"]


@pytest.fixture
def signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "signing-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    monkeypatch.delenv("STRATUS_JWT_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("STRATUS_JWT_PRIVATE_KEY_FILE", str(path))
    reset_caches()
    yield
    reset_caches()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_malformed_token_is_403(name: str, signing_key: None) -> None:
    collection = FUNCTIONS[name]
    headers = {"authorization": "Bearer not-a-jwt"}
    status, body = openwhisk(name, "get", collection, __ow_headers=headers)
    assert status == 403
    assert body["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_bodies_over_64_kib_are_413(name: str) -> None:
    collection = FUNCTIONS[name]
    big = json.dumps({"name": "x", "description": "d" * 70_000})
    status, body = openwhisk(
        name, "post", collection, __ow_body=big, __ow_headers={"content-type": "application/json"}
    )
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"


def test_other_methods_are_405() -> None:
    status, body = openwhisk("devices", "put", "/api/devices")
    assert status == 405
    assert "allowed: POST, GET" in body["error"]["message"]
