"""Signing keys: loaded once from the environment, named by thumbprint, published as a JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.auth import AuthConfig, KeySet, jwks, keyset, reset_caches, thumbprint
from shared.errors import Unavailable
from tests.shared.auth.conftest import write_key


def test_thumbprint_is_rfc7638() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    numbers = key.public_numbers()

    def b64(number: int) -> str:
        return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()

    canonical = f'{{"crv":"P-256","kty":"EC","x":"{b64(numbers.x)}","y":"{b64(numbers.y)}"}}'
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=")
    assert thumbprint(key) == expected.decode()


def test_jwks_publishes_the_public_key_only(signing_key: ec.EllipticCurvePrivateKey) -> None:
    document = jwks()
    assert len(document["keys"]) == 1
    jwk = document["keys"][0]
    assert jwk["kid"] == thumbprint(signing_key.public_key())
    assert {jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]} == {"EC", "P-256", "ES256", "sig"}
    assert "d" not in jwk


def test_keys_are_loaded_once(signing_key: ec.EllipticCurvePrivateKey, tmp_path: Path) -> None:
    first = keyset()
    (tmp_path / "key.pem").unlink()
    assert keyset() is first


def test_pem_text_wins_over_the_file(
    signing_key: ec.EllipticCurvePrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    monkeypatch.setenv("STRATUS_JWT_PRIVATE_KEY", pem.decode())
    reset_caches()
    assert keyset().kid == thumbprint(other.public_key())


def test_older_public_keys_still_verify(
    signing_key: ec.EllipticCurvePrivateKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = ec.generate_private_key(ec.SECP256R1())
    old_jwks = KeySet.from_private_key(old).jwks()
    (tmp_path / "old.json").write_text(json.dumps(old_jwks))
    monkeypatch.setenv("STRATUS_JWT_PUBLIC_KEYS_FILE", str(tmp_path / "old.json"))
    reset_caches()
    keys = keyset()
    assert keys.kid == thumbprint(signing_key.public_key())
    assert list(keys.verifiers) == [keys.kid, thumbprint(old.public_key())]
    assert [jwk["kid"] for jwk in jwks()["keys"]] == list(keys.verifiers)


def test_missing_key_is_a_clear_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STRATUS_JWT_PRIVATE_KEY", "STRATUS_JWT_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    reset_caches()
    with pytest.raises(
        Unavailable, match="signing key not configured: set STRATUS_JWT_PRIVATE_KEY_FILE"
    ):
        keyset()
    reset_caches()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key", "not a readable unencrypted PEM private key"),
        (None, "cannot be read"),
        ("rsa", "not an EC P-256 key"),
        ("p384", "not an EC P-256 key"),
    ],
)
def test_unusable_key_files_say_why(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "key.pem"
    if content == "rsa":
        write_key(path, rsa.generate_private_key(65537, 2048))  # type: ignore[arg-type]
    elif content == "p384":
        write_key(path, ec.generate_private_key(ec.SECP384R1()))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(Unavailable, match=message) as caught:
        KeySet.from_config(AuthConfig(private_key_file=str(path)))
    assert str(path) in caught.value.message


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("[1]", "must be a JWKS"),
        ("{", "is not JSON"),
        ('{"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]}', "key 0 is not an EC P-256 JWK"),
        ('{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}', "not a valid P-256"),
    ],
)
def test_unusable_public_keys_file_says_why(
    signing_key: ec.EllipticCurvePrivateKey, tmp_path: Path, document: str, message: str
) -> None:
    (tmp_path / "old.json").write_text(document)
    config = AuthConfig(
        private_key_file=str(tmp_path / "key.pem"), public_keys_file=str(tmp_path / "old.json")
    )
    with pytest.raises(Unavailable, match=message):
        KeySet.from_config(config)


def test_public_keys_alone_verify_and_never_sign(
    signing_key: ec.EllipticCurvePrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function that only verifies is given the JWKS, never the private key."""
    from shared.auth import issue_device_token, verify_token

    token = issue_device_token("d1", "o1", 1, 1_700_000_000)
    public = json.dumps(KeySet.from_private_key(signing_key).jwks())
    monkeypatch.delenv("STRATUS_JWT_PRIVATE_KEY_FILE")
    monkeypatch.setenv("STRATUS_JWT_PUBLIC_KEYS", public)
    reset_caches()
    keys = keyset()
    assert not keys.can_sign and keys.kid == ""
    assert verify_token(token).subject == "d1"
    assert jwks()["keys"][0]["kid"] == thumbprint(signing_key.public_key())
    with pytest.raises(Unavailable, match="holds only the public keys"):
        issue_device_token("d2", "o1", 1, 1_700_000_000)


def test_public_keys_text_adds_verifiers_to_a_signer(
    signing_key: ec.EllipticCurvePrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = ec.generate_private_key(ec.SECP256R1())
    monkeypatch.setenv("STRATUS_JWT_PUBLIC_KEYS", json.dumps(KeySet.from_private_key(old).jwks()))
    reset_caches()
    keys = keyset()
    assert keys.can_sign
    assert list(keys.verifiers) == [keys.kid, thumbprint(old.public_key())]


def test_unusable_public_keys_text_says_which_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Unavailable, match="STRATUS_JWT_PUBLIC_KEYS is not JSON"):
        KeySet.from_config(AuthConfig(public_keys="{"))
