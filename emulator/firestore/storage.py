"""Documents on SQLite (WAL): one row per document, written in one SQLite transaction per commit.

A row keeps the document's fields as a serialized `MapValue`, its create and update times in
integer microseconds, and its parent and collection id for queries. Like Firestore's automatic
single-field indexes, table `numbers` indexes every top-level integer and double field (NaN
aside) by (parent, collection, field, value, name): a query with a numeric range or equality
filter reads only the documents in that range, in order, instead of its whole collection.
Parsed field maps are cached by (name, update time), so repeated reads and queries do not parse
the same bytes again. The commit clock is kept in the database too, so commit times stay
strictly increasing across restarts, even when the last commit only deleted documents.
"""

from __future__ import annotations

import json
import sqlite3
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .paths import parse_doc_name, prefix_upper_bound
from .values import MapValue

__all__ = ["Database", "Range", "Stored", "load_exemptions"]

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
CREATE TABLE IF NOT EXISTS numbers (
    parent TEXT NOT NULL,
    collection TEXT NOT NULL,
    field TEXT NOT NULL,
    value NUMERIC NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (parent, collection, field, value, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS numbers_by_name ON numbers (name);
"""
_NUMBERS_VERSION = 1  # with the exemptions' digest, meta key 'numbers': the index is complete


@dataclass(frozen=True, slots=True)
class Range:
    """Bounds on one top-level numeric field (None: unbounded on that side)."""

    field: str
    low: float | int | None = None
    low_inclusive: bool = True
    high: float | int | None = None
    high_inclusive: bool = True


def load_exemptions(path: Path) -> frozenset[tuple[str, str]]:
    """(collection group, field) pairs a Firestore index configuration (`firestore.indexes.json`,
    the format `firebase deploy` and `gcloud` take) exempts from single-field indexing: its
    `fieldOverrides` with `"indexes": []`. ValueError naming the file when it is not one."""
    try:
        config = json.loads(path.read_text())
        overrides = config.get("fieldOverrides", [])
        return frozenset(
            (str(o["collectionGroup"]), str(o["fieldPath"]))
            for o in overrides
            if isinstance(o, dict) and o.get("indexes") == []
        )
    except (OSError, ValueError, AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a Firestore index configuration ({exc})") from None


def _digest(exempt: frozenset[tuple[str, str]]) -> int:
    return _NUMBERS_VERSION << 32 | zlib.crc32(json.dumps(sorted(exempt)).encode())


def _numbers(data: Any) -> Iterator[tuple[str, float | int]]:
    """The top-level integer and double fields of a document's `MapValue` (NaN is unordered)."""
    for field, value in data.fields.items():
        kind = value.WhichOneof("value_type")
        if kind == "integer_value":
            yield field, value.integer_value
        elif kind == "double_value" and value.double_value == value.double_value:
            yield field, value.double_value


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

    def __init__(self, path: Path, *, exempt: Iterable[tuple[str, str]] = ()) -> None:
        """`exempt`: (collection id, top-level field) pairs kept out of the numeric index, as
        `load_exemptions` reads them; queries bounding such a field scan the collection."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # survives kill -9; WAL fsyncs at checkpoint
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
        self._clock = int(row[0]) if row else 0
        self._cache: dict[str, tuple[int, Any]] = {}
        self._exempt = frozenset(exempt)
        self._index_numbers()

    def _index_numbers(self) -> None:
        """Build the numeric index for documents stored before it existed or under other
        exemptions."""
        digest = _digest(self._exempt)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'numbers'").fetchone()
        if row and row[0] == digest:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM numbers")
            rows = db.execute("SELECT name, parent, collection, fields FROM docs")
            for name, parent, collection, blob in rows:  # streamed: any size of database
                self._insert_numbers(name, parent, collection, MapValue.FromString(blob))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('numbers', ?)", (digest,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _insert_numbers(self, name: str, parent: str, collection: str, data: Any) -> None:
        rows = [
            (parent, collection, field, value, name)
            for field, value in _numbers(data)
            if (collection, field) not in self._exempt
        ]
        if rows:
            self._db.executemany(
                "INSERT INTO numbers (parent, collection, field, value, name)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def indexed(self, collection: str, field: str) -> bool:
        """Whether a top-level field of the collection's documents is in the numeric index."""
        return (collection, field) not in self._exempt

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

    def in_range(
        self, parent: str, collection: str, bounds: Range, *, descending: bool = False
    ) -> Iterator[Stored]:
        """The documents directly in `parent/collection` whose field `bounds.field` is a number
        within the bounds, ordered by that value and then by name (both descending if asked)."""
        where = ["n.parent = ?", "n.collection = ?", "n.field = ?"]
        args: list[Any] = [parent, collection, bounds.field]
        if bounds.low is not None:
            where.append("n.value >= ?" if bounds.low_inclusive else "n.value > ?")
            args.append(bounds.low)
        if bounds.high is not None:
            where.append("n.value <= ?" if bounds.high_inclusive else "n.value < ?")
            args.append(bounds.high)
        direction = "DESC" if descending else "ASC"
        return self._rows(
            "SELECT d.name, d.create_us, d.update_us, d.fields"
            " FROM numbers n JOIN docs d ON d.name = n.name"
            f" WHERE {' AND '.join(where)} ORDER BY n.value {direction}, n.name {direction}",
            args,
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
                db.execute("DELETE FROM numbers WHERE name = ?", (name,))
                self._cache.pop(name, None)
                if doc is None:
                    db.execute("DELETE FROM docs WHERE name = ?", (name,))
                    continue
                parsed = parse_doc_name(name)
                blob = doc.data.SerializeToString()
                db.execute(
                    "INSERT OR REPLACE INTO docs"
                    " (name, parent, collection, create_us, update_us, fields)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (name, parsed.parent, parsed.collection, doc.create_us, doc.update_us, blob),
                )
                self._insert_numbers(name, parsed.parent, parsed.collection, doc.data)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('clock', ?)", (self._clock,)
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
