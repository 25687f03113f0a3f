"""The provisioning directory: where devices, sensors and consumers live in the store, what their
text fields may hold, and the lookups other functions need (token versions, device -> org, and
whether a principal may read a sensor).

Layout (docs/ARCHITECTURE.md, "Collections"): `orgs/{org}/devices/{device}`,
`device_index/{device}` -> `{org}`, `orgs/{org}/devices/{device}/sensors/{sensor}`,
`orgs/{org}/consumers/{consumer}` (granted sensors as `{device}/{sensor}`),
`orgs/{org}/users/{user}`. Every function takes the store as an argument; nothing here reads the
environment or opens a connection.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.auth.guard import VersionLookup
from shared.auth.tokens import Principal
from shared.errors import NotFound, ValidationError
from shared.store import ArrayRemove, Query, Store

__all__ = [
    "DESCRIPTION_MAX",
    "NAME_MAX",
    "bump_key_version",
    "consumer_key_version",
    "consumer_path",
    "device_index_path",
    "device_key_version",
    "device_org",
    "device_path",
    "is_id",
    "may_read_sensor",
    "named_fields",
    "new_id",
    "page_limit",
    "purge_collection",
    "remove_grants",
    "require_id",
    "rfc3339",
    "sensor_path",
    "sensor_ref",
    "text_field",
    "user_path",
    "user_token_version",
    "version_lookup",
]

NAME_MAX = 128
DESCRIPTION_MAX = 1024
_ID = re.compile(r"^[0-9a-f]{20}$")
# C0 controls and DEL, and the invisible bidirectional controls that make a name display as
# another (U+061C, U+200E-F, U+202A-E, U+2066-9: "Trojan Source")
_CONTROL = re.compile("[\x00-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def new_id() -> str:
    """A fresh globally unique id: 20 lowercase hex characters."""
    return secrets.token_hex(10)


def is_id(value: str) -> bool:
    """Whether `value` has the shape of an id we generate (anything else cannot exist: 404)."""
    return bool(_ID.match(value))


def device_path(org: str, device: str) -> str:
    return f"orgs/{org}/devices/{device}"


def device_index_path(device: str) -> str:
    return f"device_index/{device}"


def sensor_path(org: str, device: str, sensor: str) -> str:
    return f"orgs/{org}/devices/{device}/sensors/{sensor}"


def consumer_path(org: str, consumer: str) -> str:
    return f"orgs/{org}/consumers/{consumer}"


def user_path(org: str, user: str) -> str:
    return f"orgs/{org}/users/{user}"


def sensor_ref(device: str, sensor: str) -> str:
    """How a consumer's `sensors` list names a sensor: `{device}/{sensor}`."""
    return f"{device}/{sensor}"


def rfc3339(value: Any) -> str | None:
    """A stored timestamp as RFC 3339 UTC text (`...Z`), None when absent."""
    if not isinstance(value, datetime):
        return None
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def text_field(
    body: Mapping[str, Any],
    field: str,
    *,
    required: bool,
    limit: int,
    default: str | None = None,
    allow_empty: bool = False,
) -> str | None:
    """A string field of a request body, stripped; ValidationError naming `field` when it is
    missing (and `required`), null, not a string, empty (unless `allow_empty`), longer than
    `limit` characters or holds control characters (bidirectional ones too; descriptions may
    hold them). Absent and not required: `default`."""
    if field not in body:
        if required:
            raise ValidationError(f"{field} is required", field=field)
        return default
    value = body[field]
    if value is None:  # the contract types it a string: leave it out instead
        raise ValidationError(f"{field} must be a string, not null", field=field)
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string", field=field)
    value = value.strip()
    if not value and not allow_empty:
        raise ValidationError(f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise ValidationError(f"{field} must be at most {limit} characters long", field=field)
    if _CONTROL.search(value) and field != "description":
        raise ValidationError(
            f"{field} must not contain control characters (bidirectional controls included)",
            field=field,
        )
    return value


def named_fields(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """The `name` and `description` of a create (`partial=False`: name required) or update body
    (at least one of them); any other field is a 400 naming it."""
    unknown = sorted(set(body) - {"name", "description"})
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    fields: dict[str, Any] = {}
    name = text_field(body, "name", required=not partial, limit=NAME_MAX)
    if name is not None:
        fields["name"] = name
    description = text_field(
        body, "description", required=False, limit=DESCRIPTION_MAX,
        default=None if partial else "", allow_empty=True,
    )  # fmt: skip
    if description is not None:
        fields["description"] = description
    if partial and not fields:
        raise ValidationError("nothing to update: give name or description", field="name")
    return fields


def _int_field(store: Store, path: str, field: str) -> int | None:
    document = store.get(path)
    if document is None:
        return None
    value = document.data.get(field, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def device_org(store: Store, device: str) -> str | None:
    """The organisation of a device id (`device_index`), None for an unknown device."""
    if not is_id(device):
        return None
    document = store.get(device_index_path(device))
    org = document.data.get("org") if document else None
    return org if isinstance(org, str) and org else None


def device_key_version(store: Store, org: str, device: str) -> int | None:
    """The device's current key version, None when it does not exist in `org`. Ingest, the
    bridge and every function accepting device tokens compare a token's `kv` with it."""
    return _int_field(store, device_path(org, device), "key_version") if is_id(device) else None


def consumer_key_version(store: Store, org: str, consumer: str) -> int | None:
    """The consumer's current key version, None when it does not exist in `org`."""
    if not is_id(consumer):
        return None
    return _int_field(store, consumer_path(org, consumer), "key_version")


def user_token_version(store: Store, org: str, user: str) -> int | None:
    """The user's current token version (`token_version`), None when the user is gone."""
    if "/" in user or not user:
        return None
    return _int_field(store, user_path(org, user), "token_version")


def bump_key_version(store: Store, path: str, what: str, now: datetime) -> None:
    """Rotate the key of the device or consumer at `path`: its `key_version` grows by one (so
    every older token is refused) and the new version's issue time is `now`. 404 if absent."""

    def bump(txn: Any) -> None:
        current = txn.get(path)
        if current is None:
            raise NotFound(f"no {what} {path.rsplit('/', 1)[-1]!r}")
        txn.update(
            path,
            {
                "key_version": int(current.data.get("key_version", 0)) + 1,
                "key_issued_at": int(now.timestamp()),
                "updated_at": now,
            },
        )

    store.run_transaction(bump)


def version_lookup(store: Callable[[], Store]) -> VersionLookup:
    """The `Authenticator` lookup for every token kind; `store` is called on first use, so a
    function can build this at import time without connecting."""

    def current(principal: Principal) -> int | None:
        if principal.kind == "device":
            return device_key_version(store(), principal.org, principal.subject)
        if principal.kind == "consumer":
            return consumer_key_version(store(), principal.org, principal.subject)
        if principal.kind == "user":
            return user_token_version(store(), principal.org, principal.subject)
        return None

    return current


def may_read_sensor(store: Store, principal: Principal, device: str, sensor: str) -> bool:
    """Whether an authenticated `principal` may read the sensor's data.

    True when the sensor exists in the principal's organisation and the principal is one of its
    users, or a consumer that was granted `{device}/{sensor}`. Device tokens read nothing. The
    query API answers False with 404 (as for an unknown sensor: no existence oracle).
    """
    if principal.kind not in {"user", "consumer"} or not (is_id(device) and is_id(sensor)):
        return False
    if principal.kind == "consumer":
        consumer = store.get(consumer_path(principal.org, principal.subject))
        granted = consumer.data.get("sensors", []) if consumer else []
        if sensor_ref(device, sensor) not in granted:
            return False
    return store.get(sensor_path(principal.org, device, sensor)) is not None


def require_id(value: str, what: str) -> str:
    """`value` when it is shaped like an id; NotFound (`what` names it) otherwise."""
    if not is_id(value):
        raise NotFound(f"no {what} {value[:64]!r}")
    return value


def page_limit(raw: str | None, *, default: int = 50, maximum: int = 100) -> int:
    """The `limit` query parameter of a list call: 1..`maximum`, `default` when absent."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError("limit must be an integer", field="limit") from None
    if not 1 <= value <= maximum:
        raise ValidationError(f"limit must be between 1 and {maximum}", field="limit")
    return value


_BATCH = 400  # Firestore commits at most 500 writes


def purge_collection(store: Store, collection: str) -> int:
    """Delete every document of `collection` (not its subcollections), in batches; returns how
    many. Safe to repeat after a failure."""
    removed = 0
    while True:
        page = store.query(Query(collection, limit=_BATCH))
        if not page.documents:
            return removed
        batch = store.batch()
        for document in page.documents:
            batch.delete(document.path)
        batch.commit()
        removed += len(page.documents)


def remove_grants(store: Store, org: str, device: str, sensor: str | None = None) -> int:
    """Take a deleted sensor (or every sensor of a deleted device) out of every consumer's
    grants in `org`; returns how many consumers changed."""
    # Every consumer of the organisation is read (there are few): the Firestore adapter does
    # not translate the port's "array-contains" operator yet.
    collection = f"orgs/{org}/consumers"
    changed, cursor = 0, None
    while True:
        page = store.query(Query(collection, limit=_BATCH, after=cursor))
        batch = store.batch()
        for document in page.documents:
            granted = document.data.get("sensors", [])
            gone = [g for g in granted if isinstance(g, str) and g.split("/", 1)[0] == device]
            if sensor is not None:
                gone = [g for g in gone if g == sensor_ref(device, sensor)]
            if gone:
                batch.update(document.path, {"sensors": ArrayRemove(tuple(gone))})
                changed += 1
        batch.commit()
        if page.next is None:
            return changed
        cursor = page.next
