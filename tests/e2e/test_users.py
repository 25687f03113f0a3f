"""Users and organisations through the running emulator: sign-in, CRUD, the member/admin/foreign
matrix, revocation by password change, tampered tokens, the authorization header, body errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import KeySet, issue_user_token
from tests.e2e.provisioning import foreign_admin
from tests.support.api import bearer, platform_keys, signed_in, unique_name, until_status
from tests.support.emulator import RunningEmulator

pytestmark = pytest.mark.e2e

PASSWORD = "member password 1"


class Client:
    """Calls on the platform as one user (or nobody)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token

    def call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = dict(bearer(self.token)) if self.token else {}
        headers.update(kwargs.pop("headers", None) or {})  # type: ignore[arg-type]
        return httpx.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def admin(platform: RunningEmulator) -> Client:
    return Client(platform.base_url, signed_in(platform.base_url, "admin", platform.admin_password))


def _new_member(platform: RunningEmulator, admin: Client) -> tuple[Client, dict]:
    username = unique_name("member")
    created = admin.call("POST", "/api/users/", json={"username": username, "password": PASSWORD})
    assert created.status_code == 201, created.text
    user = created.json()
    return Client(platform.base_url, signed_in(platform.base_url, username, PASSWORD)), user


@pytest.fixture(scope="module")
def member(platform: RunningEmulator, admin: Client) -> Iterator[tuple[Client, dict]]:
    yield _new_member(platform, admin)


def _error(answer: httpx.Response, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()["error"]


# -- sign-in ------------------------------------------------------------------------------------


def test_signin_answers_a_token_for_the_seeded_admin(platform: RunningEmulator) -> None:
    answer = httpx.post(
        f"{platform.base_url}/api/users/signin",
        json={"username": "admin", "password": platform.admin_password},
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    token = answer.json()["token"]
    me = Client(platform.base_url, token).call("GET", "/api/users/self")
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["role"]) == ("admin", "admin")


def test_unknown_user_and_wrong_password_get_the_same_answer(platform: RunningEmulator) -> None:
    url = f"{platform.base_url}/api/users/signin"
    wrong = httpx.post(url, json={"username": "admin", "password": "not the password"})
    unknown = httpx.post(url, json={"username": unique_name("nobody"), "password": "whatever1"})
    assert _error(wrong, 403) == _error(unknown, 403)
    assert _error(wrong, 403)["message"] == "invalid username or password"


@pytest.mark.parametrize(
    ("content", "headers", "status", "field"),
    [
        (b'{"username": "admin"}', {"content-type": "application/json"}, 400, "password"),
        (b'{"username": 1, "password": "x"}', {}, 400, "username"),
        (b'{"username": "admin", "password": "x", "otp": 1}', {}, 400, "otp"),
        (b"username=admin", {"content-type": "application/x-www-form-urlencoded"}, 415, None),
        (b"{not json", {"content-type": "application/json"}, 400, None),
        (b"", {"content-type": "application/json"}, 400, None),
        (b"[]", {"content-type": "application/json"}, 400, None),
    ],
)
def test_bad_signin_bodies_name_the_field(
    platform: RunningEmulator, content: bytes, headers: dict, status: int, field: str | None
) -> None:
    answer = httpx.post(f"{platform.base_url}/api/users/signin", content=content, headers=headers)
    assert _error(answer, status).get("field") == field


def test_an_oversized_body_is_413(platform: RunningEmulator, admin: Client) -> None:
    huge = json.dumps({"username": "admin", "password": "x" * 70_000})
    answer = httpx.post(
        f"{platform.base_url}/api/users/signin",
        content=huge,
        headers={"content-type": "application/json"},
    )
    assert _error(answer, 413)["code"] == "payload_too_large"
    assert _error(admin.call("POST", "/api/users", content=huge), 413)


# -- CRUD and the matrix ------------------------------------------------------------------------


def test_crud_round(platform: RunningEmulator, admin: Client) -> None:
    username = unique_name("crud")
    created = admin.call(
        "POST", "/api/users/", json={"username": username, "password": PASSWORD, "role": "member"}
    )
    assert created.status_code == 201
    user = created.json()
    assert created.headers["location"] == f"/api/users/{user['id']}"
    assert (user["username"], user["role"]) == (username, "member")
    assert "password_hash" not in user and "token_version" not in user

    again = admin.call("POST", "/api/users", json={"username": username, "password": PASSWORD})
    assert _error(again, 409)["field"] == "username"

    assert admin.call("GET", f"/api/users/{user['id']}").json() == user
    renamed = admin.call("PATCH", f"/api/users/{user['id']}", json={"username": username + "-b"})
    assert renamed.status_code == 200
    assert renamed.json()["username"] == username + "-b"
    signed_in(platform.base_url, username + "-b", PASSWORD)

    listed, cursor = [], None
    while True:
        page = admin.call(
            "GET", "/api/users", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200
        listed += page.json()["items"]
        cursor = page.json()["next"]
        if cursor is None:
            break
    assert username + "-b" in [u["username"] for u in listed]

    assert admin.call("DELETE", f"/api/users/{user['id']}").status_code == 204
    assert _error(admin.call("GET", f"/api/users/{user['id']}"), 404)
    assert _error(admin.call("DELETE", f"/api/users/{user['id']}"), 404)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"cursor": "%%"}, "cursor")],
)
def test_bad_list_parameters_are_400(admin: Client, params: dict, field: str) -> None:
    assert _error(admin.call("GET", "/api/users", params=params), 400)["field"] == field


def test_create_body_errors_name_the_field(admin: Client) -> None:
    for body, field in (
        ({"password": PASSWORD}, "username"),
        ({"username": "has space", "password": PASSWORD}, "username"),
        ({"username": unique_name(), "password": "short"}, "password"),
        ({"username": unique_name(), "password": PASSWORD, "role": "root"}, "role"),
    ):
        assert _error(admin.call("POST", "/api/users", json=body), 400)["field"] == field


def test_a_member_reads_and_changes_only_itself(admin: Client, member: tuple[Client, dict]) -> None:
    client, user = member
    admin_id = admin.call("GET", "/api/users/self").json()["id"]
    assert client.call("GET", "/api/users/self").json() == user
    assert client.call("GET", f"/api/users/{user['id']}").json() == user
    for method, path, body in (
        ("POST", "/api/users", {"username": unique_name(), "password": PASSWORD}),
        ("GET", "/api/users", None),
        ("GET", f"/api/users/{admin_id}", None),
        ("PATCH", f"/api/users/{admin_id}", {"username": unique_name()}),
        ("PATCH", "/api/users/self", {"role": "admin"}),
        ("DELETE", f"/api/users/{admin_id}", None),
        ("DELETE", "/api/users/self", None),
        ("PATCH", "/api/orgs/self", {"name": "taken over"}),
    ):
        answer = client.call(method, path, json=body) if body else client.call(method, path)
        assert _error(answer, 403)["code"] == "permission_denied", (method, path)
    org = client.call("GET", "/api/orgs/self")
    assert org.status_code == 200
    assert org.json()["id"] == user["org"]


def test_another_organisations_users_are_404(
    platform: RunningEmulator, member: tuple[Client, dict]
) -> None:
    foreign = foreign_admin(platform)
    stranger = Client(platform.base_url, foreign.token)
    _, user = member
    for method, body in (("GET", None), ("PATCH", {"role": "admin"}), ("DELETE", None)):
        path = f"/api/users/{user['id']}"
        answer = stranger.call(method, path, json=body) if body else stranger.call(method, path)
        assert _error(answer, 404)["code"] == "not_found"
    listed = stranger.call("GET", "/api/users").json()["items"]
    assert user["id"] not in [u["id"] for u in listed]
    assert stranger.call("GET", "/api/orgs/self").json()["id"] != user["org"]


def test_device_and_consumer_tokens_cannot_call_the_users_api(admin: Client) -> None:
    device = admin.call("POST", "/api/devices/", json={"name": unique_name("dev")})
    assert device.status_code == 201, device.text
    device_id = device.json()["result"]["id"]
    consumer = admin.call("POST", "/api/consumers", json={"name": unique_name("app")})
    assert consumer.status_code == 201, consumer.text
    consumer_id = consumer.json()["id"]
    tokens = {
        "device": admin.call("GET", f"/api/devices/{device_id}/key").json()["token"],
        "consumer": admin.call("GET", f"/api/consumers/{consumer_id}/key").json()["token"],
    }
    try:
        for kind, token in tokens.items():
            client = Client(admin.base_url, token)
            for path in ("/api/users/self", "/api/users", "/api/orgs/self"):
                message = _error(client.call("GET", path), 403)["message"]
                assert message == f"a {kind} token cannot call the management API"
    finally:
        admin.call("DELETE", f"/api/devices/{device_id}")
        admin.call("DELETE", f"/api/consumers/{consumer_id}")


# -- revocation -----------------------------------------------------------------------------------


def test_a_password_change_revokes_the_old_token(platform: RunningEmulator, admin: Client) -> None:
    client, user = _new_member(platform, admin)
    missing = client.call("PATCH", "/api/users/self", json={"password": "brand new password"})
    assert _error(missing, 400)["field"] == "current_password"
    wrong = client.call(
        "PATCH", "/api/users/self",
        json={"password": "brand new password", "current_password": "not it at all"},
    )  # fmt: skip
    assert _error(wrong, 403)["field"] == "current_password"

    changed = client.call(
        "PATCH", "/api/users/self",
        json={"password": "brand new password", "current_password": PASSWORD},
    )  # fmt: skip
    assert changed.status_code == 200
    old = until_status(lambda: client.call("GET", "/api/users/self"), 403)
    assert _error(old, 403)["message"].startswith("token revoked")
    fresh = Client(
        platform.base_url, signed_in(platform.base_url, user["username"], "brand new password")
    )
    assert fresh.call("GET", "/api/users/self").status_code == 200
    stale = httpx.post(
        f"{platform.base_url}/api/users/signin",
        json={"username": user["username"], "password": PASSWORD},
    )
    assert _error(stale, 403)


def test_deleting_a_user_revokes_its_token(platform: RunningEmulator, admin: Client) -> None:
    client, user = _new_member(platform, admin)
    assert admin.call("DELETE", f"/api/users/{user['id']}").status_code == 204
    gone = until_status(lambda: client.call("GET", "/api/users/self"), 403)
    assert _error(gone, 403)["message"] == "token revoked: the user no longer exists"


def test_the_last_admin_cannot_be_demoted_or_deleted(platform: RunningEmulator) -> None:
    only = Client(platform.base_url, foreign_admin(platform).token)  # a fresh org, one admin
    assert (
        "last admin"
        in _error(only.call("PATCH", "/api/users/self", json={"role": "member"}), 409)["message"]
    )
    assert "last admin" in _error(only.call("DELETE", "/api/users/self"), 409)["message"]
    assert only.call("GET", "/api/users/self").json()["role"] == "admin"


# -- tokens and the authorization header --------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(platform: RunningEmulator, admin: Client) -> dict:
    me = admin.call("GET", "/api/users/self").json()
    payload = admin.token.split(".")[1]  # type: ignore[union-attr]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == me["id"]
    return claims


def test_tampered_and_expired_tokens_are_403(platform: RunningEmulator, admin: Client) -> None:
    claims = _claims(platform, admin)
    keys = platform_keys(platform.data_dir)
    body = _b64(json.dumps(claims).encode())
    none = f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{body}."
    public_pem = keys.signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs_header = _b64(json.dumps({"alg": "HS256", "kid": keys.kid, "typ": "JWT"}).encode())
    mac = hmac.new(public_pem, f"{hs_header}.{body}".encode(), hashlib.sha256).digest()
    stranger = KeySet.from_private_key(ec.generate_private_key(ec.SECP256R1()))
    args = (claims["sub"], claims["org"], claims["role"], claims["tv"])
    head, payload, signature = admin.token.split(".")  # type: ignore[union-attr]
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    cases = {
        "alg none": (none, "'none' is not accepted"),
        "HS256 swap": (f"{hs_header}.{body}.{_b64(mac)}", "'HS256' is not accepted"),
        "unknown kid": (issue_user_token(*args, keys=stranger), "is not one of our keys"),
        "expired": (
            issue_user_token(*args, now=int(time.time()) - 7200, ttl=3600, keys=keys),
            "token has expired",
        ),
        "bad signature": (f"{head}.{payload}.{flipped}", "signature is invalid"),
        "not a JWS": ("abc.def", "malformed"),
    }
    for name, (token, message) in cases.items():
        answer = Client(platform.base_url, token).call("GET", "/api/users/self")
        assert message in _error(answer, 403)["message"], name


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": ""}, {"authorization": "Token abc"}, {"authorization": "Bearer"},
     {"authorization": "Bearer a b"}, {"authorization": "Basic YWRtaW46eA=="}],
)  # fmt: skip
def test_a_missing_or_malformed_authorization_header_is_401(
    platform: RunningEmulator, headers: dict
) -> None:
    answer = httpx.get(f"{platform.base_url}/api/users/self", headers=headers)
    assert _error(answer, 401)["code"] == "unauthenticated"


@pytest.mark.parametrize("name", ["authorization", "Authorization", "AUTHORIZATION"])
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_header_name_and_scheme_are_case_insensitive(
    admin: Client, name: str, scheme: str
) -> None:
    answer = httpx.get(
        f"{admin.base_url}/api/users/self", headers={name: f"{scheme} {admin.token}"}
    )
    assert answer.status_code == 200


def test_signin_ignores_a_stale_token(platform: RunningEmulator) -> None:
    answer = httpx.post(
        f"{platform.base_url}/api/users/signin",
        json={"username": "admin", "password": platform.admin_password},
        headers={"authorization": "Bearer stale.token.here"},
    )
    assert answer.status_code == 200


# -- organisations ------------------------------------------------------------------------------


def test_an_admin_renames_the_organisation(admin: Client) -> None:
    before = admin.call("GET", "/api/orgs/self").json()
    renamed = admin.call("PATCH", "/api/orgs/self", json={"name": "  Lab 4  "})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Lab 4"
    assert renamed.json()["id"] == before["id"]
    assert _error(admin.call("PATCH", "/api/orgs/self", json={"name": ""}), 400)["field"] == "name"
    assert _error(admin.call("PATCH", "/api/orgs/self", json={"id": "x"}), 400)["field"] == "id"
    restored = admin.call("PATCH", "/api/orgs/self", json={"name": before["name"]})
    assert restored.json()["name"] == before["name"]
