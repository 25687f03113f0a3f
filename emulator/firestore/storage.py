"""Documents on SQLite (WAL): one row per document, written in one SQLite transaction per commit.

A row keeps the document's fields as a serialized `MapValue`, its create and update times in
integer microseconds, and its parent and collection id for queries. Parsed field maps are cached
by (name, update time), so repeated reads and queries do not parse the same bytes again. The
commit clock is kept in the database too, so commit times stay strictly increasing across
restarts, even when the last commit only deleted documents.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .paths import parse_doc_name, prefix_upper_bound
from .values import MapValue

__all__ = ["Database", "Stored"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    name TEXT PRIMARY KEY,
    parent TEXT NOT NULL,
    collection TEXT NOT NULL,
    create_us INTEGER NOT NULL,
    update_us INTEGER NOT NULL,
    fields BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_by_collection ON docs (parent, collection);
CREATE INDEX IF NOT EXISTS docs_by_group ON docs (collection);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_CACHE_LIMIT = 100_000


@dataclass(slots=True)
class Stored:
    """A document as stored: its name, its fields as a `MapValue` (never mutated once stored:
    copy before changing) and its create and update times in microseconds."""

    name: str
    data: Any
    create_us: int
    update_us: int


class Database:
    """All documents of every project and database the emulator serves, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # survives kill -9; WAL fsyncs at checkpoint
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
        self._clock = int(row[0]) if row else 0
        self._cache: dict[str, tuple[int, Any]] = {}

    def close(self) -> None:
        self._db.close()

    # -- time -----------------------------------------------------------------------------------

    def next_commit_time(self) -> int:
        """A commit time in microseconds, later than every earlier one (also across restarts)."""
        self._clock = max(time.time_ns() // 1000, self._clock + 1)
        return self._clock

    def now(self) -> int:
        """A read time: now, but never before the latest commit."""
        return max(time.time_ns() // 1000, self._clock)

    # -- reads ----------------------------------------------------------------------------------

    def _parse(self, name: str, update_us: int, blob: bytes) -> Any:
        cached = self._cache.get(name)
        if cached is not None and cached[0] == update_us:
            return cached[1]
        data = MapValue.FromString(blob)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[name] = (update_us, data)
        return data

    def _rows(self, sql: str, args: Iterable[Any]) -> Iterator[Stored]:
        for name, create_us, update_us, blob in self._db.execute(sql, tuple(args)):
            yield Stored(name, self._parse(name, update_us, blob), create_us, update_us)

    def get(self, name: str) -> Stored | None:
        rows = self._rows(
            "SELECT name, create_us, update_us, fields FROM docs WHERE name = ?", (name,)
        )
        return next(rows, None)

    def collection(self, parent: str, collection: str) -> Iterator[Stored]:
        """The documents directly in `parent/collection`."""
        return self._rows(
            "SELECT name, create_us, update_us, fields FROM docs"
            " WHERE parent = ? AND collection = ?",
            (parent, collection),
        )

    def descendants(self, parent: str, collection: str | None) -> Iterator[Stored]:
        """Documents anywhere below `parent` (a collection group), optionally of one collection."""
        low = parent + "/"
        high = prefix_upper_bound(low)
        if collection:
            return self._rows(
                "SELECT name, create_us, update_us, fields FROM docs"
                " WHERE collection = ? AND name >= ? AND name < ?",
                (collection, low, high),
            )
        return self._rows(
            "SELECT name, create_us, update_us, fields FROM docs WHERE name >= ? AND name < ?",
            (low, high),
        )

    def names_below(self, prefix: str) -> Iterator[str]:
        """Names of every stored document whose name starts with `prefix`."""
        high = prefix_upper_bound(prefix)
        for (name,) in self._db.execute(
            "SELECT name FROM docs WHERE name >= ? AND name < ?", (prefix, high)
        ):
            yield name

    # -- writes ---------------------------------------------------------------------------------

    def apply(self, puts: dict[str, Stored | None]) -> None:
        """Store every document of `puts` (None deletes it), and the clock, atomically."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for name, doc in puts.items():
                if doc is None:
                    db.execute("DELETE FROM docs WHERE name = ?", (name,))
                    self._cache.pop(name, None)
                    continue
                parsed = parse_doc_name(name)
                blob = doc.data.SerializeToString()
                db.execute(
                    "INSERT OR REPLACE INTO docs"
                    " (name, parent, collection, create_us, update_us, fields)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (name, parsed.parent, parsed.collection, doc.create_us, doc.update_us, blob),
                )
                self._cache.pop(name, None)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('clock', ?)", (self._clock,)
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
