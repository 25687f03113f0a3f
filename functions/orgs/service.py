"""Core of the orgs function: read and rename the caller's organisation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.auth import Principal
from shared.directory import rfc3339
from shared.errors import BadRequest, NotFound, PermissionDenied, ValidationError
from shared.store import Store

__all__ = ["MAX_NAME", "OrgChanges", "Orgs", "org_view"]

MAX_NAME = 200


def _now() -> datetime:
    return datetime.now(UTC)


def org_view(org: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the API shows of an organisation."""
    return {
        "id": org,
        "name": data.get("name"),
        "created_at": rfc3339(data.get("created_at")),
        "updated_at": rfc3339(data.get("updated_at", data.get("created_at"))),
    }


def check_name(value: object) -> str:
    """An organisation name: 1 to MAX_NAME characters, not only spaces (surrounding spaces
    removed)."""
    if not isinstance(value, str):
        raise ValidationError("name must be a string", field="name")
    name = value.strip()
    if not name:
        raise ValidationError("name must not be empty", field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(f"name must be at most {MAX_NAME} characters", field="name")
    return name


@dataclass(frozen=True, slots=True)
class OrgChanges:
    """A PATCH body: `name`."""

    name: str

    @classmethod
    def parse(cls, body: Any) -> OrgChanges:
        if not isinstance(body, Mapping):
            raise BadRequest("request body must be a JSON object")
        for field in body:
            if field != "name":
                raise ValidationError(f"unknown field {field!r}; expected name", field=field)
        if body.get("name") is None:
            raise ValidationError("name is required", field="name")
        return cls(check_name(body["name"]))


class Orgs:
    """The caller's organisation in `store`; `clock` is injectable."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = _now) -> None:
        self._store = store
        self._clock = clock

    def get(self, actor: Principal) -> dict[str, Any]:
        found = self._store.get(f"orgs/{actor.org}")
        if found is None:
            raise NotFound(f"organisation {actor.org} not found")
        return org_view(actor.org, found.data)

    def rename(self, actor: Principal, changes: OrgChanges) -> dict[str, Any]:
        if actor.role != "admin":
            raise PermissionDenied(
                "renaming the organisation needs an organisation admin; the token's user is a "
                "member"
            )
        path = f"orgs/{actor.org}"
        fields = {"name": changes.name, "updated_at": self._clock()}
        self._store.update(path, fields)  # NotFound if the organisation is gone
        found = self._store.get(path)
        return org_view(actor.org, found.data if found is not None else fields)
