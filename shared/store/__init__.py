"""The document store port: the narrow set of operations functions may use on durable documents.

Paths are slash-separated document paths relative to the database root, e.g.
`orgs/o1/devices/d1`; collection paths name a collection, e.g. `orgs/o1/devices`. The Google adapter
(`shared.store.firestore`) implements it on the official Firestore client, which the emulator
serves locally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

__all__ = [
    "DELETE_FIELD",
    "SERVER_TIMESTAMP",
    "ArrayRemove",
    "ArrayUnion",
    "Batch",
    "Document",
    "Filter",
    "Increment",
    "Page",
    "Query",
    "Store",
    "Transaction",
]

T = TypeVar("T")

OPERATORS = frozenset(
    {"==", "!=", "<", "<=", ">", ">=", "in", "not-in", "array-contains", "array-contains-any"}
)


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


DELETE_FIELD = _Sentinel("DELETE_FIELD")  # in update(): remove this field
SERVER_TIMESTAMP = _Sentinel("SERVER_TIMESTAMP")  # the commit time, set by the store


@dataclass(frozen=True, slots=True)
class Increment:
    """Add `amount` to a numeric field atomically (missing counts as 0)."""

    amount: int | float


@dataclass(frozen=True, slots=True)
class ArrayUnion:
    """Append the values not already present in an array field."""

    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class ArrayRemove:
    """Remove every occurrence of the values from an array field."""

    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """A stored document: its path, its data and its version (`update_time`)."""

    path: str
    data: dict[str, Any]
    update_time: datetime
    create_time: datetime

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Filter:
    """`field op value`; op is one of ==, !=, <, <=, >, >=, in, not-in, array-contains(-any)."""

    field: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"unknown filter operator {self.op!r}")


@dataclass(frozen=True, slots=True)
class Query:
    """Documents of one collection (or, with `group`, of every collection with that id).

    `order_by` pairs are (field, "asc"|"desc"); the document path is always the last tiebreaker.
    `after` is the opaque `Page.next` of the previous page.
    """

    collection: str
    where: tuple[Filter, ...] = ()
    order_by: tuple[tuple[str, str], ...] = ()
    limit: int | None = None
    after: str | None = None
    group: bool = False
    select: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    documents: list[Document] = field(default_factory=list)
    next: str | None = None  # cursor for the following page, None on the last page


class Transaction(Protocol):
    """Reads first, then writes; the store retries the whole function on a conflict."""

    def get(self, path: str) -> Document | None: ...
    def get_many(self, paths: Sequence[str]) -> list[Document | None]: ...
    def query(self, query: Query) -> list[Document]: ...
    def create(self, path: str, data: Mapping[str, Any]) -> None: ...
    def set(self, path: str, data: Mapping[str, Any]) -> None: ...
    def update(self, path: str, fields: Mapping[str, Any]) -> None: ...
    def delete(self, path: str) -> None: ...


class Batch(Protocol):
    """Writes applied atomically by `commit()`: all or none (a `create` of an existing document
    is Conflict, an `update` of a document not at `if_version` PreconditionFailed). `commit`
    returns the version of the last write's document (the commit time when it changed it),
    None for an empty batch: with `if_version` that is optimistic concurrency in one round
    trip, where a transaction takes three."""

    def create(self, path: str, data: Mapping[str, Any]) -> None: ...
    def set(self, path: str, data: Mapping[str, Any], *, merge: bool = False) -> None: ...
    def update(
        self, path: str, fields: Mapping[str, Any], *, if_version: datetime | None = None
    ) -> None: ...
    def delete(self, path: str) -> None: ...
    def commit(self) -> datetime | None: ...


class Store(Protocol):
    """Errors: NotFound, Conflict (exists), PreconditionFailed (version), Unavailable."""

    def get(self, path: str) -> Document | None: ...
    def get_many(self, paths: Sequence[str]) -> list[Document | None]: ...
    def create(self, path: str, data: Mapping[str, Any]) -> datetime: ...
    def set(self, path: str, data: Mapping[str, Any], *, merge: bool = False) -> datetime: ...
    def update(
        self, path: str, fields: Mapping[str, Any], *, if_version: datetime | None = None
    ) -> datetime: ...
    def delete(self, path: str, *, if_version: datetime | None = None) -> None: ...
    def query(self, query: Query) -> Page: ...
    def count(self, query: Query) -> int: ...
    def batch(self) -> Batch: ...
    def run_transaction(self, fn: Callable[[Transaction], T], *, max_attempts: int = 5) -> T: ...
