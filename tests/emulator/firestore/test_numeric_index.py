"""The emulator's numeric single-field index: a query read through it returns exactly what a scan
of the whole collection returns, in the same order, and the index follows every write."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.cloud.firestore_v1.types import query as query_types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.firestore import query as q
from emulator.firestore.storage import Database, Stored, load_exemptions
from emulator.firestore.values import MapValue

ROOT = "projects/p/databases/(default)/documents"
PARENT = f"{ROOT}/orgs/o"
StructuredQuery: Any = query_types.StructuredQuery.pb()
_OPS = {"<": 1, "<=": 2, ">": 3, ">=": 4, "==": 5}

numbers = st.integers(-5, 5) | st.sampled_from([2.5, -0.0, 3.0, math.inf, -math.inf, math.nan])
field_values = numbers | st.sampled_from(["3", None]) | st.booleans()


def _doc(name: str, fields: dict[str, Any]) -> Stored:
    data = MapValue()
    for key, value in fields.items():
        if value is None:
            data.fields[key].null_value = 0
        elif isinstance(value, bool):
            data.fields[key].boolean_value = value
        elif isinstance(value, int):
            data.fields[key].integer_value = value
        elif isinstance(value, float):
            data.fields[key].double_value = value
        else:
            data.fields[key].string_value = value
    return Stored(f"{PARENT}/c/{name}", data, 1, 1)


def _query(filters: list[tuple[str, str, Any]], order: str | None, desc: bool,
           limit: int | None, offset: int) -> Any:  # fmt: skip
    query = StructuredQuery()
    query.from_.add().collection_id = "c"
    composite = query.where.composite_filter
    composite.op = 1  # AND
    for field, op, value in filters:
        f = composite.filters.add().field_filter
        f.field.field_path = field
        f.op = _OPS[op]
        if isinstance(value, int):
            f.value.integer_value = value
        else:
            f.value.double_value = value
    if order:
        o = query.order_by.add()
        o.field.field_path = order
        o.direction = 2 if desc else 1
    if limit is not None:
        query.limit.value = limit
    query.offset = offset
    return query


def _names(docs: list[Stored]) -> list[str]:
    return [doc.name.rsplit("/", 1)[1] for doc in docs]


def _scan(db: Database, plan: q.Plan) -> list[str]:
    return _names(q.run(db, dataclasses.replace(plan, bounds=None, ordered=False)))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    docs=st.lists(
        st.dictionaries(st.sampled_from(["a", "b"]), field_values, max_size=2), max_size=12
    ),
    filters=st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(list(_OPS)), numbers),
        min_size=1,
        max_size=3,
    ),
    order=st.sampled_from([None, "a", "b"]),
    desc=st.booleans(),
    limit=st.none() | st.integers(0, 5),
    offset=st.integers(0, 2),
)
def test_index_reads_what_a_scan_reads(
    tmp_path: Path, docs, filters, order, desc, limit, offset
) -> None:
    db = Database(tmp_path / f"{len(list(tmp_path.iterdir()))}.sqlite3")
    db.apply({f"{PARENT}/c/d{i:02d}": _doc(f"d{i:02d}", fields) for i, fields in enumerate(docs)})
    db.apply({f"{PARENT}/other/x": _doc("x", {"a": 1, "b": 1})})  # another collection
    plan = q.plan(ROOT + "/orgs/o", _query(filters, order, desc, limit, offset))
    assert _names(q.run(db, plan)) == _scan(db, plan)
    db.close()


def test_the_index_follows_updates_and_deletes(tmp_path: Path) -> None:
    db = Database(tmp_path / "f.sqlite3")
    db.apply({f"{PARENT}/c/{n}": _doc(n, {"a": v}) for n, v in (("x", 1), ("y", 2), ("z", 3))})
    db.apply({f"{PARENT}/c/y": _doc("y", {"a": "now text"}), f"{PARENT}/c/z": None})
    db.apply({f"{PARENT}/c/w": _doc("w", {"a": 2.0})})
    plan = q.plan(ROOT + "/orgs/o", _query([("a", ">=", 1)], "a", False, None, 0))
    assert plan.bounds is not None and plan.ordered
    assert _names(q.run(db, plan)) == ["x", "w"]


def test_an_older_database_is_indexed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    db = Database(path)
    db.apply({f"{PARENT}/c/{n}": _doc(n, {"a": v}) for n, v in (("x", 3), ("y", 1))})
    db._db.execute("DELETE FROM numbers")  # as a database written before the index existed
    db._db.execute("DELETE FROM meta WHERE key = 'numbers'")
    db.close()
    reopened = Database(path)
    plan = q.plan(ROOT + "/orgs/o", _query([("a", ">", 0)], "a", True, None, 0))
    assert _names(q.run(reopened, plan)) == ["x", "y"]


def test_ordered_reads_stop_at_the_limit(tmp_path: Path) -> None:
    db = Database(tmp_path / "f.sqlite3")
    db.apply({f"{PARENT}/c/d{i:03d}": _doc(f"d{i:03d}", {"a": i}) for i in range(300)})
    read: list[str] = []
    in_range = db.in_range

    def counted(*args: Any, **kwargs: Any) -> Any:
        for doc in in_range(*args, **kwargs):
            read.append(doc.name)
            yield doc

    db.in_range = counted  # type: ignore[method-assign]
    plan = q.plan(ROOT + "/orgs/o", _query([("a", ">=", 100)], "a", True, 3, 1))
    assert _names(q.run(db, plan)) == ["d298", "d297", "d296"]
    assert len(read) <= 5  # offset + limit, and at most one more read before stopping


def test_exempt_fields_are_not_indexed_and_their_queries_scan(tmp_path: Path) -> None:
    config = tmp_path / "firestore.indexes.json"
    config.write_text(
        '{"indexes": [], "fieldOverrides": ['
        '{"collectionGroup": "c", "fieldPath": "b", "indexes": []},'
        '{"collectionGroup": "c", "fieldPath": "a", "indexes": [{"order": "ASCENDING"}]}]}'
    )
    exempt = load_exemptions(config)
    assert exempt == {("c", "b")}
    db = Database(tmp_path / "f.sqlite3", exempt=exempt)
    db.apply({f"{PARENT}/c/{n}": _doc(n, {"a": v, "b": v}) for n, v in (("x", 2), ("y", 1))})
    rows = db._db.execute("SELECT DISTINCT field FROM numbers").fetchall()
    assert rows == [("a",)]
    assert not db.indexed("c", "b") and db.indexed("c", "a") and db.indexed("other", "b")
    plan = q.plan(ROOT + "/orgs/o", _query([("b", ">=", 1)], "b", True, 1, 0))
    assert _names(q.run(db, plan)) == ["x"]  # answered by a scan, still right
    db.close()
    # other exemptions: the index is rebuilt when the database is opened with them
    db = Database(tmp_path / "f.sqlite3")
    assert db._db.execute("SELECT COUNT(*) FROM numbers WHERE field = 'b'").fetchone() == (2,)


def test_a_broken_index_configuration_is_named(tmp_path: Path) -> None:
    config = tmp_path / "firestore.indexes.json"
    config.write_text("{not json")
    with pytest.raises(ValueError, match=r"firestore\.indexes\.json: not a Firestore index"):
        load_exemptions(config)


def test_the_emulator_refuses_a_broken_index_configuration_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "firestore.indexes.json"
    config.write_text("{not json")
    done = subprocess.run(
        [sys.executable, "-m", "emulator.firestore", "--port", "0", "--data-dir", str(tmp_path)],
        env={**os.environ, "FIRESTORE_INDEXES": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "FIRESTORE_INDEXES" in done.stderr and "not a Firestore index" in done.stderr
    assert "Traceback" not in done.stderr
