"""What creating a device or a sensor means, for every function that creates them: the fields a
new device document starts with, a sensor's validated fields and view, and keeping a device's MQTT
login in step with its key version (the devices, sensors and bootstrap functions share these)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson

from shared.broker import BrokerAdmin
from shared.directory import DESCRIPTION_MAX, NAME_MAX, rfc3339, text_field
from shared.errors import Unavailable, ValidationError
from shared.store import Document, Store
from shared.telemetry.types import canonical_type

__all__ = [
    "PATH_MAX",
    "SEGMENT_MAX",
    "UNIT_MAX",
    "IssueToken",
    "device_token",
    "new_device",
    "parse_mapping",
    "parse_path",
    "reason",
    "sensor_fields",
    "sensor_view",
    "sync_login",
]

IssueToken = Callable[[str, str, int, int], str]  # (device, org, key_version, issued_at)

UNIT_MAX = 32
PATH_MAX = 256
SEGMENT_MAX = 64
_CONTROL = re.compile("[\x00-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # bidi too
_SENSOR_FIELDS = frozenset({"name", "description", "mapping", "path"})
_LOGIN_ATTEMPTS = 5


def new_device(fields: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The document of a new device: its `name`/`description` and key version 1 issued `now`."""
    return {
        **fields,
        "key_version": 1,
        "key_issued_at": int(now.timestamp()),
        "created_at": now,
        "updated_at": now,
    }


def device_token(issue: IssueToken, org: str, document: Document) -> str:
    """The device's current token (the same string for the same key version)."""
    data = document.data
    return issue(document.id, org, data["key_version"], data["key_issued_at"])


def reason(exc: Exception) -> str:
    """A short reason for an adapter's failure, for a 503 message."""
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


def sync_login(
    store: Store,
    broker: BrokerAdmin,
    org: str,
    document: Document,
    issue: IssueToken,
    *,
    failed: str = "the MQTT broker did not take the device's login",
    then: str = "try again",
) -> str:
    """Register the device's current token as its MQTT password and return it; if a concurrent
    rotation stored a newer key version meanwhile, register that one, so the broker never ends
    up behind the store. Raises Unavailable (`failed (reason): then`) when the broker fails."""
    token = device_token(issue, org, document)
    for _ in range(_LOGIN_ATTEMPTS):
        try:
            broker.register_device(document.id, token)
        except Exception as exc:
            raise Unavailable(f"{failed} ({reason(exc)}): {then}") from None
        latest = store.get(document.path)
        if latest is None or latest.data["key_version"] == document.data["key_version"]:
            return token
        document, token = latest, device_token(issue, org, latest)
    return token


def parse_mapping(raw: Any) -> dict[str, Any]:
    """`{"type", "unit"}` from a mapping given as an object or as JSON text (as the reference
    script sends it); `type` canonical (integer -> long), `unit` None when not given."""
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ValidationError("mapping is not valid JSON text", field="mapping") from None
    if not isinstance(raw, dict):
        raise ValidationError(
            'mapping must be an object like {"type": "double"} or that object as JSON text',
            field="mapping",
        )
    unknown = sorted(set(raw) - {"type", "unit"})
    if unknown:
        raise ValidationError(f"mapping has an unknown field {unknown[0]!r}", field="mapping")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise ValidationError("mapping.type is required (a string)", field="mapping.type")
    try:
        kind = canonical_type(kind)
    except ValueError as exc:
        raise ValidationError(str(exc), field="mapping.type") from None
    unit = raw.get("unit")
    if unit is not None:
        if not isinstance(unit, str) or not unit.strip() or len(unit) > UNIT_MAX:
            raise ValidationError(
                f"mapping.unit must be a non-empty string of at most {UNIT_MAX} characters",
                field="mapping.unit",
            )
        if _CONTROL.search(unit):
            raise ValidationError("mapping.unit has control characters", field="mapping.unit")
        unit = unit.strip()
    return {"type": kind, "unit": unit}


def parse_path(raw: Any) -> str:
    """A folder of the device's sensor tree: segments joined by '/', no empty, '.' or '..'
    segments; leading and trailing slashes dropped; "" is the root."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValidationError("path must be a string like 'front/left'", field="path")
    text = raw.strip().strip("/")
    if not text:
        return ""
    if len(text) > PATH_MAX:
        raise ValidationError(f"path must be at most {PATH_MAX} characters long", field="path")
    segments = text.split("/")
    for segment in segments:
        if segment in {"", ".", ".."} or segment != segment.strip():
            raise ValidationError(f"path segment {segment!r} is not allowed", field="path")
        if len(segment) > SEGMENT_MAX or _CONTROL.search(segment):
            raise ValidationError(
                f"path segments are at most {SEGMENT_MAX} printable characters", field="path"
            )
    return "/".join(segments)


def _sensor_name(body: Mapping[str, Any], *, required: bool) -> str | None:
    name = text_field(body, "name", required=required, limit=NAME_MAX)
    if name is not None and "/" in name:
        raise ValidationError("name must not contain '/'; put folders in path", field="name")
    return name


def sensor_fields(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """A sensor's `name`, `description`, `mapping` and `path` from a create body (`partial=False`:
    name and mapping required) or an update body (at least one field); others are a 400."""
    unknown = sorted(set(body) - _SENSOR_FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    fields: dict[str, Any] = {}
    name = _sensor_name(body, required=not partial)
    if name is not None:
        fields["name"] = name
    description = text_field(
        body, "description", required=False, limit=DESCRIPTION_MAX,
        default=None if partial else "", allow_empty=True,
    )  # fmt: skip
    if description is not None:
        fields["description"] = description
    if "mapping" in body or not partial:
        if body.get("mapping") is None:
            raise ValidationError("mapping is required", field="mapping")
        fields["mapping"] = parse_mapping(body["mapping"])
    if "path" in body or not partial:
        fields["path"] = parse_path(body.get("path"))
    if partial and not fields:
        raise ValidationError("nothing to update", field="name")
    return fields


def sensor_view(document: Document, device: str) -> dict[str, Any]:
    """A sensor as the API shows it; `tree_path` is `path/name` (what SenML names may use);
    `derived` only on a detector's score and verdict sensors."""
    data = document.data
    path = data.get("path", "")
    mapping = data.get("mapping") or {}
    view = {
        "id": document.id,
        "device_id": device,
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "path": path,
        "tree_path": f"{path}/{data.get('name', '')}" if path else data.get("name", ""),
        "mapping": {"type": mapping.get("type"), "unit": mapping.get("unit")},
        "created_at": rfc3339(data.get("created_at")),
        "updated_at": rfc3339(data.get("updated_at")),
    }
    derived = data.get("derived")
    if isinstance(derived, dict):  # a detector's score or verdict: {detector, source, series}
        view["derived"] = {k: derived.get(k) for k in ("detector", "source", "series")}
    return view
