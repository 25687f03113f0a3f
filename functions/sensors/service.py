"""Core of the sensors function: the sensors of a device, placed in its sensor tree by `path`,
with a value mapping (`type`, optional `unit`), names unique within their folder (the fields and
views are `shared.provisioning`'s, which bootstrap uses too)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.directory import (
    device_path,
    new_id,
    purge_collection,
    remove_grants,
    require_id,
    sensor_path,
)
from shared.errors import Conflict, NotFound
from shared.provisioning import UNIT_MAX, parse_mapping, parse_path, sensor_view
from shared.provisioning import sensor_fields as _fields
from shared.store import Document, Filter, Query, Store

__all__ = ["UNIT_MAX", "Sensors", "parse_mapping", "parse_path", "sensor_view"]


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
            _keep_derived_mapping(current.data, fields)
            merged = {**current.data, **fields}
            if merged.get("name") != current.data.get("name") or merged.get(
                "path"
            ) != current.data.get("path"):
                self._taken(txn, base, merged.get("path", ""), merged["name"], sensor)
            txn.update(path, {**fields, "updated_at": self._now()})

        self.store.run_transaction(write)
        return sensor_view(self._load(org, device, sensor), device)

    def delete(self, org: str, device: str, sensor: str) -> None:
        """Delete the sensor with its stored readings and take it out of consumers' grants; a
        derived sensor goes with its detector only (409)."""
        document = self._load(org, device, sensor)
        derived = document.data.get("derived")
        if derived:
            detector = derived.get("detector") if isinstance(derived, dict) else None
            raise Conflict(
                f"sensor {sensor!r} is derived: detector {detector} writes it; delete the "
                f"detector (DELETE /api/detectors/{detector}), which deletes it"
            )
        purge_collection(self.store, f"{document.path}/chunks")
        remove_grants(self.store, org, device, sensor)
        self.store.delete(document.path)


def _keep_derived_mapping(current: Mapping[str, Any], fields: Mapping[str, Any]) -> None:
    """A derived sensor may be renamed, described and moved, but its mapping is its detector's
    (a double score, a boolean verdict): changing it is 409."""
    if (
        current.get("derived")
        and "mapping" in fields
        and fields["mapping"] != current.get("mapping")
    ):
        raise Conflict("the mapping of a derived sensor is fixed by its detector", field="mapping")
