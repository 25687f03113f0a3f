"""Admin core of the bootstrap function: an organisation's registrations (create, list, read,
change, enable/disable, rotate the external key, delete)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from functions.bootstrap.model import (
    external_id_or_404,
    generate_key,
    index_path,
    parse_external_id,
    parse_external_key,
    registration_fields,
    registration_path,
    registration_view,
    registrations_path,
)
from shared.auth.passwords import hash_password
from shared.errors import Conflict, NotFound, ValidationError
from shared.store import Document, Query, Store

__all__ = ["Registrations"]


class Registrations:
    """Registrations of the organisation of each call; another organisation's are 404."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        new_key: Callable[[], str] = generate_key,
        hash_key: Callable[[str], str] = hash_password,
    ) -> None:
        self.store = store
        self.clock = clock
        self.new_key = new_key
        self.hash_key = hash_key

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _load(self, org: str, external_id: str) -> Document:
        path = registration_path(org, external_id_or_404(external_id))
        document = self.store.get(path)
        if document is None:
            raise NotFound(f"no bootstrap registration {external_id!r}")
        return document

    def _key(self, body: Mapping[str, Any]) -> str:
        raw = body.get("external_key")
        return self.new_key() if raw is None else parse_external_key(raw)

    def create(self, org: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A new registration; the answer carries `external_key` (the only time it is shown).
        409 when the external id is registered in any organisation."""
        fields = registration_fields(body, create=True)
        external_id = parse_external_id(body.get("external_id"))
        key, now = self._key(body), self._now()
        data = {
            **fields,
            "key_hash": self.hash_key(key),
            "key_version": 1,
            "device": None,
            "created_at": now,
            "updated_at": now,
        }
        batch = self.store.batch()
        batch.create(index_path(external_id), {"org": org})
        batch.create(registration_path(org, external_id), data)
        try:
            batch.commit()
        except Conflict:
            raise Conflict(
                f"external id {external_id!r} is already registered", field="external_id"
            ) from None
        view = registration_view(self._load(org, external_id))
        return {**view, "external_key": key}

    def list(self, org: str, limit: int, cursor: str | None) -> dict[str, Any]:
        """A page of the organisation's registrations, oldest first."""
        query = Query(
            registrations_path(org), order_by=(("created_at", "asc"),), limit=limit, after=cursor
        )
        page = self.store.query(query)
        return {"items": [registration_view(d) for d in page.documents], "next": page.next}

    def get(self, org: str, external_id: str) -> dict[str, Any]:
        return registration_view(self._load(org, external_id))

    def update(self, org: str, external_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Change name, description, config, sensors (used when the device is created) and
        `enabled` (a disabled registration is refused at bootstrap: 403)."""
        fields = registration_fields(body, create=False)
        path = registration_path(org, external_id_or_404(external_id))
        try:
            self.store.update(path, {**fields, "updated_at": self._now()})
        except NotFound:
            raise NotFound(f"no bootstrap registration {external_id!r}") from None
        return registration_view(self._load(org, external_id))

    def rotate(self, org: str, external_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A new external key (given as `external_key`, else generated): the old one is refused
        from now on. Answers `{"external_key", "key_version"}`."""
        unknown = sorted(set(body) - {"external_key"})
        if unknown:
            raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
        key = self._key(body)
        digest = self.hash_key(key)  # slow: outside the transaction
        path = registration_path(org, external_id_or_404(external_id))

        def bump(txn: Any) -> int:
            current = txn.get(path)
            if current is None:
                raise NotFound(f"no bootstrap registration {external_id!r}")
            version = int(current.data.get("key_version", 1)) + 1
            txn.update(
                path, {"key_hash": digest, "key_version": version, "updated_at": self._now()}
            )
            return version

        version = self.store.run_transaction(bump)
        return {"external_key": key, "key_version": version}

    def delete(self, org: str, external_id: str) -> None:
        """Remove the registration (its device, if created, stays: delete it as any device)."""
        self._load(org, external_id)
        batch = self.store.batch()
        batch.delete(registration_path(org, external_id))
        batch.delete(index_path(external_id))
        batch.commit()
