"""Core of the models function: ONNX models of an organisation, versioned, stored in chunks, their
signature read from the file when a version is uploaded."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.directory import named_fields, new_id, purge_collection, require_id, rfc3339
from shared.errors import Conflict, NotFound, ValidationError
from shared.inference.onnx_models import read_signature, signature_data, write_version
from shared.inference.paths import detectors_path, model_path, model_version_path, models_path
from shared.store import Document, Filter, Query, Store, Transaction

__all__ = ["Models", "model_view", "version_view"]


def model_view(document: Document) -> dict[str, Any]:
    data = document.data
    return {
        "id": document.id,
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "latest": data.get("latest", 0),
        "created_at": rfc3339(data.get("created_at")),
        "updated_at": rfc3339(data.get("updated_at")),
    }


def version_view(document: Document) -> dict[str, Any]:
    data = document.data
    keys = ("size", "sha256", "inputs", "outputs", "format")
    return {
        "version": int(document.id),
        **{key: data.get(key) for key in keys},
        "created_at": rfc3339(data.get("created_at")),
    }


class Models:
    """Model CRUD and version uploads for the organisation of each call."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _load(self, org: str, model: str) -> Document:
        document = self.store.get(model_path(org, require_id(model, "model")))
        if document is None:
            raise NotFound(f"no model {model!r}")
        return document

    def create(self, org: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = named_fields(body, partial=False)
        model, now = new_id(), self._now()
        data = {**fields, "latest": 0, "created_at": now, "updated_at": now}
        self.store.create(model_path(org, model), data)
        return model_view(self._load(org, model))

    def list(self, org: str, limit: int, cursor: str | None) -> dict[str, Any]:
        query = Query(
            models_path(org), order_by=(("created_at", "asc"),), limit=limit, after=cursor
        )
        page = self.store.query(query)
        return {"items": [model_view(d) for d in page.documents], "next": page.next}

    def get(self, org: str, model: str) -> dict[str, Any]:
        return model_view(self._load(org, model))

    def upload(self, org: str, model: str, data: bytes) -> dict[str, Any]:
        """A new version from an ONNX file: its signature read (400 for a file onnx refuses), its
        bytes stored in chunks, then the version document; `latest` points at it."""
        path = model_path(org, require_id(model, "model"))
        if not data:
            raise ValidationError(
                "the body is the model file (application/octet-stream)", field="body"
            )
        signature = read_signature(data)

        def reserve(txn: Transaction) -> int:
            document = txn.get(path)
            if document is None:
                raise NotFound(f"no model {model!r}")
            number = int(document.data.get("reserved", document.data.get("latest", 0))) + 1
            txn.update(path, {"reserved": number})
            return number

        version = self.store.run_transaction(reserve)
        doc = {"format": "onnx", **signature_data(signature), "created_at": self._now()}
        write_version(self.store, org, model, version, data, doc)

        def publish(txn: Transaction) -> None:
            document = txn.get(path)
            if document is not None and int(document.data.get("latest", 0)) < version:
                txn.update(path, {"latest": version, "updated_at": self._now()})

        self.store.run_transaction(publish)
        return self.version(org, model, version)

    def versions(self, org: str, model: str) -> dict[str, Any]:
        document = self._load(org, model)
        page = self.store.query(Query(f"{document.path}/versions", limit=1000))
        return {"items": [version_view(d) for d in page.documents]}

    def version(self, org: str, model: str, version: int) -> dict[str, Any]:
        self._load(org, model)
        document = self.store.get(model_version_path(org, model, version))
        if document is None:
            raise NotFound(f"model {model!r} has no version {version}")
        return version_view(document)

    def delete(self, org: str, model: str) -> None:
        """409 while a detector uses it; otherwise every version with its chunks goes."""
        document = self._load(org, model)
        users = self.store.query(
            Query(detectors_path(org), where=(Filter("params.model", "==", model),), limit=1)
        ).documents
        if users:
            raise Conflict(f"detector {users[0].id} uses this model; delete it first")
        while versions := self.store.query(Query(f"{document.path}/versions", limit=50)).documents:
            for version in versions:
                purge_collection(self.store, f"{version.path}/blobs")
                self.store.delete(version.path)
        self.store.delete(document.path)
