"""`MemoryStore`: the store port in memory, for fast unit tests of cores (no process).

It keeps Firestore's rules as the Firestore adapter shows them (the contract suite in
tests/shared/store/test_contract.py holds it to the adapter on our emulator and Google's): atomic
commits with one strictly increasing commit time, a write that changes nothing keeps its version,
update/delete preconditions, transforms, type-bounded filters, inequality filters only on fields
the query orders by (the adapter always orders by the document path last), opaque cursors,
collection groups, projections, a 1 MiB document limit, and optimistic transactions retried when
a document they read changed, Unavailable once they keep conflicting. `fail_next` makes the next
operations fail with Unavailable, for the bad paths of a core.
"""

from __future__ import annotations

import base64
import copy
import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson

from shared.errors import BadRequest, Conflict, NotFound, PreconditionFailed, Unavailable
from shared.store import DELETE_FIELD, Document, Page, Query
from tests.support.memory_values import (
    MAX_DOCUMENT_BYTES,
    MISSING,
    copy_in,
    document_size,
    get_field,
    matches,
    set_field,
    sort_key,
    transform,
)

__all__ = ["MemoryStore", "ReadAfterWriteError"]

T = TypeVar("T")
_NAME = "__name__"
_TICK = timedelta(microseconds=1)
_INEQUALITIES = frozenset({"<", "<=", ">", ">=", "!=", "not-in"})


class ReadAfterWriteError(Exception):
    """A transaction read after it wrote (the Firestore client refuses the same)."""


class _Contention(Exception):
    """A document a transaction read changed before it committed."""


@dataclass(slots=True)
class _Stored:
    data: dict[str, Any]
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True)
class _Write:
    kind: str  # create, set, merge, update, delete
    path: str
    data: Mapping[str, Any]
    if_version: datetime | None = None


def _document_path(path: str) -> str:
    parts = path.split("/")
    if not path or "" in parts or len(parts) % 2:
        raise ValueError(f"A document must have an even number of path elements: {path!r}")
    return path


def _field_path(name: str) -> tuple[str, ...]:
    return tuple(name.split("."))


def _leaves(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[Any, Any]]:
    """Field paths and values of a merge: nested maps merge, anything else replaces."""
    out: list[tuple[Any, Any]] = []
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            out.extend(_leaves(value, path))
        else:
            out.append((path, value))
    return out


def _write(kind: str, path: str, data: Mapping[str, Any], if_version: Any = None) -> _Write:
    _document_path(path)
    if kind in ("create", "set") and any(value is DELETE_FIELD for _, value in _leaves(data)):
        raise ValueError(f"DELETE_FIELD cannot be used in {kind}() without merge")
    return _Write(kind, path, data, if_version)


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


class MemoryStore:
    """`Store` in memory. Thread-safe; every instance is an empty database of its own."""

    def __init__(self) -> None:
        self._docs: dict[str, _Stored] = {}
        self._lock = threading.RLock()
        self._last = datetime(1970, 1, 1, tzinfo=UTC)
        self._failures = 0
        self.commits = 0  # successful commits (single writes, batches, transactions)

    def fail_next(self, count: int = 1) -> None:
        """Make the next `count` operations raise Unavailable, as an outage would."""
        self._failures = count

    def _available(self) -> None:
        if self._failures:
            self._failures -= 1
            raise Unavailable("document store unavailable: an outage the test asked for")

    def _document(self, path: str, stored: _Stored | None) -> Document | None:
        if stored is None:
            return None
        data = copy.deepcopy(stored.data)
        return Document(path, data, stored.update_time, stored.create_time)

    # -- single documents -------------------------------------------------------------------

    def get(self, path: str) -> Document | None:
        (doc,) = self.get_many([path])
        return doc

    def get_many(self, paths: Sequence[str]) -> list[Document | None]:
        for path in paths:
            _document_path(path)
        with self._lock:
            self._available()
            return [self._document(path, self._docs.get(path)) for path in paths]

    def create(self, path: str, data: Mapping[str, Any]) -> datetime:
        return self._commit([_write("create", path, data)])

    def set(self, path: str, data: Mapping[str, Any], *, merge: bool = False) -> datetime:
        return self._commit([_write("merge" if merge else "set", path, data)])

    def update(
        self, path: str, fields: Mapping[str, Any], *, if_version: datetime | None = None
    ) -> datetime:
        return self._commit([_write("update", path, fields, if_version)])

    def delete(self, path: str, *, if_version: datetime | None = None) -> None:
        self._commit([_write("delete", path, {}, if_version)])

    # -- commits ----------------------------------------------------------------------------

    def _commit(self, writes: list[_Write], reads: Mapping[str, datetime | None] = {}) -> datetime:
        """Apply `writes` atomically at one commit time; the version of the last write's document
        (the commit time, or its old version if the write changed nothing). _Contention when a
        document in `reads` no longer has the version read."""
        with self._lock:
            self._available()
            for path, version in reads.items():
                current = self._docs.get(path)
                if (current.update_time if current else None) != version:
                    raise _Contention(path)
            if not writes:
                return self._last
            now = max(datetime.now(UTC), self._last + _TICK)
            after: dict[str, _Stored | None] = {}
            version = now
            for write in writes:
                before = after[write.path] if write.path in after else self._docs.get(write.path)
                stored = after[write.path] = self._apply(write, before, now)
                version = now if stored is None else stored.update_time
            for path, stored in after.items():
                if stored is None:
                    self._docs.pop(path, None)
                else:
                    self._docs[path] = stored
            self._last = now
            self.commits += 1
            return version

    def _apply(self, write: _Write, current: _Stored | None, now: datetime) -> _Stored | None:
        path = write.path
        if write.if_version is not None and (
            current is None or current.update_time != write.if_version
        ):
            raise PreconditionFailed(f"{path}: the document is not at the version given")
        if write.kind == "delete":
            return None
        if write.kind == "create" and current is not None:
            raise Conflict(f"{path} already exists")
        if write.kind == "update" and current is None:
            raise NotFound(f"{path} does not exist")
        keep = write.kind in ("update", "merge") and current is not None
        data: dict[str, Any] = copy.deepcopy(current.data) if keep and current else {}
        if write.kind == "update":
            changes = [(_field_path(name), value) for name, value in write.data.items()]
        elif write.kind == "merge":
            changes = _leaves(write.data)
        else:
            changes = [((str(name),), value) for name, value in write.data.items()]
        for field, change in changes:
            set_field(data, field, transform(get_field(data, field), change, now))
        size = document_size(path, data)
        if size > MAX_DOCUMENT_BYTES:
            raise BadRequest(
                f"{path}: the document's size ({size:,} bytes) exceeds the maximum allowed "
                f"size of {MAX_DOCUMENT_BYTES:,} bytes"
            )
        if current is not None and data == current.data:
            return _Stored(data, current.create_time, current.update_time)
        return _Stored(data, current.create_time if current else now, now)

    # -- queries ----------------------------------------------------------------------------

    def _matching(self, query: Query) -> list[tuple[str, _Stored]]:
        parts = query.collection.split("/")
        if query.group and len(parts) != 1:
            raise ValueError(f"a collection group is one collection id: {query.collection!r}")
        if "" in parts or len(parts) % 2 == 0:
            raise ValueError(f"A collection must have an odd number of path elements: {parts}")
        negations = sum(item.op in ("!=", "not-in") for item in query.where)
        if negations > 1:
            raise BadRequest(f"{query.collection}: only one '!=' or 'not-in' filter per query")
        filters = [(_field_path(f.field), f.op, copy_in(f.value)) for f in query.where]
        found = []
        for path, stored in self._docs.items():
            parent = path.rsplit("/", 1)[0]
            inside = parent.rsplit("/", 1)[-1] if query.group else parent
            if inside != query.collection:
                continue
            if all(matches(get_field(stored.data, f), op, v) for f, op, v in filters):
                found.append((path, stored))
        return found

    def _orders(self, query: Query) -> list[tuple[str, str]]:
        orders = list(query.order_by)
        for _, direction in orders:
            if direction not in ("asc", "desc"):
                raise ValueError(f"order direction must be 'asc' or 'desc', got {direction!r}")
        unordered = {f.field for f in query.where if f.op in _INEQUALITIES} - dict(orders).keys()
        if unordered:  # the adapter orders by the path last, leaving Firestore no room for them
            raise BadRequest(
                f"{query.collection}: order by clause cannot contain more fields after the key "
                f"(order by {sorted(unordered)}, the fields of inequality filters)"
            )
        return [*orders, (_NAME, orders[-1][1] if orders else "asc")]

    def _ordered(self, query: Query) -> tuple[list[tuple[str, _Stored]], list[tuple[str, str]]]:
        """The matching documents in the query's order (those lacking an order field left out),
        and that order, the document path last."""
        orders = self._orders(query)
        rows: list[tuple[list[Any], str, _Stored]] = []
        for path, stored in self._matching(query):
            values = _values(path, stored, orders)
            if all(value is not MISSING for value in values):
                rows.append((_keys(values, orders), path, stored))

        def order(a: tuple[list[Any], str, _Stored], b: tuple[list[Any], str, _Stored]) -> int:
            return _compare(a[0], b[0], orders)

        rows.sort(key=functools.cmp_to_key(order))
        return [(path, stored) for _, path, stored in rows], orders

    def query(self, query: Query) -> Page:
        with self._lock:
            self._available()
            rows, orders = self._ordered(query)
            if query.after:
                after = _keys(self._cursor_values(query.after, orders), orders)
                rows = [
                    (path, stored)
                    for path, stored in rows
                    if _compare(_keys(_values(path, stored, orders), orders), after, orders) > 0
                ]
            following = None
            if query.limit is not None and len(rows) > query.limit:
                rows = rows[: query.limit]
                last = [_encode(value) for value in _values(*rows[-1], orders)]
                following = base64.urlsafe_b64encode(orjson.dumps(last)).decode().rstrip("=")
            documents = [self._projected(path, stored, query.select) for path, stored in rows]
            return Page(documents, following)

    def _projected(self, path: str, stored: _Stored, select: tuple[str, ...] | None) -> Document:
        if select is None:
            doc = self._document(path, stored)
            assert doc is not None
            return doc
        data: dict[str, Any] = {}
        for name in select:
            value = get_field(stored.data, _field_path(name))
            if value is not MISSING:
                set_field(data, _field_path(name), copy.deepcopy(value))
        return Document(path, data, stored.update_time, stored.create_time)

    def _cursor_values(self, cursor: str, orders: list[tuple[str, str]]) -> list[Any]:
        try:
            values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except ValueError:
            raise BadRequest("cursor is not valid", field="cursor") from None
        if not isinstance(values, list) or len(values) != len(orders):
            raise BadRequest("cursor does not belong to this query", field="cursor")
        if not isinstance(values[-1], str) or values[-1].count("/") % 2 != 1:
            raise BadRequest("cursor does not belong to this query", field="cursor")
        return [_decode(value) for value in values]

    def count(self, query: Query) -> int:
        with self._lock:
            self._available()
            return len(self._matching(query))

    # -- batches and transactions -----------------------------------------------------------

    def batch(self) -> _Batch:
        return _Batch(self)

    def run_transaction(self, fn: Callable[[Any], T], *, max_attempts: int = 5) -> T:
        for _ in range(max_attempts):
            transaction = _Transaction(self)
            result = fn(transaction)
            try:
                if transaction.writes or transaction.reads:
                    self._commit(transaction.writes, transaction.reads)
            except _Contention:
                continue
            return result
        raise Unavailable(f"transaction: transaction kept conflicting after {max_attempts} tries")


def _values(path: str, stored: _Stored, orders: list[tuple[str, str]]) -> list[Any]:
    return [
        path if name == _NAME else get_field(stored.data, _field_path(name)) for name, _ in orders
    ]


def _keys(values: list[Any], orders: list[tuple[str, str]]) -> list[Any]:
    """Comparable keys of order values; the document path compares segment by segment."""
    return [
        tuple(value.split("/")) if name == _NAME else sort_key(value)
        for value, (name, _) in zip(values, orders, strict=True)
    ]


def _compare(left: list[Any], right: list[Any], orders: list[tuple[str, str]]) -> int:
    for a, b, (_, direction) in zip(left, right, orders, strict=True):
        if a != b:
            result = -1 if a < b else 1
            return -result if direction == "desc" else result
    return 0


class _Batch:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._writes: list[_Write] = []

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        self._writes.append(_write("create", path, data))

    def set(self, path: str, data: Mapping[str, Any], *, merge: bool = False) -> None:
        self._writes.append(_write("merge" if merge else "set", path, data))

    def update(
        self, path: str, fields: Mapping[str, Any], *, if_version: datetime | None = None
    ) -> None:
        self._writes.append(_write("update", path, fields, if_version))

    def delete(self, path: str) -> None:
        self._writes.append(_write("delete", path, {}))

    def commit(self) -> datetime | None:
        return self._store._commit(self._writes) if self._writes else None


class _Transaction:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.reads: dict[str, datetime | None] = {}
        self.writes: list[_Write] = []

    def _reading(self) -> None:
        if self.writes:
            raise ReadAfterWriteError("Attempted read after write in a transaction.")

    def get(self, path: str) -> Document | None:
        (doc,) = self.get_many([path])
        return doc

    def get_many(self, paths: Sequence[str]) -> list[Document | None]:
        self._reading()
        docs = self._store.get_many(paths)
        for path, doc in zip(paths, docs, strict=True):
            self.reads.setdefault(path, doc.update_time if doc else None)
        return docs

    def query(self, query: Query) -> list[Document]:
        self._reading()
        with self._store._lock:
            self._store._available()
            rows, _ = self._store._ordered(query)
            rows = rows if query.limit is None else rows[: query.limit]
            docs = [self._store._projected(path, stored, None) for path, stored in rows]
        for doc in docs:
            self.reads.setdefault(doc.path, doc.update_time)
        return docs

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        self.writes.append(_write("create", path, data))

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        self.writes.append(_write("set", path, data))

    def update(self, path: str, fields: Mapping[str, Any]) -> None:
        self.writes.append(_write("update", path, fields))

    def delete(self, path: str) -> None:
        self.writes.append(_write("delete", path, {}))
