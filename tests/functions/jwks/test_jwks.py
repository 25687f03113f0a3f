"""The JWKS function: one public key set through functions-framework, OpenWhisk and the host."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path

import functions_framework
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from functions.jwks.service import CACHE_CONTROL, document
from shared.auth import KeySet, issue_device_token, keyset, reset_caches, thumbprint
from tests.support.host import ROOT, running_host

SOURCE = ROOT / "functions/jwks/main.py"
jwks_main = importlib.import_module("functions.jwks.main")
PATH = "/.well-known/jwks.json"


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
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
    monkeypatch.delenv("STRATUS_JWT_PUBLIC_KEYS_FILE", raising=False)
    monkeypatch.setenv("STRATUS_JWT_PRIVATE_KEY_FILE", str(path))
    reset_caches()
    yield path
    reset_caches()


def test_document_lists_the_signing_key_then_older_ones() -> None:
    new, old = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    keys = KeySet.from_private_key(new, [old.public_key()])
    kids = [jwk["kid"] for jwk in document(keys)["keys"]]
    assert kids == [thumbprint(new.public_key()), thumbprint(old.public_key())]


def test_a_stock_verifier_checks_our_tokens_with_the_published_set(key_file: Path) -> None:
    status, _, body = via_openwhisk()
    assert status == 200
    token = issue_device_token("d1", "o1", 1, 1_700_000_000)
    published = jwt.PyJWKSet.from_dict(body)[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, published.key, algorithms=["ES256"])
    assert claims["sub"] == "d1"


def via_functions_framework() -> tuple[int, dict[str, str], dict]:
    client = functions_framework.create_app("http", str(SOURCE), "http").test_client()
    response = client.get(PATH)
    return response.status_code, dict(response.headers), response.get_json()


def via_openwhisk() -> tuple[int, dict[str, str], dict]:
    result = jwks_main.main(
        {"__ow_method": "get", "__ow_path": PATH, "__ow_headers": {}, "__ow_body": ""}
    )
    return result["statusCode"], result["headers"], json.loads(result["body"])  # JSON is text


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def test_functions_framework_and_openwhisk_agree(key_file: Path) -> None:
    expected = {"keys": [keyset().jwks()["keys"][0]]}
    for status, headers, body in (via_functions_framework(), via_openwhisk()):
        assert status == 200
        assert body == expected
        assert _lower(headers)["cache-control"] == CACHE_CONTROL
        assert _lower(headers)["content-type"].startswith("application/json")


def test_without_a_key_the_answer_is_503_and_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("STRATUS_JWT_PRIVATE_KEY", "STRATUS_JWT_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    reset_caches()
    try:
        status, _, body = via_openwhisk()
    finally:
        reset_caches()
    assert status == 503
    assert body["error"]["message"].startswith(
        "signing key not configured: set STRATUS_JWT_PRIVATE_KEY_FILE"
    )


def test_other_methods_are_405(key_file: Path) -> None:
    result = jwks_main.main({"__ow_method": "post", "__ow_path": PATH, "__ow_headers": {}})
    assert result["statusCode"] == 405


@pytest.mark.e2e
def test_the_emulator_host_serves_the_same_set(key_file: Path, tmp_path: Path) -> None:
    (tmp_path / "functions").symlink_to(ROOT / "functions")
    manifest = tmp_path / "serverless.yml"
    manifest.write_text(
        "service: jwks-test\n"
        'frameworkVersion: "3"\n'
        "provider:\n  name: openwhisk\n  runtime: python:3.11\n"
        "functions:\n  jwks:\n    handler: functions/jwks/main.main\n"
        "    events:\n      - http: GET /.well-known/jwks.json\n"
    )
    with running_host(manifest, STRATUS_JWT_PRIVATE_KEY_FILE=str(key_file)) as host:
        response = httpx.get(f"{host.base_url}{PATH}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == CACHE_CONTROL
    assert response.json() == via_functions_framework()[2] == keyset().jwks()
