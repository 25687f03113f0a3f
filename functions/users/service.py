"""Core of the users function: sign-in and the users of an organisation, on the store port.

Rules: an organisation admin manages every user of the organisation; a member reads and updates
only itself (user name and password, never its role). Changing one's own password needs the
current one. A password or role change bumps `token_version`, which revokes the user's older
tokens. An organisation always keeps at least one admin. Ids of other organisations are 404.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from functions.users.limits import SigninLimits
from functions.users.model import Credentials, NewUser, UserChanges, normalize_username, user_view
from shared.auth import Principal, hash_password, issue_user_token, verify_or_dummy
from shared.directory import new_id, require_id, user_path
from shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from shared.store import Filter, Query, Store, Transaction

__all__ = ["INVALID_CREDENTIALS", "TokenIssuer", "Users"]

INVALID_CREDENTIALS = "invalid username or password"

TokenIssuer = Callable[[str, str, str, int], str]  # (user id, org, role, token version) -> JWT


def _issue(user_id: str, org: str, role: str, version: int) -> str:
    return issue_user_token(user_id, org, role, version)


def _now() -> datetime:
    return datetime.now(UTC)


def _users(org: str) -> str:
    return f"orgs/{org}/users"


def _index(username: str) -> str:
    return f"usernames/{username}"


def _taken(username: str) -> Conflict:
    return Conflict(f"username {username!r} is taken", field="username")


def _admin_needed(action: str) -> PermissionDenied:
    return PermissionDenied(f"{action} needs an organisation admin; the token's user is a member")


class Users:
    """Sign-in and user management of one store. `issue`, `clock` and `ids` are injectable."""

    def __init__(
        self,
        store: Store,
        *,
        issue: TokenIssuer = _issue,
        clock: Callable[[], datetime] = _now,
        ids: Callable[[], str] = new_id,
        limits: SigninLimits | None = None,
    ) -> None:
        self._store = store
        self._issue = issue
        self._clock = clock
        self._ids = ids
        self._limits = limits

    # -- sign-in ----------------------------------------------------------------------------

    def signin(self, credentials: Credentials, client: str = "") -> str:
        """A user token for these credentials; the same 403 for an unknown user and a wrong
        password, after the same scrypt work. With `limits`, the user name's and the `client`
        address's budgets of failures are checked first (429 when one is spent), a failure is
        counted against both, and a success is checked again before it is answered."""
        user: dict[str, Any] | None = None
        org = user_id = ""
        username = normalize_username(credentials.username)
        throttled = username or str(credentials.username)  # an invalid name has a budget too
        if self._limits is not None:
            self._limits.check(throttled, client)
        index = self._store.get(_index(username)) if username else None
        if index is not None:
            org, user_id = str(index.data["org"]), str(index.data["user"])
            found = self._store.get(user_path(org, user_id))
            user = found.data if found is not None else None
        stored = str(user["password_hash"]) if user else None
        if not verify_or_dummy(stored, credentials.password) or user is None:
            if self._limits is not None:
                self._limits.failed(throttled, client)
            raise PermissionDenied(INVALID_CREDENTIALS)
        if self._limits is not None:
            self._limits.check(throttled, client)  # guesses in flight may have spent it
        return self._issue(user_id, org, str(user["role"]), int(user["token_version"]))

    # -- reading ----------------------------------------------------------------------------

    def get(self, actor: Principal, user_id: str) -> dict[str, Any]:
        """One user: any user of the organisation for an admin, only itself for a member."""
        if actor.subject != user_id and actor.role != "admin":
            raise _admin_needed("reading another user")
        found = self._store.get(user_path(actor.org, require_id(user_id, "user")))
        if found is None:
            raise NotFound(f"user {user_id} not found")
        return user_view(actor.org, user_id, found.data)

    def list(self, actor: Principal, limit: int, cursor: str | None) -> dict[str, Any]:
        """A page of the organisation's users by user name (admins only)."""
        if actor.role != "admin":
            raise _admin_needed("listing users")
        page = self._store.query(
            Query(_users(actor.org), order_by=(("username", "asc"),), limit=limit, after=cursor)
        )
        users = [user_view(actor.org, doc.id, doc.data) for doc in page.documents]
        return {"items": users, "next": page.next}

    # -- writing ----------------------------------------------------------------------------

    def create(self, actor: Principal, new: NewUser) -> dict[str, Any]:
        """A new user of the actor's organisation (admins only); 409 if the name is taken."""
        if actor.role != "admin":
            raise _admin_needed("creating users")
        return self.add(actor.org, new)

    def add(
        self, org: str, new: NewUser, *, also: Mapping[str, Mapping[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Create the user document and its sign-in index together, with the documents `also`
        (path -> data; the emulator's seed creates the organisation in the same transaction)."""
        user_id = self._ids()
        now = self._clock()
        data = {
            "username": new.username,
            "password_hash": hash_password(new.password),  # slow: outside the transaction
            "role": new.role,
            "token_version": 1,
            "created_at": now,
            "updated_at": now,
        }

        def write(txn: Transaction) -> None:
            if txn.get(_index(new.username)) is not None:
                raise _taken(new.username)
            txn.create(user_path(org, user_id), data)
            txn.create(_index(new.username), {"org": org, "user": user_id})
            for path, document in (also or {}).items():
                txn.create(path, document)

        self._store.run_transaction(write)
        return user_view(org, user_id, data)

    def update(self, actor: Principal, user_id: str, changes: UserChanges) -> dict[str, Any]:
        """Apply a PATCH; see the module rules. Returns the updated user."""
        own = actor.subject == user_id
        if not own and actor.role != "admin":
            raise _admin_needed("changing another user")
        if changes.role is not None and actor.role != "admin":
            raise PermissionDenied("only an organisation admin changes roles", field="role")
        if own and changes.password is not None and changes.current_password is None:
            raise ValidationError(
                "current_password is required to change your own password",
                field="current_password",
            )
        new_hash = hash_password(changes.password) if changes.password is not None else None
        path = user_path(actor.org, require_id(user_id, "user"))

        def write(txn: Transaction) -> dict[str, Any]:
            found = txn.get(path)
            if found is None:
                raise NotFound(f"user {user_id} not found")
            current = found.data
            stored = str(current["password_hash"])
            if own and new_hash and not verify_or_dummy(stored, changes.current_password or ""):
                raise PermissionDenied(
                    "current_password is not the user's password", field="current_password"
                )
            demoted = current["role"] == "admin" and changes.role == "member"
            if demoted:
                self._keep_an_admin(txn, actor.org, "demoting")
            renamed = changes.username is not None and changes.username != current["username"]
            if renamed and txn.get(_index(str(changes.username))) is not None:
                raise _taken(str(changes.username))
            fields: dict[str, Any] = {"updated_at": self._clock()}
            if renamed:
                fields["username"] = changes.username
                txn.delete(_index(str(current["username"])))
                txn.create(_index(str(changes.username)), {"org": actor.org, "user": user_id})
            if new_hash is not None:
                fields["password_hash"] = new_hash
            if changes.role is not None and changes.role != current["role"]:
                fields["role"] = changes.role
            if new_hash is not None or "role" in fields:
                fields["token_version"] = int(current["token_version"]) + 1
            txn.update(path, fields)
            return user_view(actor.org, user_id, {**current, **fields})

        return self._store.run_transaction(write)

    def delete(self, actor: Principal, user_id: str) -> None:
        """Remove a user and its sign-in name (admins only); its tokens stop working."""
        if actor.role != "admin":
            raise _admin_needed("deleting users")
        path = user_path(actor.org, require_id(user_id, "user"))

        def write(txn: Transaction) -> None:
            found = txn.get(path)
            if found is None:
                raise NotFound(f"user {user_id} not found")
            if found.data["role"] == "admin":
                self._keep_an_admin(txn, actor.org, "deleting")
            txn.delete(path)
            txn.delete(_index(str(found.data["username"])))

        self._store.run_transaction(write)

    @staticmethod
    def _keep_an_admin(txn: Transaction, org: str, action: str) -> None:
        admins = txn.query(Query(_users(org), where=(Filter("role", "==", "admin"),), limit=2))
        if len(admins) < 2:
            raise Conflict(f"{action} the organisation's last admin would leave it without one")
