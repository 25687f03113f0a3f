"""Who may read which sensor's data: users of the device's organisation, consumers granted the
sensor (the query API and the live streams decide alike).

Device tokens read nothing (403). A sensor or device of another organisation, an unknown one and
one a consumer was not granted are all answered 404, so no caller learns what exists elsewhere.
With `cache_seconds`, a sensor decision that allowed reading is reused for that long (refusals are
never cached), so a deleted sensor or a withdrawn grant stops readers within that bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.auth import Principal
from shared.directory import consumer_path, device_path, is_id, sensor_path, sensor_ref
from shared.errors import NotFound
from shared.expiring import ExpiringMap
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


_Key = tuple[str, str, str, str, str]


@dataclass
class Access:
    """Access decisions against the directory in `store`.

    `cache_seconds` > 0 reuses an allowing `sensor` decision for that long per caller (the query
    function passes STRATUS_TOKEN_CACHE_SECONDS, the bound revocation already has); `clock`
    (monotonic seconds) is injectable for tests.
    """

    store: Store
    cache_seconds: float = 0
    clock: Callable[[], float] = time.monotonic
    _allowed: ExpiringMap[_Key, VisibleSensor] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._allowed = ExpiringMap(self.cache_seconds, clock=self.clock)

    def sensor(self, principal: Principal, device: str, sensor: str) -> VisibleSensor:
        """The sensor if `principal` may read it; NotFound otherwise. One store read for a
        user (the sensor), one batched read of two documents for a consumer (its grants too):
        the rules of `shared.directory.may_read_sensor`, without reading the sensor twice;
        none while an earlier allowing decision for the same caller is cached."""
        if self.cache_seconds <= 0:
            return self._sensor(principal, device, sensor)
        # a user's decision depends on its organisation only; a consumer's on its grants too
        subject = principal.subject if principal.kind == "consumer" else ""
        key = (principal.kind, principal.org, subject, device, sensor)
        cached = self._allowed.get(key)
        if cached is not None:
            return cached
        read_at = self.clock()
        visible = self._sensor(principal, device, sensor)  # refusals raise: never cached
        self._allowed.put(key, visible, at=read_at)
        return visible

    def _sensor(self, principal: Principal, device: str, sensor: str) -> VisibleSensor:
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
