"""The device's offline buffer: readings on disk (SQLite) until the platform has them.

`add` commits readings before it returns, so they survive a crash of the device process. The
sender takes them out in order as *batches*: forming a batch moves its oldest readings into one
row with a fresh idempotency key and the exact request body, in one transaction. A batch is sent
(and re-sent after failures or restarts) with that same key and body until the platform accepts
it, then deleted; so the platform sees every reading, in order, and a retry of an accepted batch
is recognised by its key instead of stored twice. Batches the platform refuses for good (400,
403, 413, 415) are moved to `rejected` with the reason, so they never block the queue.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Batch", "OfflineBuffer", "Rejected"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (seq INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    body BLOB NOT NULL,
    count INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    body BLOB NOT NULL,
    count INTEGER NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Batch:
    """Readings sent together: `body` is a JSON array, `key` its idempotency key."""

    id: int
    key: str
    body: bytes
    count: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A batch the platform refused for good, with its answer."""

    key: str
    body: bytes
    count: int
    status: int
    reason: str


class OfflineBuffer:
    """Readings waiting for the platform, in `path` (one device process per file)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a committed row survives a process crash
        self._db.executescript(_SCHEMA)

    def add(self, bodies: Iterable[bytes]) -> int:
        """Append readings (each one JSON object) in order; durable when this returns."""
        rows = [(body,) for body in bodies]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT INTO readings (body) VALUES (?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(rows)

    def next_batch(self, size: int) -> Batch | None:
        """The oldest batch not yet accepted, forming one of up to `size` readings when none is
        pending; None when the buffer is empty."""
        with self._lock:
            batch = self._oldest()
            if batch is not None:
                return batch
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute(
                    "SELECT seq, body FROM readings ORDER BY seq LIMIT ?", (size,)
                ).fetchall()
                if not rows:
                    self._db.execute("COMMIT")
                    return None
                body = b"[" + b",".join(row[1] for row in rows) + b"]"
                self._db.execute(
                    "INSERT INTO batches (key, body, count) VALUES (?, ?, ?)",
                    (uuid.uuid4().hex, body, len(rows)),
                )
                self._db.execute("DELETE FROM readings WHERE seq <= ?", (rows[-1][0],))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return self._oldest()

    def _oldest(self) -> Batch | None:
        row = self._db.execute(
            "SELECT id, key, body, count, attempts FROM batches ORDER BY id LIMIT 1"
        ).fetchone()
        return Batch(*row) if row else None

    def attempted(self, batch: Batch) -> None:
        """Count a failed attempt (kept for inspection; the batch stays first in line)."""
        with self._lock:
            self._db.execute("UPDATE batches SET attempts = attempts + 1 WHERE id = ?", (batch.id,))

    def accepted(self, batch: Batch) -> None:
        """The platform has the batch: forget it."""
        with self._lock:
            self._db.execute("DELETE FROM batches WHERE id = ?", (batch.id,))

    def reject(self, batch: Batch, status: int, reason: str) -> None:
        """The platform refused the batch for good: move it aside with the reason."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO rejected (key, body, count, status, reason, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (batch.key, batch.body, batch.count, status, reason[:2000], time.time()),
            )
            self._db.execute("DELETE FROM batches WHERE id = ?", (batch.id,))
            self._db.execute("COMMIT")

    def pending(self) -> int:
        """Readings not yet accepted by the platform."""
        with self._lock:
            loose = self._db.execute("SELECT COUNT(*) FROM readings").fetchone()[0]
            batched = self._db.execute("SELECT COALESCE(SUM(count), 0) FROM batches").fetchone()[0]
        return int(loose) + int(batched)

    def rejected(self) -> list[Rejected]:
        """Batches refused for good, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, body, count, status, reason FROM rejected ORDER BY id"
            ).fetchall()
        return [Rejected(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
