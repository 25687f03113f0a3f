"""Documents on SQLite (WAL): one row per document, written in one SQLite transaction per commit,
with the versions they replaced kept for an hour so reads at a past `read_time` are exact.

A row keeps the document's fields as a serialized `MapValue`, its create and update times in
integer microseconds, and its parent and collection id for queries. A write that replaces or
deletes a document moves the old version to table `history` with the commit time that ended it,
in the same SQLite transaction; versions that ended more than the retention ago (an hour: the
window Firestore serves reads in) are pruned once a minute, and reads before the oldest time
still exact (the `horizon`) are refused. Like Firestore's automatic single-field indexes, table
`numbers` indexes every top-level integer and double field (NaN aside) by (parent, collection,
field, value, name): a query with a numeric range or equality filter reads only the documents in
that range, in order, instead of its whole collection. Parsed field maps are cached by (name,
update time). The commit clock is kept in the database too, so commit times stay strictly
increasing across restarts, even when the last commit only deleted documents.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .numbers import Range, digest, load_exemptions, numbers
from .paths import parse_doc_name, prefix_upper_bound
from .values import MapValue

__all__ = ["RETENTION_US", "Database", "Range", "Stored", "load_exemptions"]

RETENTION_US = 3600 * 1_000_000  # versions are kept this long after they were replaced
_PRUNE_EVERY_US = 60 * 1_000_000

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
CREATE TABLE IF NOT EXISTS history (
    name TEXT NOT NULL,
    parent TEXT NOT NULL,
    collection TEXT NOT NULL,
    create_us INTEGER NOT NULL,
    update_us INTEGER NOT NULL,
    end_us INTEGER NOT NULL,
    fields BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_name ON history (name, end_us);
"""
_COLUMNS = "name, create_us, update_us, fields"
_ARCHIVE = (
    "INSERT INTO history (name, parent, collection, create_us, update_us, end_us, fields)"
    " SELECT name, parent, collection, create_us, update_us, ?, fields FROM docs"
    " WHERE name = ? AND update_us != ?"
)

_NUMBER = "INSERT INTO numbers (parent, collection, field, value, name) VALUES (?, ?, ?, ?, ?)"
_CACHE_LIMIT = 100_000


@dataclass(slots=True)
class Stored:
    """A document as stored: its name, its fields as a `MapValue` (never mutated once stored:
    copy before changing) and its create and update times in microseconds."""

    name: str
    data: Any
    create_us: int
    update_us: int


def _as_of(current: str, past: str) -> str:
    """SQL for the versions valid at a time `:at`: current rows written by then, and replaced
    versions written by then and replaced after it. `current` and `past` are WHERE clauses
    (with named parameters) on `docs` and on `history`."""
    return (
        f"SELECT {_COLUMNS} FROM docs WHERE {current} AND update_us <= :at"
        f" UNION ALL SELECT {_COLUMNS} FROM history"
        f" WHERE {past} AND update_us <= :at AND end_us > :at"
    )


class Database:
    """All documents of every project and database the emulator serves, in one SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        exempt: Iterable[tuple[str, str]] = (),
        clock: Callable[[], int] = time.time_ns,
        retention_us: int = RETENTION_US,
    ) -> None:
        """`exempt`: (collection id, top-level field) pairs kept out of the numeric index, as
        `load_exemptions` reads them; queries bounding such a field scan the collection.
        `clock`: the wall clock in nanoseconds (commit times follow it, strictly increasing).
        `retention_us`: how long replaced versions are kept for reads at a past time."""
        self._now_ns = clock
        self._retention_us = retention_us
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # survives kill -9; WAL fsyncs at checkpoint
        self._db.executescript(_SCHEMA)
        self._clock = self._meta("clock") or 0
        horizon = self._meta("horizon")
        if horizon is None:  # new, or from before history was kept: exact from now on
            has_docs = self._db.execute("SELECT 1 FROM docs LIMIT 1").fetchone() is not None
            horizon = self._clock if has_docs else 0
            self._db.execute("INSERT INTO meta (key, value) VALUES ('horizon', ?)", (horizon,))
        self._horizon = horizon
        self._pruned_us = 0
        self._cache: dict[str, tuple[int, Any]] = {}
        self._exempt = frozenset(exempt)
        self._index_numbers()

    def _meta(self, key: str) -> int | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else None

    def _index_numbers(self) -> None:
        """Build the numeric index for documents stored before it existed or under other
        exemptions."""
        wanted = digest(self._exempt)
        if self._meta("numbers") == wanted:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM numbers")
            rows = db.execute("SELECT name, parent, collection, fields FROM docs")
            for name, parent, collection, blob in rows:  # streamed: any size of database
                data = MapValue.FromString(blob)
                db.executemany(_NUMBER, self._number_rows(name, parent, collection, data))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('numbers', ?)", (wanted,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _number_rows(
        self, name: str, parent: str, collection: str, data: Any
    ) -> list[tuple[str, str, str, float | int, str]]:
        return [
            (parent, collection, field, value, name)
            for field, value in numbers(data)
            if (collection, field) not in self._exempt
        ]

    def indexed(self, collection: str, field: str) -> bool:
        """Whether a top-level field of the collection's documents is in the numeric index."""
        return (collection, field) not in self._exempt

    def close(self) -> None:
        self._db.close()

    # -- time -----------------------------------------------------------------------------------

    def next_commit_time(self) -> int:
        """A commit time in microseconds, later than every earlier one (also across restarts)."""
        self._clock = max(self._now_ns() // 1000, self._clock + 1)
        return self._clock

    def now(self) -> int:
        """A read time: now, but never before the latest commit."""
        return max(self._now_ns() // 1000, self._clock)

    @property
    def last_commit(self) -> int:
        """The latest commit time (0 before the first): reads at or after it see today's state."""
        return self._clock

    @property
    def horizon(self) -> int:
        """The oldest read time answered exactly: versions replaced before it are pruned."""
        return self._horizon

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

    def _rows(self, sql: str, args: Any) -> Iterator[Stored]:
        for name, create_us, update_us, blob in self._db.execute(sql, args):
            yield Stored(name, self._parse(name, update_us, blob), create_us, update_us)

    def _past(self, sql: str, args: dict[str, Any]) -> Iterator[Stored]:
        for name, create_us, update_us, blob in self._db.execute(sql, args):
            cached = self._cache.get(name)
            if cached is not None and cached[0] == update_us:
                data = cached[1]
            else:
                data = MapValue.FromString(blob)  # an old version: kept out of the cache
            yield Stored(name, data, create_us, update_us)

    def _current(self, at: int | None) -> bool:
        return at is None or at >= self._clock

    def get(self, name: str, at: int | None = None) -> Stored | None:
        """The document, as it is or as it was at `at` (microseconds), or None."""
        if self._current(at):
            return next(self._rows(f"SELECT {_COLUMNS} FROM docs WHERE name = ?", (name,)), None)
        sql = _as_of("name = :name", "name = :name")
        return next(self._past(sql, {"name": name, "at": at}), None)

    def collection(self, parent: str, collection: str, at: int | None = None) -> Iterator[Stored]:
        """The documents directly in `parent/collection` (as they were at `at`)."""
        if self._current(at):
            return self._rows(
                f"SELECT {_COLUMNS} FROM docs WHERE parent = ? AND collection = ?",
                (parent, collection),
            )
        low = f"{parent}/{collection}/"
        sql = _as_of(
            "parent = :parent AND collection = :collection",
            "name >= :low AND name < :high AND parent = :parent AND collection = :collection",
        )
        args = {"parent": parent, "collection": collection, "at": at}
        return self._past(sql, {**args, "low": low, "high": prefix_upper_bound(low)})

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
            tuple(args),
        )

    def descendants(
        self, parent: str, collection: str | None, at: int | None = None
    ) -> Iterator[Stored]:
        """Documents anywhere below `parent` (a collection group), optionally of one collection,
        as they were at `at`."""
        low = parent + "/"
        args: dict[str, Any] = {"low": low, "high": prefix_upper_bound(low), "at": at}
        where = "name >= :low AND name < :high"
        if collection:
            where += " AND collection = :collection"
            args["collection"] = collection
        if self._current(at):
            return self._rows(f"SELECT {_COLUMNS} FROM docs WHERE {where}", args)
        return self._past(_as_of(where, where), args)

    def names_below(self, prefix: str, at: int | None = None) -> Iterator[str]:
        """Names of every document whose name starts with `prefix` (that existed at `at`)."""
        args = {"low": prefix, "high": prefix_upper_bound(prefix), "at": at}
        where = "name >= :low AND name < :high"
        if self._current(at):
            sql = f"SELECT name FROM docs WHERE {where}"
        else:
            sql = (
                f"SELECT name FROM docs WHERE {where} AND update_us <= :at UNION ALL"
                f" SELECT name FROM history WHERE {where} AND update_us <= :at AND end_us > :at"
            )
        for (name,) in self._db.execute(sql, args):
            yield name

    # -- writes ---------------------------------------------------------------------------------

    def apply(self, puts: dict[str, Stored | None], commit_us: int | None = None) -> None:
        """Store every document of `puts` (None deletes it), and the clock, atomically; the
        versions they replace (at `commit_us`, default the latest commit time) go to history."""
        end_us = self._clock if commit_us is None else commit_us
        archived = [(end_us, n, -1 if d is None else d.update_us) for n, d in puts.items()]
        names = [(name,) for name in puts]
        rows = []
        numbered: list[tuple[str, str, str, float | int, str]] = []
        for name, doc in puts.items():
            self._cache.pop(name, None)
            if doc is not None:
                parsed = parse_doc_name(name)
                blob = doc.data.SerializeToString()
                rows.append(
                    (name, parsed.parent, parsed.collection, doc.create_us, doc.update_us, blob)
                )
                numbered.extend(self._number_rows(name, parsed.parent, parsed.collection, doc.data))
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(_ARCHIVE, archived)
            db.executemany("DELETE FROM numbers WHERE name = ?", names)
            if len(rows) < len(names):
                gone = [(n,) for n, d in puts.items() if d is None]
                db.executemany("DELETE FROM docs WHERE name = ?", gone)
            db.executemany(
                "INSERT OR REPLACE INTO docs (name, parent, collection, create_us, update_us,"
                " fields) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.executemany(_NUMBER, numbered)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('clock', ?)", (self._clock,)
            )
            if end_us - self._pruned_us >= _PRUNE_EVERY_US:
                self._prune(end_us)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _prune(self, now_us: int) -> None:
        """Drop versions replaced more than the retention before `now_us` (in the caller's
        SQLite transaction) and move the horizon up to match. Versions are archived in commit
        order, so their rowids grow with `end_us`: the last one to drop is found by bisection,
        without an index on `end_us` for every commit to keep up."""
        cutoff = now_us - self._retention_us
        self._pruned_us = now_us
        if cutoff <= self._horizon:
            return
        db = self._db
        low, high = db.execute("SELECT MIN(rowid), MAX(rowid) FROM history").fetchone()
        if low is None or self._ended_at(low) > cutoff:
            return
        while low < high:  # the largest rowid whose version ended by the cutoff
            middle = (low + high + 1) // 2
            if self._ended_at(middle) <= cutoff:
                low = middle
            else:
                high = middle - 1
        db.execute("DELETE FROM history WHERE rowid <= ?", (low,))
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('horizon', ?)", (cutoff,))
        self._horizon = cutoff  # a rollback of this commit would only make it stricter

    def _ended_at(self, rowid: int) -> int:
        """When the first kept version at or after `rowid` ended."""
        row = self._db.execute(
            "SELECT end_us FROM history WHERE rowid >= ? ORDER BY rowid LIMIT 1", (rowid,)
        ).fetchone()
        return int(row[0])
