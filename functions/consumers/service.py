"""Core of the consumers function: applications that read data, the sensors granted to each
(`{device}/{sensor}`), and their read-only keys."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.auth.tokens import issue_consumer_token
from shared.directory import (
    bump_key_version,
    consumer_path,
    named_fields,
    new_id,
    require_id,
    rfc3339,
    sensor_path,
    sensor_ref,
)
from shared.errors import Conflict, NotFound, ValidationError
from shared.store import ArrayRemove, ArrayUnion, Document, Query, Store

__all__ = ["MAX_GRANTS", "Consumers", "IssueToken", "consumer_view"]

MAX_GRANTS = 1000
IssueToken = Callable[[str, str, int, int], str]  # (consumer, org, key_version, issued_at)


def consumer_view(document: Document) -> dict[str, Any]:
    """A consumer as the API shows it (never its token)."""
    data = document.data
    return {
        "id": document.id,
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "sensors": sorted(data.get("sensors", [])),
        "key_version": data.get("key_version", 0),
        "created_at": rfc3339(data.get("created_at")),
        "updated_at": rfc3339(data.get("updated_at")),
    }


def parse_grant(body: Mapping[str, Any]) -> tuple[str, str]:
    """(device, sensor) of a grant body `{"device": id, "sensor": id}`."""
    ids = []
    for field in ("device", "sensor"):
        value = body.get(field)
        if not isinstance(value, str) or not value:
            raise ValidationError(f"{field} is required (an id)", field=field)
        ids.append(value)
    return ids[0], ids[1]


class Consumers:
    """Consumer CRUD, grants and keys for the organisation of each call."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        issue: IssueToken = issue_consumer_token,
    ) -> None:
        self.store = store
        self.clock = clock
        self.issue = issue

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _path(self, org: str, consumer: str) -> str:
        return consumer_path(org, require_id(consumer, "consumer"))

    def _load(self, org: str, consumer: str) -> Document:
        document = self.store.get(self._path(org, consumer))
        if document is None:
            raise NotFound(f"no consumer {consumer!r}")
        return document

    def create(self, org: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = named_fields(body, partial=False)
        consumer, now = new_id(), self._now()
        self.store.create(
            consumer_path(org, consumer),
            {
                **fields,
                "sensors": [],
                "key_version": 1,
                "key_issued_at": int(now.timestamp()),
                "created_at": now,
                "updated_at": now,
            },
        )
        return consumer_view(self._load(org, consumer))

    def list(self, org: str, limit: int, cursor: str | None) -> dict[str, Any]:
        query = Query(
            f"orgs/{org}/consumers", order_by=(("created_at", "asc"),), limit=limit, after=cursor
        )
        page = self.store.query(query)
        return {"items": [consumer_view(d) for d in page.documents], "next": page.next}

    def get(self, org: str, consumer: str) -> dict[str, Any]:
        return consumer_view(self._load(org, consumer))

    def update(self, org: str, consumer: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = named_fields(body, partial=True)
        try:
            self.store.update(self._path(org, consumer), {**fields, "updated_at": self._now()})
        except NotFound:
            raise NotFound(f"no consumer {consumer!r}") from None
        return consumer_view(self._load(org, consumer))

    def delete(self, org: str, consumer: str) -> None:
        """Delete the consumer; its tokens stop working (within the guard's cache bound)."""
        self._load(org, consumer)
        self.store.delete(self._path(org, consumer))

    def grant(self, org: str, consumer: str, device: str, sensor: str) -> dict[str, Any]:
        """Let the consumer read one sensor of the organisation (idempotent)."""
        path = self._path(org, consumer)
        target = sensor_path(org, require_id(device, "device"), require_id(sensor, "sensor"))

        def write(txn: Any) -> None:
            current, found = txn.get_many([path, target])
            if current is None:
                raise NotFound(f"no consumer {consumer!r}")
            if found is None:
                raise NotFound(f"no sensor {sensor!r} on device {device!r}")
            granted = current.data.get("sensors", [])
            if sensor_ref(device, sensor) in granted:
                return
            if len(granted) >= MAX_GRANTS:
                raise Conflict(f"a consumer may be granted at most {MAX_GRANTS} sensors")
            txn.update(
                path,
                {"sensors": ArrayUnion((sensor_ref(device, sensor),)), "updated_at": self._now()},
            )

        self.store.run_transaction(write)
        return consumer_view(self._load(org, consumer))

    def revoke(self, org: str, consumer: str, device: str, sensor: str) -> dict[str, Any]:
        """Take one sensor back; 404 when it was not granted."""
        document = self._load(org, consumer)
        ref = sensor_ref(device, sensor)
        if ref not in document.data.get("sensors", []):
            raise NotFound(f"sensor {ref!r} is not granted to consumer {consumer!r}")
        self.store.update(
            document.path, {"sensors": ArrayRemove((ref,)), "updated_at": self._now()}
        )
        return consumer_view(self._load(org, consumer))

    def _token(self, org: str, document: Document) -> str:
        data = document.data
        return self.issue(document.id, org, data["key_version"], data["key_issued_at"])

    def key(self, org: str, consumer: str) -> dict[str, Any]:
        document = self._load(org, consumer)
        return {"token": self._token(org, document), "key_version": document.data["key_version"]}

    def rotate(self, org: str, consumer: str) -> dict[str, Any]:
        """A new key version; every older token of the consumer is refused from now on."""
        bump_key_version(self.store, self._path(org, consumer), "consumer", self._now())
        return self.key(org, consumer)
