"""Request authentication: 401 for the header, 403 for the token, revocation through a cache."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import Principal, issue_device_token, issue_user_token
from shared.auth.guard import Authenticator, bearer_token, require
from shared.errors import AuthenticationError, PermissionDenied
from shared.function import HttpFunction
from shared.http import Request, json_response
from shared.router import Router


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Directory:
    """The store's answer for a principal's current version, counting lookups."""

    def __init__(self) -> None:
        self.versions: dict[str, int | None] = {"u1": 0, "d1": 1}
        self.lookups = 0

    def __call__(self, principal: Principal) -> int | None:
        self.lookups += 1
        return self.versions.get(principal.subject)


def user_token(role: str = "admin", version: int = 0) -> str:
    return issue_user_token("u1", "o1", role, version)


def request(authorization: str | None = None) -> Request:
    headers = {"authorization": authorization} if authorization is not None else {}
    return Request("GET", "/api/devices", headers=headers)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "authorization header missing"),
        ("", "authorization header missing"),
        ("Basic dXNlcjpwdw==", "must read 'Bearer <token>'"),
        ("Bearer", "must read 'Bearer <token>'"),
        ("Bearer ", "must read 'Bearer <token>'"),
        ("Bearer a b", "must read 'Bearer <token>'"),
        ("Token abc", "must read 'Bearer <token>'"),
    ],
)
def test_unreadable_headers_are_401(value: str | None, message: str) -> None:
    with pytest.raises(AuthenticationError, match=message):
        bearer_token(value)


@pytest.mark.parametrize("value", ["Bearer abc", "bearer abc", "BEARER  abc ", " Bearer abc"])
def test_the_scheme_is_case_insensitive(value: str) -> None:
    assert bearer_token(value) == "abc"


def test_a_valid_token_authenticates(signing_key: ec.EllipticCurvePrivateKey) -> None:
    auth = Authenticator(Directory(), clock=Clock())
    assert auth.authenticate(f"Bearer {user_token()}") == Principal("user", "u1", "o1", "admin", 0)


def test_a_readable_header_with_a_bad_token_is_403(signing_key: ec.EllipticCurvePrivateKey) -> None:
    auth = Authenticator(Directory(), clock=Clock())
    with pytest.raises(PermissionDenied, match="malformed"):
        auth.authenticate("Bearer not-a-token")


def test_rotation_and_deletion_revoke(signing_key: ec.EllipticCurvePrivateKey) -> None:
    directory = Directory()
    auth = Authenticator(directory, cache_seconds=0, clock=Clock())
    old = issue_device_token("d1", "o1", 1, 1_700_000_000)
    assert auth.authenticate(f"Bearer {old}").version == 1
    directory.versions["d1"] = 2
    with pytest.raises(PermissionDenied, match="token revoked: the device key was rotated"):
        auth.authenticate(f"Bearer {old}")
    assert auth.authenticate(f"Bearer {issue_device_token('d1', 'o1', 2, 1_700_000_000)}")
    directory.versions["d1"] = None
    with pytest.raises(PermissionDenied, match="token revoked: the device no longer exists"):
        auth.authenticate(f"Bearer {old}")
    with pytest.raises(PermissionDenied, match="token revoked: the user's tokens were revoked"):
        auth.authenticate(f"Bearer {user_token(version=7)}")


def test_revocation_takes_effect_when_the_cache_expires(
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    directory, clock = Directory(), Clock()
    auth = Authenticator(directory, cache_seconds=5, clock=clock)
    header = f"Bearer {user_token()}"
    auth.authenticate(header)
    directory.versions["u1"] = 1  # password changed
    clock.now += 4.9
    assert auth.authenticate(header).subject == "u1"  # still cached
    assert directory.lookups == 1
    clock.now += 0.2
    with pytest.raises(PermissionDenied, match="token revoked"):
        auth.authenticate(header)
    assert directory.lookups == 2


def test_a_token_newer_than_the_cache_is_checked_at_once(
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    """After a rotation, the new token works on every instance at once, even on one whose cache
    still holds the old version (versions only grow, so the cache must be stale)."""
    directory, clock = Directory(), Clock()
    directory.versions["d1"] = 1
    auth = Authenticator(directory, cache_seconds=5, clock=clock)
    auth.authenticate(f"Bearer {issue_device_token('d1', 'o1', 1, 1_700_000_000)}")
    directory.versions["d1"] = 2  # rotated through another instance
    new = f"Bearer {issue_device_token('d1', 'o1', 2, 1_700_000_000)}"
    assert auth.authenticate(new).version == 2
    assert directory.lookups == 2
    old = f"Bearer {issue_device_token('d1', 'o1', 1, 1_700_000_000)}"
    with pytest.raises(PermissionDenied, match="rotated"):
        auth.authenticate(old)  # and the refreshed cache now refuses the old one at once
    assert directory.lookups == 2


def test_the_cache_ttl_defaults_to_the_environment(
    signing_key: ec.EllipticCurvePrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.auth import reset_caches

    monkeypatch.setenv("STRATUS_TOKEN_CACHE_SECONDS", "0")
    reset_caches()
    directory = Directory()
    auth = Authenticator(directory, clock=Clock())
    header = f"Bearer {user_token()}"
    auth.authenticate(header)
    auth.authenticate(header)
    assert directory.lookups == 2


def test_lookup_failures_are_not_cached(signing_key: ec.EllipticCurvePrivateKey) -> None:
    calls = []

    def flaky(principal: Principal) -> int | None:
        calls.append(principal)
        if len(calls) == 1:
            raise RuntimeError("store down")
        return 0

    auth = Authenticator(flaky, clock=Clock())
    with pytest.raises(RuntimeError):
        auth.authenticate(f"Bearer {user_token()}")
    assert auth.authenticate(f"Bearer {user_token()}").subject == "u1"


def test_the_cache_is_bounded(
    signing_key: ec.EllipticCurvePrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shared.auth.guard as guard

    monkeypatch.setattr(guard, "_MAX_CACHED", 3)
    auth = Authenticator(lambda principal: 1, clock=Clock())
    for index in range(10):
        auth.authenticate(f"Bearer {issue_device_token(f'd{index}', 'o1', 1, 1_700_000_000)}")
        assert auth._versions is not None and len(auth._versions) <= 3


def _app(auth: Authenticator) -> HttpFunction:
    router = Router()

    @router.route("POST", "/api/users/signin")
    def signin(request: Request):
        return json_response({"public": True})

    @router.route("GET", "/api/devices")
    def devices(request: Request):
        principal = require(request)
        return json_response({"org": principal.org})

    @router.route("DELETE", "/api/users/{id}")
    def delete_user(request: Request):
        require(request, role="admin")
        return json_response({}, 204)

    @router.route("GET", "/api/consumers/{id}/data")
    def data(request: Request):
        return json_response({"kind": require(request, kinds={"consumer", "user"}).kind})

    return HttpFunction("test", router, middlewares=[auth.middleware])


def call(app: HttpFunction, method: str, path: str, token: str | None = None) -> tuple[int, str]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = app(Request(method, path, headers=headers))
    body = response.json() or {}
    return response.status, body.get("error", {}).get("message", "")


def test_scopes_through_a_function(signing_key: ec.EllipticCurvePrivateKey) -> None:
    app = _app(Authenticator(Directory(), clock=Clock()))
    device = issue_device_token("d1", "o1", 1, 1_700_000_000)
    member = user_token(role="member")
    assert call(app, "POST", "/api/users/signin", "stale.or.garbage") == (200, "")
    assert call(app, "GET", "/api/devices") == (
        401,
        "authorization header missing; send 'Bearer <token>'",
    )
    assert call(app, "GET", "/api/devices", "x.y.z")[0] == 403
    assert call(app, "GET", "/api/devices", member) == (200, "")
    assert call(app, "GET", "/api/devices", device) == (
        403,
        "a device token cannot call the management API",
    )
    assert call(app, "DELETE", "/api/users/u2", member) == (
        403,
        "this action needs an organisation admin; the token's user is a member",
    )
    assert call(app, "DELETE", "/api/users/u2", user_token())[0] == 204
    assert call(app, "GET", "/api/consumers/c1/data", device) == (
        403,
        "a device token cannot call this endpoint (it takes consumer or user tokens)",
    )


def test_require_without_the_middleware_is_a_wiring_error() -> None:
    with pytest.raises(RuntimeError, match=r"Authenticator\.middleware"):
        require(request("Bearer x"))


def test_the_principal_is_verified_once_per_request(
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    directory = Directory()
    auth = Authenticator(directory, cache_seconds=0, clock=Clock())
    one = request(f"Bearer {user_token()}")
    auth.require(one)
    auth.require(one, role="admin")
    assert directory.lookups == 1


def test_device_signatures_are_checked_once_user_tokens_every_time(
    signing_key: ec.EllipticCurvePrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.auth import guard

    checked: list[str] = []
    real = guard.verify_token

    def counting(token: str, **kwargs: object) -> Principal:
        checked.append(token)
        return real(token, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(guard, "verify_token", counting)
    directory = Directory()
    directory.versions["d1"] = 1
    auth = Authenticator(directory, cache_seconds=0, clock=Clock())
    device = issue_device_token("d1", "o1", 1, 1_700_000_000)
    for _ in range(3):
        assert auth.authenticate(f"Bearer {device}").subject == "d1"
    user = user_token()
    for _ in range(2):
        auth.authenticate(f"Bearer {user}")
    assert checked == [device, user, user]
    directory.versions["d1"] = 2  # revocation is still checked on every call
    with pytest.raises(PermissionDenied, match="rotated"):
        auth.authenticate(f"Bearer {device}")
