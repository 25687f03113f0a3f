"""Bootstrap registrations: where they live, what their fields may hold, how the API shows them.

A registration is `orgs/{org}/bootstrap/{external_id}` with `bootstrap_index/{external_id}` ->
`{org}` beside it (external ids are unique across organisations, like user names, because the
device presents only its external id). The external key is stored as a scrypt hash.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

import orjson

from shared.directory import DESCRIPTION_MAX, NAME_MAX, rfc3339, text_field
from shared.errors import NotFound, ValidationError
from shared.provisioning import sensor_fields
from shared.store import Document

__all__ = [
    "CONFIG_MAX_BYTES",
    "SENSORS_MAX",
    "external_id_or_404",
    "generate_key",
    "index_path",
    "parse_external_id",
    "parse_external_key",
    "registration_fields",
    "registration_path",
    "registration_view",
    "registrations_path",
]

CONFIG_MAX_BYTES = 32 * 1024
SENSORS_MAX = 100
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_EXTERNAL_KEY = re.compile(r"^[\x21-\x7e]{16,256}$")  # printable ASCII, no spaces
_CREATE = frozenset({"external_id", "external_key", "name", "description", "config", "sensors"})
_FIELDS = frozenset({"name", "description", "config", "sensors", "enabled"})


def registrations_path(org: str) -> str:
    return f"orgs/{org}/bootstrap"


def registration_path(org: str, external_id: str) -> str:
    return f"orgs/{org}/bootstrap/{external_id}"


def index_path(external_id: str) -> str:
    return f"bootstrap_index/{external_id}"


def parse_external_id(raw: Any) -> str:
    """A device's external id (serial number, MAC address...): 1..128 characters of letters,
    digits, `.`, `_`, `:`, `-`, starting with a letter or digit."""
    if not isinstance(raw, str) or not _EXTERNAL_ID.match(raw):
        raise ValidationError(
            "external_id must be 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a "
            "letter or digit",
            field="external_id",
        )
    return raw


def external_id_or_404(raw: str) -> str:
    """`raw` when it can be an external id; NotFound otherwise (nothing else can exist)."""
    if not _EXTERNAL_ID.match(raw):
        raise NotFound(f"no bootstrap registration {raw[:64]!r}")
    return raw


def parse_external_key(raw: Any) -> str:
    """An external key an admin chose: 16..256 printable ASCII characters without spaces."""
    if not isinstance(raw, str) or not _EXTERNAL_KEY.match(raw):
        raise ValidationError(
            "external_key must be 16 to 256 printable ASCII characters without spaces",
            field="external_key",
        )
    return raw


def generate_key() -> str:
    """A fresh external key: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def _config(raw: Any) -> str:
    """The config as stored: compact JSON text of an object (Firestore forbids arrays in arrays
    and deep maps; text has neither problem) of at most CONFIG_MAX_BYTES."""
    if not isinstance(raw, dict):
        raise ValidationError("config must be a JSON object", field="config")
    text = orjson.dumps(raw)
    if len(text) > CONFIG_MAX_BYTES:
        raise ValidationError(f"config must be at most {CONFIG_MAX_BYTES} bytes", field="config")
    return text.decode()


def _sensors(raw: Any) -> list[dict[str, Any]]:
    """The sensors to create with the device: each a sensor create body, names unique per folder."""
    if not isinstance(raw, list) or len(raw) > SENSORS_MAX:
        raise ValidationError(f"sensors must be a list of at most {SENSORS_MAX}", field="sensors")
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, body in enumerate(raw):
        where = f"sensors[{index}]"
        if not isinstance(body, dict):
            raise ValidationError(f"{where} must be an object", field=where)
        try:
            fields = sensor_fields(body, partial=False)
        except ValidationError as error:
            raise ValidationError(
                f"{where}: {error.message}", field=f"{where}.{error.field}"
            ) from None
        place = (fields["path"], fields["name"])
        if place in seen:
            raise ValidationError(
                f"{where}: a sensor named {fields['name']!r} is given twice in the same folder",
                field=f"{where}.name",
            )
        seen.add(place)
        out.append(fields)
    return out


def registration_fields(body: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
    """The stored fields of a create body (`external_id`, `external_key` handled by the caller)
    or an update body (at least one field). Unknown fields are a 400 naming them."""
    unknown = sorted(set(body) - (_CREATE | {"enabled"} if create else _FIELDS))
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    fields: dict[str, Any] = {}
    name = text_field(body, "name", required=False, limit=NAME_MAX)
    if name is not None:
        fields["name"] = name
    description = text_field(
        body, "description", required=False, limit=DESCRIPTION_MAX,
        default="" if create else None, allow_empty=True,
    )  # fmt: skip
    if description is not None:
        fields["description"] = description
    if "config" in body or create:
        fields["config"] = _config(body.get("config", {}))
    if "sensors" in body or create:
        fields["sensors"] = _sensors(body.get("sensors", []))
    if "enabled" in body or create:
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValidationError("enabled must be true or false", field="enabled")
        fields["enabled"] = enabled
    if not create and not fields:
        raise ValidationError("nothing to update", field="body")
    return fields


def registration_view(document: Document) -> dict[str, Any]:
    """A registration as the admin API shows it (never the key or its hash)."""
    data = document.data
    return {
        "external_id": document.id,
        "name": data.get("name") or document.id,
        "description": data.get("description", ""),
        "config": orjson.loads(data.get("config") or "{}"),
        "sensors": [
            {k: sensor.get(k) for k in ("name", "description", "path", "mapping")}
            for sensor in data.get("sensors", [])
        ],
        "enabled": bool(data.get("enabled", True)),
        "key_version": data.get("key_version", 1),
        "device_id": data.get("device"),
        "created_at": rfc3339(data.get("created_at")),
        "updated_at": rfc3339(data.get("updated_at")),
        "bootstrapped_at": rfc3339(data.get("bootstrapped_at")),
    }
