"""Users' request bodies, parsed and checked field by field, and the public view of a user."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.auth import check_policy
from shared.directory import rfc3339
from shared.errors import BadRequest, ValidationError

__all__ = [
    "ROLES",
    "Credentials",
    "NewUser",
    "UserChanges",
    "normalize_username",
    "user_view",
]

ROLES = ("admin", "member")

# Lower case letters, digits and . _ @ -, starting with a letter or digit: safe as a document id
# (no '/', never '.', '..' or '__x__') and in URLs.
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")


def _object(body: Any, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise BadRequest("request body must be a JSON object")
    for name in body:
        if name not in allowed:
            raise ValidationError(
                f"unknown field {name!r}; expected {', '.join(sorted(allowed))}", field=name
            )
    return body


def _string(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise ValidationError(f"{name} is required", field=name)
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string", field=name)
    return value


def normalize_username(value: str) -> str | None:
    """The canonical (lower-case) form of a user name, or None if it cannot be one."""
    canonical = value.strip().lower()
    return canonical if _USERNAME.match(canonical) else None


def _username(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError("username must be a string", field="username")
    canonical = normalize_username(value)
    if canonical is None:
        raise ValidationError(
            "username must be 1 to 64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit",
            field="username",
        )
    return canonical


def _role(value: object) -> str:
    if value not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}", field="role")
    return str(value)


def _no_nulls(fields: Mapping[str, Any]) -> Mapping[str, Any]:
    """The fields, or a 400 naming the first null one (the contract types each: leave it out)."""
    for name, value in fields.items():
        if value is None:
            raise ValidationError(f"{name} must not be null (leave it out)", field=name)
    return fields


@dataclass(frozen=True, slots=True)
class Credentials:
    """A sign-in body. The user name is not validated: a malformed one simply matches nobody."""

    username: str
    password: str

    @classmethod
    def parse(cls, body: Any) -> Credentials:
        fields = _object(body, frozenset({"username", "password"}))
        return cls(_string(fields, "username"), _string(fields, "password"))


@dataclass(frozen=True, slots=True)
class NewUser:
    """A create-user body: `username` and `password` required, `role` defaults to member."""

    username: str
    password: str
    role: str = "member"

    @classmethod
    def parse(cls, body: Any) -> NewUser:
        fields = _no_nulls(_object(body, frozenset({"username", "password", "role"})))
        username = _username(_string(fields, "username"))
        password = check_policy(_string(fields, "password"))
        role = _role(fields["role"]) if fields.get("role") is not None else "member"
        return cls(username, password, role)


@dataclass(frozen=True, slots=True)
class UserChanges:
    """A PATCH body: any of `username`, `password` (with `current_password` for one's own),
    `role`."""

    username: str | None = None
    password: str | None = None
    current_password: str | None = None
    role: str | None = None

    @classmethod
    def parse(cls, body: Any) -> UserChanges:
        fields = _no_nulls(
            _object(body, frozenset({"username", "password", "current_password", "role"}))
        )
        if not any(fields.get(name) is not None for name in ("username", "password", "role")):
            raise ValidationError("nothing to change: give username, password or role")
        username = _username(fields["username"]) if fields.get("username") is not None else None
        password = check_policy(fields["password"]) if fields.get("password") is not None else None
        current = fields.get("current_password")
        if current is not None and not isinstance(current, str):
            raise ValidationError("current_password must be a string", field="current_password")
        role = _role(fields["role"]) if fields.get("role") is not None else None
        return cls(username, password, current, role)


def user_view(org: str, user_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the API shows of a user: never the password hash or the token version."""
    return {
        "id": user_id,
        "org": org,
        "username": data.get("username"),
        "role": data.get("role"),
        "created_at": rfc3339(data.get("created_at")),
        "updated_at": rfc3339(data.get("updated_at")),
    }
