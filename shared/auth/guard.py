"""Request authentication: the bearer token, its verification, revocation, and scope checks.

A function builds one `Authenticator` with a lookup of the current version of a principal
(a user's `tv`, a device's or consumer's `kv`, None when it no longer exists), stacks
`authenticator.middleware` and calls `require(request, ...)` in each protected route; routes
that do not call it (sign-in) stay public. Lookups are cached per process for
STRATUS_TOKEN_CACHE_SECONDS, so a rotation, password change or deletion takes effect on every
instance within that bound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from typing import Any

from shared.auth.config import auth_config
from shared.auth.keys import KeySet
from shared.auth.tokens import Principal, verify_token
from shared.errors import AuthenticationError, PermissionDenied
from shared.expiring import ExpiringMap
from shared.http import Request, Response

__all__ = ["Authenticator", "VersionLookup", "bearer_token", "credential", "require"]

VersionLookup = Callable[[Principal], int | None]

_CONTEXT_KEY = "authenticator"
_PRINCIPAL_KEY = "principal"
_MAX_CACHED = 10_000

_REVOKED = {
    "user": "the user's tokens were revoked (password or role changed)",
    "device": "the device key was rotated",
    "consumer": "the consumer key was rotated",
}


def credential(authorization: str | None, scheme: str = "Bearer", what: str = "token") -> str:
    """The credential of an `authorization: <scheme> <credential>` header (scheme
    case-insensitive); 401 when absent or in another form."""
    if authorization is None or not authorization.strip():
        raise AuthenticationError(f"authorization header missing; send '{scheme} <{what}>'")
    given, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if given.lower() != scheme.lower() or not value or " " in value:
        raise AuthenticationError(f"authorization header must read '{scheme} <{what}>'")
    return value


def bearer_token(authorization: str | None) -> str:
    """The token of an `authorization: Bearer <token>` header; 401 when absent or another form."""
    return credential(authorization)


class Authenticator:
    """Verifies bearer tokens and checks that they are not revoked.

    `keys` defaults to the process's key set, `cache_seconds` to STRATUS_TOKEN_CACHE_SECONDS;
    `clock` (monotonic seconds) is injectable for tests.
    """

    def __init__(
        self,
        current_version: VersionLookup,
        *,
        keys: KeySet | None = None,
        cache_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = current_version
        self._keys = keys
        self._ttl = cache_seconds  # None: read STRATUS_TOKEN_CACHE_SECONDS on first use
        self._clock = clock
        # (kind, org, subject) -> (current version,): built when the TTL is known
        self._versions: ExpiringMap[tuple[str, str, str], tuple[int | None]] | None = None
        self._verified: dict[str, Principal] = {}  # device and consumer tokens never expire
        self._lock = threading.Lock()

    def _current(self, principal: Principal) -> int | None:
        if self._versions is None:
            ttl = auth_config().cache_seconds if self._ttl is None else self._ttl
            self._versions = ExpiringMap(ttl, limit=_MAX_CACHED, clock=self._clock)
        key = (principal.kind, principal.org, principal.subject)
        cached = self._versions.get(key)
        # versions only grow: a token newer than the cached version proves the cache stale
        if cached is not None and (cached[0] is None or principal.version <= cached[0]):
            return cached[0]
        read_at = self._clock()
        version = self._lookup(principal)  # errors (store down) propagate and are not cached
        self._versions.put(key, (version,), at=read_at)
        return version

    def _verify(self, token: str) -> Principal:
        """The token's principal. Device and consumer tokens carry no expiry, so a signature
        checked once stays good: they are remembered (bounded) and not verified again; whether
        they are revoked is still asked of `_current` on every call. User tokens expire and are
        verified every time."""
        known = self._verified.get(token)
        if known is not None:
            return known
        principal = verify_token(token, keys=self._keys)
        if principal.kind != "user":
            with self._lock:
                if len(self._verified) >= _MAX_CACHED:
                    self._verified.clear()
                self._verified[token] = principal
        return principal

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an `authorization` header value: 401 if unreadable, 403 if invalid
        or revoked."""
        principal = self._verify(bearer_token(authorization))
        current = self._current(principal)
        if current is None:
            raise PermissionDenied(f"token revoked: the {principal.kind} no longer exists")
        if current != principal.version:
            raise PermissionDenied(f"token revoked: {_REVOKED[principal.kind]}")
        return principal

    def principal(self, request: Request) -> Principal:
        """The request's principal, authenticated once per request."""
        found = request.context.get(_PRINCIPAL_KEY)
        if isinstance(found, Principal):
            return found
        principal = self.authenticate(request.header("authorization"))
        request.context[_PRINCIPAL_KEY] = principal
        return principal

    def require(
        self,
        request: Request,
        *,
        kinds: Collection[str] = ("user",),
        role: str | None = None,
    ) -> Principal:
        """The principal, if its kind is one of `kinds` (and, for users, it has `role`)."""
        principal = self.principal(request)
        if principal.kind not in kinds:
            if set(kinds) == {"user"}:
                where = "the management API"
            else:
                where = f"this endpoint (it takes {' or '.join(sorted(kinds))} tokens)"
            raise PermissionDenied(f"a {principal.kind} token cannot call {where}")
        if role is not None and principal.kind == "user" and principal.role != role:
            raise PermissionDenied(
                f"this action needs an organisation {role}; the token's user is a {principal.role}"
            )
        return principal

    def middleware(self, request: Request, call_next: Callable[[Request], Response]) -> Response:
        """Make this authenticator available to `require(request, ...)`; authenticates nothing
        by itself, so public routes stay public."""
        request.context[_CONTEXT_KEY] = self
        return call_next(request)

    def clear(self) -> None:
        """Forget every cached lookup."""
        if self._versions is not None:
            self._versions.clear()
        with self._lock:
            self._verified.clear()


def require(
    request: Request, *, kinds: Collection[str] = ("user",), role: str | None = None
) -> Principal:
    """The request's principal through the function's `Authenticator.middleware`.

    401 without a readable bearer token, 403 for an invalid, revoked or mis-scoped one.
    """
    authenticator: Any = request.context.get(_CONTEXT_KEY)
    if not isinstance(authenticator, Authenticator):
        raise RuntimeError("require() needs Authenticator.middleware in the function's stack")
    return authenticator.require(request, kinds=kinds, role=role)
