"""The store port on the official google-cloud-firestore client (Google's service or an emulator).

The client is created lazily, once per process; set FIRESTORE_EMULATOR_HOST to use an emulator.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar, cast

import orjson
from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1 import FieldFilter, transforms

from shared.errors import BadRequest, Conflict, NotFound, PreconditionFailed, Unavailable
from shared.store import (
    DELETE_FIELD,
    SERVER_TIMESTAMP,
    ArrayRemove,
    ArrayUnion,
    Document,
    Increment,
    Page,
    Query,
    firestore_client,
)

__all__ = ["FirestoreStore"]

T = TypeVar("T")
_DIRECTIONS = {"asc": firestore.Query.ASCENDING, "desc": firestore.Query.DESCENDING}
# the port spells operators as Firestore's documentation does; the client library uses underscores
_OPERATORS = {"array-contains": "array_contains", "array-contains-any": "array_contains_any"}


@contextmanager
def _translated(path: str) -> Iterator[None]:
    """Turn the client's exceptions into the port's error model."""
    try:
        yield
    except gexc.AlreadyExists:
        raise Conflict(f"{path} already exists") from None
    except gexc.NotFound:
        raise NotFound(f"{path} does not exist") from None
    except gexc.FailedPrecondition as exc:
        raise PreconditionFailed(f"{path}: {exc.message}") from None
    except gexc.InvalidArgument as exc:
        raise BadRequest(f"{path}: {exc.message}") from None
    except (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError) as exc:
        raise Unavailable(f"document store unavailable: {exc.message}") from None
    except gexc.Aborted as exc:
        raise Unavailable(f"{path}: transaction kept conflicting: {exc.message}") from None


def _value(value: Any) -> Any:
    """Port sentinels and transforms to the client's."""
    if value is DELETE_FIELD:
        return firestore.DELETE_FIELD
    if value is SERVER_TIMESTAMP:
        return firestore.SERVER_TIMESTAMP
    if isinstance(value, Increment):
        return transforms.Increment(value.amount)
    if isinstance(value, ArrayUnion):
        return transforms.ArrayUnion(list(value.values))
    if isinstance(value, ArrayRemove):
        return transforms.ArrayRemove(list(value.values))
    if isinstance(value, Mapping):
        return {k: _value(v) for k, v in value.items()}
    return value


def _data(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _value(value) for key, value in data.items()}


def _document(snapshot: Any) -> Document | None:
    if not snapshot.exists:
        return None
    return Document(
        path=snapshot.reference.path,
        data=snapshot.to_dict() or {},
        update_time=snapshot.update_time,
        create_time=snapshot.create_time,
    )


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$ts": value.isoformat()}
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$ts" in value:
        return datetime.fromisoformat(value["$ts"])
    if isinstance(value, dict) and "$b" in value:
        return base64.b64decode(value["$b"])
    return value


def _field(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


class FirestoreStore:
    """`Store` on google-cloud-firestore. Thread-safe; one client per process."""

    def __init__(self, project: str, database: str = "(default)") -> None:
        self.project = project
        self.database = database
        self._client: firestore.Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> firestore.Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = firestore_client.client(self.project, self.database)
        return self._client

    # -- single documents -------------------------------------------------------------------

    def get(self, path: str) -> Document | None:
        with _translated(path):
            return _document(self.client.document(path).get())

    def get_many(self, paths: Sequence[str]) -> list[Document | None]:
        if not paths:
            return []
        refs = [self.client.document(path) for path in paths]
        with _translated(paths[0]):
            found = {snap.reference.path: _document(snap) for snap in self.client.get_all(refs)}
        return [found.get(path) for path in paths]

    def create(self, path: str, data: Mapping[str, Any]) -> datetime:
        with _translated(path):
            result = self.client.document(path).create(_data(data))
        return cast(datetime, result.update_time)

    def set(self, path: str, data: Mapping[str, Any], *, merge: bool = False) -> datetime:
        with _translated(path):
            result = self.client.document(path).set(_data(data), merge=merge)
        return cast(datetime, result.update_time)

    def update(
        self, path: str, fields: Mapping[str, Any], *, if_version: datetime | None = None
    ) -> datetime:
        option = self.client.write_option(last_update_time=if_version) if if_version else None
        with _translated(path):
            result = self.client.document(path).update(_data(fields), option=option)
        return cast(datetime, result.update_time)

    def delete(self, path: str, *, if_version: datetime | None = None) -> None:
        option = self.client.write_option(last_update_time=if_version) if if_version else None
        with _translated(path):
            self.client.document(path).delete(option=option)

    # -- queries ----------------------------------------------------------------------------

    def _base(self, query: Query) -> Any:
        if query.group:
            base: Any = self.client.collection_group(query.collection)
        else:
            base = self.client.collection(query.collection)
        for item in query.where:
            op = _OPERATORS.get(item.op, item.op)
            base = base.where(filter=FieldFilter(item.field, op, _value(item.value)))
        return base

    def _ordered(self, query: Query) -> tuple[Any, list[tuple[str, str]]]:
        base = self._base(query)
        orders = list(query.order_by)
        last = orders[-1][1] if orders else "asc"
        orders.append(("__name__", last))
        for name, direction in orders:
            if direction not in _DIRECTIONS:
                raise ValueError(f"order direction must be 'asc' or 'desc', got {direction!r}")
            base = base.order_by(name, direction=_DIRECTIONS[direction])
        return base, orders

    def query(self, query: Query) -> Page:
        base, orders = self._ordered(query)
        if query.select is not None:
            base = base.select(list(query.select))
        if query.after:
            base = base.start_after(self._cursor_fields(query.after, orders))
        if query.limit is not None:
            base = base.limit(query.limit + 1)
        with _translated(query.collection):
            docs = firestore_client.run_query(self.client, base)
        following = None
        if query.limit is not None and len(docs) > query.limit:
            docs = docs[: query.limit]
            last = docs[-1]
            values = [
                last.path if name == "__name__" else _encode(_field(last.data, name))
                for name, _ in orders
            ]
            following = base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")
        return Page(docs, following)

    def _cursor_fields(self, cursor: str, orders: list[tuple[str, str]]) -> dict[str, Any]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            values = orjson.loads(base64.urlsafe_b64decode(padded))
        except ValueError:
            raise BadRequest("cursor is not valid", field="cursor") from None
        if not isinstance(values, list) or len(values) != len(orders):
            raise BadRequest("cursor does not belong to this query", field="cursor")
        fields: dict[str, Any] = {}
        for (name, _), value in zip(orders, values, strict=True):
            if name == "__name__":
                if not isinstance(value, str) or value.count("/") % 2 != 1:
                    raise BadRequest("cursor does not belong to this query", field="cursor")
                fields[name] = self.client.document(value)
            else:
                fields[name] = _decode(value)
        return fields

    def count(self, query: Query) -> int:
        with _translated(query.collection):
            result: Any = self._base(query).count().get()
        return int(result[0][0].value)

    # -- batches and transactions -----------------------------------------------------------

    def batch(self) -> _Batch:
        return _Batch(self)

    def run_transaction(self, fn: Callable[[Any], T], *, max_attempts: int = 5) -> T:
        store = self

        @firestore.transactional
        def body(transaction: Any) -> T:
            return fn(_Transaction(store, transaction))

        with _translated("transaction"):
            try:
                return cast(T, body(self.client.transaction(max_attempts=max_attempts)))
            except ValueError as exc:
                # the client wraps the last ABORTED of its exhausted retries in a ValueError
                if isinstance(exc.__cause__, gexc.Aborted):
                    raise Unavailable(
                        f"transaction kept conflicting after {max_attempts} attempts; retry"
                    ) from None
                raise


class _Batch:
    def __init__(self, store: FirestoreStore) -> None:
        self._store = store
        self._batch = store.client.batch()
        self._first = ""

    def _note(self, path: str) -> Any:
        self._first = self._first or path
        return self._store.client.document(path)

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        self._batch.create(self._note(path), _data(data))

    def set(self, path: str, data: Mapping[str, Any], *, merge: bool = False) -> None:
        self._batch.set(self._note(path), _data(data), merge=merge)

    def update(
        self, path: str, fields: Mapping[str, Any], *, if_version: datetime | None = None
    ) -> None:
        client = self._store.client
        option = client.write_option(last_update_time=if_version) if if_version else None
        self._batch.update(self._note(path), _data(fields), option=option)

    def delete(self, path: str) -> None:
        self._batch.delete(self._note(path))

    def commit(self) -> datetime | None:
        if len(self._batch) == 0:
            return None
        with _translated(self._first):
            results = self._batch.commit()
        return cast(datetime, results[-1].update_time or self._batch.commit_time)


class _Transaction:
    def __init__(self, store: FirestoreStore, transaction: Any) -> None:
        self._store = store
        self._txn = transaction

    def _ref(self, path: str) -> Any:
        return self._store.client.document(path)

    def get(self, path: str) -> Document | None:
        (doc,) = self.get_many([path])  # the client's Transaction.get yields snapshots
        return doc

    def get_many(self, paths: Sequence[str]) -> list[Document | None]:
        if not paths:
            return []
        snaps = self._txn.get_all([self._ref(path) for path in paths])
        found = {snap.reference.path: _document(snap) for snap in snaps}
        return [found.get(path) for path in paths]

    def query(self, query: Query) -> list[Document]:
        base, _ = self._store._ordered(query)
        if query.limit is not None:
            base = base.limit(query.limit)
        return [doc for doc in map(_document, self._txn.get(base)) if doc is not None]

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        self._txn.create(self._ref(path), _data(data))

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        self._txn.set(self._ref(path), _data(data))

    def update(self, path: str, fields: Mapping[str, Any]) -> None:
        self._txn.update(self._ref(path), _data(fields))

    def delete(self, path: str) -> None:
        self._txn.delete(self._ref(path))
