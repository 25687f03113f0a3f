"""SQLite persistence for the emulator: topics, subscriptions, messages and delivery state.

One `deliveries` row per (subscription, message) not yet acknowledged: `due` is the wall-clock
second from which it may be handed out again (lease end, nack, push backoff) and `attempts` how
many times it was handed out. Acknowledging deletes the row; a message row goes once no
subscription still owes it. Callers group calls in `tx()`; a commit is durable against kill -9
(WAL, synchronous=NORMAL: the OS has the pages once COMMIT returns).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

__all__ = ["Row", "Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL, attributes BLOB NOT NULL,
    ordering_key TEXT NOT NULL, publish_ns INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS messages_time ON messages (publish_ns);
CREATE TABLE IF NOT EXISTS deliveries (
    sub INTEGER NOT NULL, msg INTEGER NOT NULL, due REAL NOT NULL, attempts INTEGER NOT NULL,
    PRIMARY KEY (sub, msg)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (sub, due);
CREATE INDEX IF NOT EXISTS deliveries_msg ON deliveries (msg);
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS schemas (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, revision TEXT NOT NULL,
    body BLOB NOT NULL);
"""

_ORDERED = """
SELECT d.msg, d.attempts, m.data, m.attributes, m.ordering_key, m.publish_ns
FROM deliveries d JOIN messages m ON m.id = d.msg
WHERE d.sub = ? AND d.due <= ? AND (m.ordering_key = '' OR NOT EXISTS (
    SELECT 1 FROM deliveries e JOIN messages n ON n.id = e.msg
    WHERE e.sub = d.sub AND e.msg < d.msg AND e.due > ? AND n.ordering_key = m.ordering_key))
ORDER BY d.msg LIMIT ?
"""


class Row(NamedTuple):
    """A message a subscription owes, as handed out."""

    msg: int
    attempts: int
    data: bytes
    attributes: bytes
    ordering_key: str
    publish_ns: int


class Store:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # resources -------------------------------------------------------------------------------

    def topics(self) -> list[tuple[str, bytes]]:
        return self.db.execute("SELECT name, body FROM topics").fetchall()

    def put_topic(self, name: str, body: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO topics (name, body) VALUES (?, ?)", (name, body))

    def delete_topic(self, name: str) -> None:
        self.db.execute("DELETE FROM topics WHERE name = ?", (name,))

    def subscriptions(self) -> list[tuple[int, str, bytes]]:
        return self.db.execute("SELECT id, name, body FROM subscriptions").fetchall()

    def insert_subscription(self, name: str, body: bytes) -> int:
        cursor = self.db.execute(
            "INSERT INTO subscriptions (name, body) VALUES (?, ?)", (name, body)
        )
        return int(cursor.lastrowid or 0)

    def update_subscription(self, sub: int, body: bytes) -> None:
        self.db.execute("UPDATE subscriptions SET body = ? WHERE id = ?", (body, sub))

    def delete_subscription(self, sub: int) -> None:
        self.drop_deliveries(sub)
        self.db.execute("DELETE FROM subscriptions WHERE id = ?", (sub,))

    def snapshots(self) -> list[tuple[int, str, bytes]]:
        return self.db.execute("SELECT id, name, body FROM snapshots").fetchall()

    def insert_snapshot(self, name: str, body: bytes, source: int) -> int:
        """A snapshot owes what subscription `source` owes now: its deliveries are kept under
        the negative of its id (so a snapshot never collides with a subscription)."""
        cursor = self.db.execute("INSERT INTO snapshots (name, body) VALUES (?, ?)", (name, body))
        snapshot = int(cursor.lastrowid or 0)
        self.copy_deliveries(source, -snapshot)
        return snapshot

    def update_snapshot(self, snapshot: int, body: bytes) -> None:
        self.db.execute("UPDATE snapshots SET body = ? WHERE id = ?", (body, snapshot))

    def delete_snapshot(self, snapshot: int) -> None:
        self.drop_deliveries(-snapshot)
        self.db.execute("DELETE FROM snapshots WHERE id = ?", (snapshot,))

    def copy_deliveries(self, source: int, target: int) -> None:
        """`target` owes what `source` owes, due now, never handed out yet."""
        self.db.execute(
            "INSERT OR IGNORE INTO deliveries (sub, msg, due, attempts)"
            " SELECT ?, msg, 0, 0 FROM deliveries WHERE sub = ?",
            (target, source),
        )

    def oldest_owed(self, sub: int) -> int | None:
        """publish_ns of the oldest message `sub` owes, or None."""
        row = self.db.execute(
            "SELECT min(m.publish_ns) FROM deliveries d JOIN messages m ON m.id = d.msg"
            " WHERE d.sub = ?",
            (sub,),
        ).fetchone()
        return None if row[0] is None else int(row[0])

    def seek_time(self, sub: int, at_ns: int) -> None:
        """Seek to a time: what was published before it is acknowledged, the rest due now."""
        self.expire(sub, at_ns)
        self.db.execute("UPDATE deliveries SET due = 0, attempts = 0 WHERE sub = ?", (sub,))

    def schema_revisions(self) -> list[tuple[str, bytes]]:
        """(name, Schema protobuf) of every schema revision, oldest first."""
        return self.db.execute("SELECT name, body FROM schemas ORDER BY seq").fetchall()

    def put_schema(self, name: str, revision: str, body: bytes) -> None:
        self.db.execute(
            "INSERT INTO schemas (name, revision, body) VALUES (?, ?, ?)", (name, revision, body)
        )

    def delete_schema(self, name: str, revision: str | None) -> None:
        """One revision, or with None all of them."""
        if revision is None:
            self.db.execute("DELETE FROM schemas WHERE name = ?", (name,))
        else:
            self.db.execute("DELETE FROM schemas WHERE name = ? AND revision = ?", (name, revision))

    # messages --------------------------------------------------------------------------------

    def publish(
        self, messages: Sequence[tuple[bytes, bytes, str]], subs: Sequence[int], publish_ns: int
    ) -> list[int]:
        """Store messages owed to `subs`; their ids. Nothing is stored without subscriptions."""
        due = publish_ns / 1e9
        # ids taken in one go: the caller holds the write lock (BEGIN IMMEDIATE) and
        # AUTOINCREMENT's counter never goes back, so last + 1 ... are free and increasing
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
        last = int(row[0]) if row else 0
        ids = list(range(last + 1, last + 1 + len(messages)))
        self.db.executemany(
            "INSERT INTO messages (id, data, attributes, ordering_key, publish_ns)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (ids[n], data, attrs, key, publish_ns)
                for n, (data, attrs, key) in enumerate(messages)
            ],
        )
        if not subs:
            self.db.execute(f"DELETE FROM messages WHERE id IN ({','.join('?' * len(ids))})", ids)
        self.db.executemany(
            "INSERT INTO deliveries (sub, msg, due, attempts) VALUES (?, ?, ?, 0)",
            [(sub, msg, due) for sub in subs for msg in ids],
        )
        return ids

    def available(self, sub: int, now: float, limit: int, ordered: bool = False) -> list[Row]:
        """Up to `limit` messages `sub` may hand out now, oldest due first. `ordered` (message
        ordering): in publish order, and a message with an ordering key only while no earlier
        message with that key is out (leased, or waiting for a push retry)."""
        if ordered:
            rows = self.db.execute(_ORDERED, (sub, now, now, limit)).fetchall()
            return [Row(*row) for row in rows]
        rows = self.db.execute(
            "SELECT d.msg, d.attempts, m.data, m.attributes, m.ordering_key, m.publish_ns"
            " FROM deliveries d JOIN messages m ON m.id = d.msg"
            " WHERE d.sub = ? AND d.due <= ? ORDER BY d.due, d.msg LIMIT ?",
            (sub, now, limit),
        ).fetchall()
        return [Row(*row) for row in rows]

    def lease(self, sub: int, msgs: Iterable[int], due: float) -> None:
        """Hand out: not due again before `due`, one more attempt."""
        self.db.executemany(
            "UPDATE deliveries SET due = ?, attempts = attempts + 1 WHERE sub = ? AND msg = ?",
            [(due, sub, msg) for msg in msgs],
        )

    def release(self, sub: int) -> None:
        """Every message of the subscription due now (its leases ended with the process)."""
        self.db.execute("UPDATE deliveries SET due = 0 WHERE sub = ? AND due > 0", (sub,))

    def set_due(self, sub: int, leases: Iterable[tuple[int, int]], due: float) -> None:
        """Move the lease of (msg, attempts) pairs still on that attempt (modack, nack, backoff)."""
        self.db.executemany(
            "UPDATE deliveries SET due = ? WHERE sub = ? AND msg = ? AND attempts = ?",
            [(due, sub, msg, attempts) for msg, attempts in leases],
        )

    def leases(self, sub: int, msgs: Sequence[int]) -> dict[int, tuple[int, float]]:
        """msg -> (attempts, due) of the given messages `sub` still owes."""
        marks = ",".join("?" * len(msgs))
        rows = self.db.execute(
            f"SELECT msg, attempts, due FROM deliveries WHERE sub = ? AND msg IN ({marks})",
            (sub, *msgs),
        )
        return {msg: (attempts, due) for msg, attempts, due in rows}

    def drop_deliveries(self, sub: int) -> None:
        """Everything `sub` owes is gone (a detached subscription)."""
        msgs = [m for (m,) in self.db.execute("SELECT msg FROM deliveries WHERE sub = ?", (sub,))]
        self.db.execute("DELETE FROM deliveries WHERE sub = ?", (sub,))
        self._collect(msgs)

    def ack(self, sub: int, msgs: Sequence[int]) -> None:
        self.db.executemany(
            "DELETE FROM deliveries WHERE sub = ? AND msg = ?", [(sub, msg) for msg in msgs]
        )
        self._collect(msgs)

    def expire(self, sub: int, before_ns: int) -> int:
        """Drop what `sub` owes that was published before `before_ns`; how many."""
        row = self.db.execute(
            "SELECT max(id) FROM messages WHERE publish_ns < ?", (before_ns,)
        ).fetchone()
        if row[0] is None:
            return 0
        msgs = [
            m
            for (m,) in self.db.execute(
                "SELECT msg FROM deliveries WHERE sub = ? AND msg <= ?", (sub, row[0])
            )
        ]
        self.ack(sub, msgs)
        return len(msgs)

    def exhausted(self, sub: int, now: float, max_attempts: int, limit: int) -> list[Row]:
        """Messages due again that were already handed out `max_attempts` times."""
        rows = self.db.execute(
            "SELECT d.msg, d.attempts, m.data, m.attributes, m.ordering_key, m.publish_ns"
            " FROM deliveries d JOIN messages m ON m.id = d.msg"
            " WHERE d.sub = ? AND d.due <= ? AND d.attempts >= ? LIMIT ?",
            (sub, now, max_attempts, limit),
        ).fetchall()
        return [Row(*row) for row in rows]

    def _collect(self, msgs: Sequence[int]) -> None:
        """Delete the messages among `msgs` that no subscription owes any more."""
        self.db.executemany(
            "DELETE FROM messages WHERE id = ? AND NOT EXISTS"
            " (SELECT 1 FROM deliveries WHERE msg = ?)",
            [(msg, msg) for msg in msgs],
        )
