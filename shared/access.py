"""Who may read which sensor's data: users of the device's organisation, consumers granted the
sensor (the query API and the live streams decide alike).

Device tokens read nothing (403). A sensor or device of another organisation, an unknown one and
one a consumer was not granted are all answered 404, so no caller learns what exists elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.auth import Principal
from shared.directory import consumer_path, device_path, is_id, sensor_path, sensor_ref
from shared.errors import NotFound
from shared.store import Query, Store

__all__ = ["Access", "VisibleSensor"]

_PAGE = 300


@dataclass(frozen=True, slots=True)
class VisibleSensor:
    """A sensor the caller may read, with the stored type its values have."""

    id: str
    type: str | None


def _type(data: dict[str, Any]) -> str | None:
    mapping = data.get("mapping")
    value = mapping.get("type") if isinstance(mapping, dict) else None
    return value if isinstance(value, str) else None


@dataclass
class Access:
    """Access decisions against the directory in `store`."""

    store: Store

    def sensor(self, principal: Principal, device: str, sensor: str) -> VisibleSensor:
        """The sensor if `principal` may read it; NotFound otherwise. One store read for a
        user (the sensor), one batched read of two documents for a consumer (its grants too):
        the rules of `shared.directory.may_read_sensor`, without reading the sensor twice."""
        missing = NotFound(f"no sensor {sensor[:64]!r} on device {device[:64]!r}")
        if principal.kind not in {"user", "consumer"} or not (is_id(device) and is_id(sensor)):
            raise missing
        path = sensor_path(principal.org, device, sensor)
        if principal.kind == "consumer":
            consumer, document = self.store.get_many(
                [consumer_path(principal.org, principal.subject), path]
            )
            granted = consumer.data.get("sensors", []) if consumer else []
            if sensor_ref(device, sensor) not in granted:
                raise missing
        else:
            document = self.store.get(path)
        if document is None:
            raise missing
        return VisibleSensor(sensor, _type(document.data))

    def device_sensors(self, principal: Principal, device: str) -> list[VisibleSensor]:
        """The sensors of a device that `principal` may read (ordered by id); NotFound for an
        unknown or foreign device, and for a consumer granted none of its sensors."""
        missing = NotFound(f"no device {device[:64]!r}")
        if not is_id(device) or self.store.get(device_path(principal.org, device)) is None:
            raise missing
        granted: set[str] | None = None
        if principal.kind == "consumer":
            consumer = self.store.get(consumer_path(principal.org, principal.subject))
            refs = consumer.data.get("sensors", []) if consumer else []
            prefix = f"{device}/"
            granted = {ref[len(prefix) :] for ref in refs if ref.startswith(prefix)}
            if not granted:
                raise missing
        out: list[VisibleSensor] = []
        after = None
        while True:
            page = self.store.query(
                Query(f"{device_path(principal.org, device)}/sensors", limit=_PAGE, after=after)
            )
            for document in page.documents:
                if granted is None or document.id in granted:
                    out.append(VisibleSensor(document.id, _type(document.data)))
            if page.next is None:
                return out
            after = page.next
