"""Core of the sensors function: the sensors of a device, placed in its sensor tree by `path`,
with a value mapping (`type`, optional `unit`), names unique within their folder."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.directory import (
    DESCRIPTION_MAX,
    NAME_MAX,
    device_path,
    new_id,
    purge_collection,
    remove_grants,
    require_id,
    rfc3339,
    sensor_path,
    text_field,
)
from shared.errors import Conflict, NotFound, ValidationError
from shared.store import Document, Filter, Query, Store
from shared.telemetry.types import canonical_type

__all__ = ["UNIT_MAX", "Sensors", "parse_mapping", "parse_path", "sensor_view"]

UNIT_MAX = 32
PATH_MAX = 256
SEGMENT_MAX = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FIELDS = frozenset({"name", "description", "mapping", "path"})


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


def _name(body: Mapping[str, Any], *, required: bool) -> str | None:
    name = text_field(body, "name", required=required, limit=NAME_MAX)
    if name is not None and "/" in name:
        raise ValidationError("name must not contain '/'; put folders in path", field="name")
    return name


def _fields(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    fields: dict[str, Any] = {}
    name = _name(body, required=not partial)
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
    """A sensor as the API shows it; `tree_path` is `path/name` (what SenML names may use)."""
    data = document.data
    path = data.get("path", "")
    mapping = data.get("mapping") or {}
    return {
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


class Sensors:
    """Sensor CRUD for the organisation of each call; the device must be the org's (404)."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _device(self, org: str, device: str) -> str:
        path = device_path(org, require_id(device, "device"))
        if self.store.get(path) is None:
            raise NotFound(f"no device {device!r}")
        return path

    def _load(self, org: str, device: str, sensor: str) -> Document:
        self._device(org, device)
        document = self.store.get(sensor_path(org, device, require_id(sensor, "sensor")))
        if document is None:
            raise NotFound(f"no sensor {sensor!r} on device {device!r}")
        return document

    @staticmethod
    def _taken(txn: Any, base: str, path: str, name: str, own: str | None) -> None:
        query = Query(
            f"{base}/sensors", where=(Filter("path", "==", path), Filter("name", "==", name))
        )
        for other in txn.query(query):
            if other.id != own:
                where = f"folder {path!r}" if path else "the device's root folder"
                raise Conflict(f"a sensor named {name!r} exists in {where}", field="name")

    def create(self, org: str, device: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = _fields(body, partial=False)
        base = device_path(org, require_id(device, "device"))
        sensor, now = new_id(), self._now()

        def write(txn: Any) -> None:
            if txn.get(base) is None:
                raise NotFound(f"no device {device!r}")
            self._taken(txn, base, fields["path"], fields["name"], None)
            txn.create(f"{base}/sensors/{sensor}", {**fields, "created_at": now, "updated_at": now})

        self.store.run_transaction(write)
        return sensor_view(self._load(org, device, sensor), device)

    def list(
        self, org: str, device: str, limit: int, cursor: str | None, path: str | None = None
    ) -> dict[str, Any]:
        base = self._device(org, device)
        if path is None:  # oldest first
            query = Query(
                f"{base}/sensors", order_by=(("created_at", "asc"),), limit=limit, after=cursor
            )
        else:  # one folder, by id: an equality filter needs no composite index in Firestore
            where = (Filter("path", "==", parse_path(path)),)
            query = Query(f"{base}/sensors", where=where, limit=limit, after=cursor)
        page = self.store.query(query)
        return {"items": [sensor_view(d, device) for d in page.documents], "next": page.next}

    def get(self, org: str, device: str, sensor: str) -> dict[str, Any]:
        return sensor_view(self._load(org, device, sensor), device)

    def update(self, org: str, device: str, sensor: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = _fields(body, partial=True)
        base = device_path(org, require_id(device, "device"))
        path = f"{base}/sensors/{require_id(sensor, 'sensor')}"

        def write(txn: Any) -> None:
            current = txn.get(path)
            if current is None:
                raise NotFound(f"no sensor {sensor!r} on device {device!r}")
            merged = {**current.data, **fields}
            if merged.get("name") != current.data.get("name") or merged.get(
                "path"
            ) != current.data.get("path"):
                self._taken(txn, base, merged.get("path", ""), merged["name"], sensor)
            txn.update(path, {**fields, "updated_at": self._now()})

        self.store.run_transaction(write)
        return sensor_view(self._load(org, device, sensor), device)

    def delete(self, org: str, device: str, sensor: str) -> None:
        """Delete the sensor with its stored readings and take it out of consumers' grants."""
        document = self._load(org, device, sensor)
        purge_collection(self.store, f"{document.path}/chunks")
        remove_grants(self.store, org, device, sensor)
        self.store.delete(document.path)
