"""Optimistic transactions: what each one read, when it may commit, and who keeps their place.

A read-write transaction records the version of every document it read (and the result of every
query it ran); its commit is ABORTED when any of them changed meanwhile, so the client retries.
Retries keep their place in line (the client passes the first attempt's id as
`retry_transaction`): a commit that would overwrite a document that an older, still active
transaction has read is aborted instead, so a transaction that keeps losing a race gets through
after a bounded number of attempts. A read-only transaction may read at a past `read_time`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import aborted, invalid
from .storage import Database, Stored

__all__ = ["TRANSACTION_TTL", "Transaction", "Transactions"]

TRANSACTION_TTL = 270.0  # seconds an idle transaction stays valid (Firestore: 270 s)
PRIORITY_WINDOW = 20.0  # an older transaction idle this long no longer holds its place in line


def signature(docs: list[Stored]) -> list[tuple[str, int]]:
    """What a query returned, to tell later whether its result changed."""
    return [(d.name, d.update_us) for d in docs]


@dataclass(slots=True)
class Transaction:
    id: bytes
    database: str
    read_only: bool
    line: float  # when the first attempt began: the place in line
    read_time: int | None = None  # a read-only transaction's past read time (microseconds)
    active: float = field(default_factory=time.monotonic)
    reads: dict[str, int | None] = field(default_factory=dict)
    queries: list[tuple[Any, list[tuple[str, int]]]] = field(default_factory=list)

    def read(self, name: str, doc: Stored | None) -> None:
        """Record the version of a document read in the transaction."""
        self.reads.setdefault(name, doc.update_us if doc else None)


class Transactions:
    """The open transactions of an emulator."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._open: dict[bytes, Transaction] = {}
        self._lines: dict[bytes, float] = {}

    def _expire(self) -> None:
        now = time.monotonic()
        for tid in [t for t, txn in self._open.items() if now - txn.active > TRANSACTION_TTL]:
            del self._open[tid]
        if len(self._lines) > 10_000:
            cutoff = time.time() - 600
            self._lines = {t: line for t, line in self._lines.items() if line > cutoff}

    def begin(self, database: str, options: Any | None, read_time: int | None) -> Transaction:
        """A new transaction (`read_time`: a read-only one's validated past read time)."""
        self._expire()
        read_only = options is not None and options.HasField("read_only")
        line = time.time()
        if options is not None and options.HasField("read_write"):
            retry = options.read_write.retry_transaction
            line = self._lines.get(retry, line) if retry else line
        txn = Transaction(secrets.token_bytes(12), database, read_only, line, read_time)
        self._open[txn.id] = txn
        self._lines[txn.id] = line
        return txn

    def get(self, database: str, tid: bytes) -> Transaction:
        txn = self._open.get(tid)
        if txn is None or txn.database != database:
            raise invalid("The referenced transaction has expired or is no longer valid.")
        txn.active = time.monotonic()
        return txn

    def end(self, txn: Transaction) -> None:
        self._open.pop(txn.id, None)

    def rollback(self, tid: bytes) -> None:
        self._open.pop(tid, None)

    def validate(
        self, txn: Transaction, written: set[str], rerun: Callable[[Any], list[Stored]]
    ) -> None:
        """ABORTED when what the transaction read changed, or an older transaction holds a
        document it writes."""
        for name, version in txn.reads.items():
            current = self.db.get(name)
            if (current.update_us if current else None) != version:
                raise aborted(f"Transaction lock timeout or conflict: {name} changed since read.")
        for plan, result in txn.queries:
            if signature(rerun(plan)) != result:
                raise aborted("Transaction conflict: a query's results changed since it ran.")
        now = time.monotonic()
        for other in self._open.values():
            if other is txn or other.read_only or other.line >= txn.line:
                continue
            if now - other.active > PRIORITY_WINDOW:
                continue
            for name in written & other.reads.keys():
                current = self.db.get(name)
                if (current.update_us if current else None) == other.reads[name]:
                    raise aborted(
                        f"Transaction conflict: an older transaction holds {name}; retry."
                    )
