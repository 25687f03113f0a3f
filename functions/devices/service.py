"""Core of the devices function: devices of one organisation in the store, their keys, and their
MQTT logins kept in step through the broker port."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.auth.tokens import issue_device_token
from shared.broker import BrokerAdmin
from shared.directory import (
    bump_key_version,
    device_index_path,
    device_path,
    named_fields,
    new_id,
    purge_collection,
    remove_grants,
    require_id,
    rfc3339,
)
from shared.errors import NotFound, Unavailable
from shared.provisioning import IssueToken, device_token, new_device, reason, sync_login
from shared.store import Document, Query, Store

__all__ = ["Devices", "IssueToken", "device_view"]


_log = logging.getLogger("stratus.devices")


def device_view(document: Document) -> dict[str, Any]:
    """A device as the API shows it (never its token)."""
    data = document.data
    return {
        "id": document.id,
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "key_version": data.get("key_version", 0),
        "created_at": rfc3339(data.get("created_at")),
        "updated_at": rfc3339(data.get("updated_at")),
    }


class Devices:
    """Device CRUD and keys for the organisation of each call.

    Broker consistency: the store is the truth. Create writes the store, then registers the MQTT
    login (username = id, password = current token) and, if the broker fails, removes the device
    again and answers 503, so a retried POST starts clean. Rotate writes the store first, then
    the broker; a 503 there means the broker still holds the previous token: rotate again. Delete
    removes the broker login first, then the store, so a retried DELETE finishes the job.
    """

    def __init__(
        self,
        store: Store,
        broker: BrokerAdmin | None,
        *,
        clock: Callable[[], float] = time.time,
        issue: IssueToken = issue_device_token,
    ) -> None:
        self.store = store
        self.broker = broker
        self.clock = clock
        self.issue = issue

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _load(self, org: str, device: str) -> Document:
        document = self.store.get(device_path(org, require_id(device, "device")))
        if document is None:
            raise NotFound(f"no device {device!r}")
        return document

    def _token(self, org: str, document: Document) -> str:
        return device_token(self.issue, org, document)

    def create(self, org: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = named_fields(body, partial=False)
        device, now = new_id(), self._now()
        data = new_device(fields, now)
        token = self.issue(device, org, 1, data["key_issued_at"])  # fails before any write
        batch = self.store.batch()
        batch.create(device_path(org, device), data)
        batch.create(device_index_path(device), {"org": org})
        batch.commit()
        if self.broker is not None:
            try:
                self.broker.register_device(device, token)
            except Exception as exc:
                self._undo_create(org, device)
                raise Unavailable(
                    f"MQTT broker did not take the device's login ({reason(exc)}); the device "
                    "was not created: try again"
                ) from None
        return device_view(self._load(org, device))

    def _undo_create(self, org: str, device: str) -> None:
        try:
            batch = self.store.batch()
            batch.delete(device_path(org, device))
            batch.delete(device_index_path(device))
            batch.commit()
            if self.broker is not None:
                self.broker.remove_device(device)
        except Exception:
            _log.exception("device %s of %s half-created: delete it", device, org)

    def list(self, org: str, limit: int, cursor: str | None) -> dict[str, Any]:
        query = Query(
            f"orgs/{org}/devices", order_by=(("created_at", "asc"),), limit=limit, after=cursor
        )
        page = self.store.query(query)
        return {"result": [device_view(d) for d in page.documents], "next": page.next}

    def get(self, org: str, device: str) -> dict[str, Any]:
        return device_view(self._load(org, device))

    def update(self, org: str, device: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = named_fields(body, partial=True)
        path = device_path(org, require_id(device, "device"))
        try:
            self.store.update(path, {**fields, "updated_at": self._now()})
        except NotFound:
            raise NotFound(f"no device {device!r}") from None
        return device_view(self._load(org, device))

    def delete(self, org: str, device: str) -> None:
        """Remove the broker login, the sensors (with their data), the device's control
        documents, its grants to consumers, then the device and its index entry."""
        self._load(org, device)
        if self.broker is not None:
            try:
                self.broker.remove_device(device)
            except Exception as exc:
                raise Unavailable(
                    f"MQTT broker did not remove the device's login ({reason(exc)}); nothing "
                    "was deleted: try again"
                ) from None
        base = device_path(org, device)
        while sensors := self.store.query(Query(f"{base}/sensors", limit=100)).documents:
            batch = self.store.batch()
            for sensor in sensors:
                purge_collection(self.store, f"{sensor.path}/chunks")
                batch.delete(sensor.path)
            batch.commit()
        purge_collection(self.store, f"{base}/control")
        remove_grants(self.store, org, device)
        batch = self.store.batch()
        batch.delete(base)
        batch.delete(device_index_path(device))
        batch.commit()

    def key(self, org: str, device: str) -> dict[str, Any]:
        document = self._load(org, device)
        return {"token": self._token(org, document), "key_version": document.data["key_version"]}

    def rotate(self, org: str, device: str) -> dict[str, Any]:
        """A new key version: every older token is refused from now on (within the guard's
        cache bound), and the broker's password becomes the new token."""
        path = device_path(org, require_id(device, "device"))
        bump_key_version(self.store, path, "device", self._now())
        document = self._load(org, device)
        token = self._token(org, document)
        if self.broker is not None:
            sync_login(
                self.store, self.broker, org, document, self.issue,
                failed="the key was rotated but the MQTT broker still has the previous one",
                then="rotate again",
            )  # fmt: skip
        return {"token": token, "key_version": document.data["key_version"]}
