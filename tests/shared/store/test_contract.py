"""The store port's contract: the same cases against every implementation of `Store`.

`memory` is the in-memory fake of the unit tests (tests/support/memory_store.py); `ours` is the
Firestore adapter on our emulator (`python -m emulator.firestore`); `google` is the same adapter on
Google's Firestore emulator (skipped, saying why, where gcloud or Java is missing). What the fake
answers, the adapter answers on both emulators.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import BadRequest, Conflict, NotFound, PreconditionFailed, Unavailable
from shared.store import (
    DELETE_FIELD,
    SERVER_TIMESTAMP,
    ArrayRemove,
    ArrayUnion,
    Filter,
    Increment,
    Query,
    Store,
)
from shared.store.firestore import FirestoreStore
from tests.support.memory_store import MemoryStore

BACKENDS = [
    pytest.param("memory"),
    pytest.param("ours", marks=pytest.mark.process),
    pytest.param("google", marks=pytest.mark.process),
]
_EMULATORS = {"ours": "firestore", "google": "google_firestore"}  # their session fixtures


@pytest.fixture(scope="module")
def adapters() -> dict[str, FirestoreStore]:
    """One adapter per emulator for the module, each on a project of its own."""
    return {}


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, adapters: dict[str, FirestoreStore]) -> Store:
    backend: str = request.param
    if backend == "memory":
        return MemoryStore()
    if backend not in adapters:
        service = request.getfixturevalue(_EMULATORS[backend])
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
            adapter = FirestoreStore(project=f"contract-{uuid.uuid4().hex[:8]}")
            assert adapter.client is not None  # bound to this emulator now
        adapters[backend] = adapter
    return adapters[backend]


@pytest.fixture
def col() -> str:
    """A collection path no other test uses."""
    return f"c{uuid.uuid4().hex[:10]}"


def backend(request: pytest.FixtureRequest) -> str:
    """Which implementation this test runs on (memory, ours, google)."""
    return str(request.node.callspec.params["store"])


def data(store: Store, path: str) -> dict[str, Any] | None:
    doc = store.get(path)
    return None if doc is None else doc.data


# -- single documents ----------------------------------------------------------------------


def test_create_get_and_conflict(store: Store, col: str) -> None:
    created = store.create(f"{col}/a", {"n": 1, "tags": ["x"], "nested": {"k": "v"}})
    doc = store.get(f"{col}/a")
    assert doc is not None
    assert (doc.id, doc.path) == ("a", f"{col}/a")
    assert doc.data == {"n": 1, "tags": ["x"], "nested": {"k": "v"}}
    assert doc.update_time == created == doc.create_time
    assert created.tzinfo is not None
    with pytest.raises(Conflict, match="already exists"):
        store.create(f"{col}/a", {"n": 2})
    assert data(store, f"{col}/a") == {"n": 1, "tags": ["x"], "nested": {"k": "v"}}
    assert store.get(f"{col}/missing") is None


def test_values_round_trip(store: Store, col: str) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    values = {
        "null": None,
        "yes": True,
        "int": 2**62,
        "negative": -7,
        "float": 2.5,
        "text": "grüße, 温度 🌡",
        "bytes": b"\x00\xff",
        "time": when,
        "array": [1, "two", {"three": 3.0}],
        "map": {"inner": {"deep": [True]}},
        "empty": {},
    }
    store.set(f"{col}/v", values)
    assert data(store, f"{col}/v") == values
    stored = data(store, f"{col}/v")
    assert stored is not None
    assert stored["time"] == when and stored["time"].tzinfo is not None


def test_get_many_keeps_order_and_reports_missing(store: Store, col: str) -> None:
    store.create(f"{col}/a", {"v": "a"})
    store.create(f"{col}/c", {"v": "c"})
    docs = store.get_many([f"{col}/c", f"{col}/b", f"{col}/a"])
    assert [d.data["v"] if d else None for d in docs] == ["c", None, "a"]
    assert store.get_many([]) == []


@pytest.mark.parametrize("path", ["things", "a/b/c", ""])
def test_a_document_path_has_an_even_number_of_parts(store: Store, path: str) -> None:
    with pytest.raises(ValueError):
        store.get(path)


def test_set_replaces_or_merges_nested_maps(store: Store, col: str) -> None:
    store.set(f"{col}/a", {"a": 1, "b": 2, "m": {"x": 1, "y": 2}})
    store.set(f"{col}/a", {"b": 3, "m": {"x": 5}})
    assert data(store, f"{col}/a") == {"b": 3, "m": {"x": 5}}
    store.set(f"{col}/a", {"c": 4, "m": {"z": 6}}, merge=True)
    assert data(store, f"{col}/a") == {"b": 3, "c": 4, "m": {"x": 5, "z": 6}}
    store.set(f"{col}/a", {"b": DELETE_FIELD, "m": {"x": DELETE_FIELD}}, merge=True)
    assert data(store, f"{col}/a") == {"c": 4, "m": {"z": 6}}
    store.set(f"{col}/new", {"n": 1}, merge=True)  # merge creates a missing document
    assert data(store, f"{col}/new") == {"n": 1}


def test_delete_field_needs_merge_or_update(store: Store, col: str) -> None:
    with pytest.raises(ValueError):
        store.set(f"{col}/a", {"gone": DELETE_FIELD})
    with pytest.raises(ValueError):
        store.create(f"{col}/a", {"gone": DELETE_FIELD})
    assert store.get(f"{col}/a") is None


def test_update_needs_the_document_and_honours_versions(store: Store, col: str) -> None:
    with pytest.raises(NotFound):
        store.update(f"{col}/none", {"a": 1})
    assert store.get(f"{col}/none") is None
    first = store.create(f"{col}/a", {"a": 1, "m": {"x": 1, "y": 2}})
    second = store.update(f"{col}/a", {"m.x": 10, "a": DELETE_FIELD, "n.deep": 1}, if_version=first)
    assert second > first
    assert data(store, f"{col}/a") == {"m": {"x": 10, "y": 2}, "n": {"deep": 1}}
    with pytest.raises(PreconditionFailed):
        store.update(f"{col}/a", {"m.x": 11}, if_version=first)  # stale version
    with pytest.raises(PreconditionFailed):
        store.delete(f"{col}/a", if_version=first)
    assert data(store, f"{col}/a") == {"m": {"x": 10, "y": 2}, "n": {"deep": 1}}
    store.delete(f"{col}/a", if_version=second)
    assert store.get(f"{col}/a") is None


def test_a_version_precondition_on_a_missing_document_fails(store: Store, col: str) -> None:
    version = store.create(f"{col}/a", {"v": 1})
    store.delete(f"{col}/a")
    with pytest.raises(PreconditionFailed):
        store.update(f"{col}/a", {"v": 2}, if_version=version)
    with pytest.raises(PreconditionFailed):
        store.delete(f"{col}/a", if_version=version)
    assert store.get(f"{col}/a") is None


def test_update_replaces_a_map_given_whole(store: Store, col: str) -> None:
    store.create(f"{col}/a", {"m": {"x": 1, "y": 2}})
    store.update(f"{col}/a", {"m": {"z": 3}})
    assert data(store, f"{col}/a") == {"m": {"z": 3}}


def test_deleting_a_missing_document_is_fine(store: Store, col: str) -> None:
    store.delete(f"{col}/never")
    assert store.get(f"{col}/never") is None


def test_versions_increase_and_a_write_that_changes_nothing_keeps_its_version(
    store: Store, col: str
) -> None:
    first = store.set(f"{col}/a", {"v": 1})
    second = store.set(f"{col}/a", {"v": 2})
    assert second > first
    same = store.set(f"{col}/a", {"v": 2})
    assert same == second
    doc = store.get(f"{col}/a")
    assert doc is not None and doc.update_time == second and doc.create_time == first


def test_transforms(store: Store, col: str) -> None:
    store.create(f"{col}/a", {"n": 1, "tags": ["a", "b"], "text": "x"})
    version = store.update(
        f"{col}/a",
        {
            "n": Increment(2),
            "new": Increment(5),
            "text": Increment(1),
            "tags": ArrayUnion(("b", "c", "c")),
            "fresh": ArrayUnion((1, 2)),
            "at": SERVER_TIMESTAMP,
        },
    )
    doc = store.get(f"{col}/a")
    assert doc is not None
    assert doc.data["n"] == 3 and doc.data["new"] == 5 and doc.data["text"] == 1
    assert doc.data["tags"] == ["a", "b", "c"] and doc.data["fresh"] == [1, 2]
    assert doc.update_time == version
    assert timedelta(0) <= version - doc.data["at"] < timedelta(seconds=5)  # about the commit
    store.update(f"{col}/a", {"tags": ArrayRemove(("a", "zz")), "n": Increment(1.5)})
    store.update(f"{col}/a", {"none": ArrayRemove(("a",))})
    assert data(store, f"{col}/a") == {
        "n": 4.5, "new": 5, "text": 1, "tags": ["b", "c"], "fresh": [1, 2], "at": doc.data["at"],
        "none": [],
    }  # fmt: skip


def test_transforms_in_create_and_set(store: Store, col: str) -> None:
    created = store.create(
        f"{col}/a", {"n": Increment(3), "at": SERVER_TIMESTAMP, "m": {"t": SERVER_TIMESTAMP}}
    )
    stored = data(store, f"{col}/a")
    assert stored is not None
    at = stored["at"]
    assert stored == {"n": 3, "at": at, "m": {"t": at}}
    assert timedelta(0) <= created - at < timedelta(seconds=5)
    store.set(f"{col}/a", {"n": Increment(2)}, merge=True)
    assert data(store, f"{col}/a") == {"n": 5, "at": at, "m": {"t": at}}


def test_a_document_is_at_most_one_mebibyte(store: Store, col: str) -> None:
    store.set(f"{col}/fits", {"blob": b"x" * 1_000_000})
    with pytest.raises(BadRequest):
        store.set(f"{col}/big", {"blob": b"x" * 1_050_000})
    assert store.get(f"{col}/big") is None


# -- queries -------------------------------------------------------------------------------


def seed(store: Store, col: str, n: int) -> None:
    batch = store.batch()
    for i in range(n):
        batch.set(f"{col}/d{i:03d}", {"i": i, "even": i % 2 == 0, "group": i % 3})
    batch.commit()


def ids(store: Store, query: Query) -> list[str]:
    return [doc.id for doc in store.query(query).documents]


def test_filters_and_order(store: Store, col: str) -> None:
    seed(store, col, 12)
    evens = (Filter("even", "==", True), Filter("i", ">=", 4))
    page = store.query(Query(col, where=evens, order_by=(("i", "desc"),)))
    assert [d.data["i"] for d in page.documents] == [10, 8, 6, 4]
    assert page.next is None
    grouped = store.query(
        Query(col, where=(Filter("group", "in", [0, 2]),), order_by=(("i", "asc"),))
    )
    assert [d.data["i"] for d in grouped.documents] == [0, 2, 3, 5, 6, 8, 9, 11]
    assert store.count(Query(col, where=(Filter("group", "==", 1),))) == 4
    assert store.count(Query(col)) == 12


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("==", 1, ["float-one", "int-one"]),
        ("!=", 1, ["int-two", "text"]),
        ("<", 2, ["float-one", "int-one"]),
        ("<=", 2, ["float-one", "int-one", "int-two"]),
        (">", 1, ["int-two"]),
        (">=", "a", ["text"]),
        ("in", [2, "b"], ["int-two", "text"]),
        ("not-in", [1, "b"], ["int-two"]),
    ],
)
def test_filters_match_their_type_and_skip_missing_and_null(
    store: Store, col: str, op: str, value: Any, expected: list[str]
) -> None:
    for name, v in {
        "int-one": 1,
        "float-one": 1.0,
        "int-two": 2,
        "text": "b",
        "null": None,
    }.items():
        store.set(f"{col}/{name}", {"v": v})
    store.set(f"{col}/missing", {"other": 1})
    order = (("v", "asc"),) if op not in ("==", "in") else ()
    query = Query(col, where=(Filter("v", op, value),), order_by=order)
    assert sorted(ids(store, query)) == expected


@pytest.mark.parametrize("op", ["<", ">=", "!=", "not-in"])
def test_an_inequality_filter_needs_its_field_in_order_by(store: Store, col: str, op: str) -> None:
    """Firestore would order by the field implicitly, after the explicit orders; the adapter
    always asks for the document path last, and nothing may follow the path."""
    store.set(f"{col}/a", {"v": 1, "w": 1})
    value = {"<": 5, ">=": 0, "!=": 5, "not-in": [5]}[op]
    with pytest.raises(BadRequest):
        store.query(Query(col, where=(Filter("v", op, value),)))
    with pytest.raises(BadRequest):
        store.query(Query(col, where=(Filter("v", op, value),), order_by=(("w", "asc"),)))
    ordered = Query(col, where=(Filter("v", op, value),), order_by=(("v", "asc"),))
    assert ids(store, ordered) == ["a"]


def test_an_inequality_orders_by_its_field_then_path(store: Store, col: str) -> None:
    for name, v in {"a": 3, "b": 1, "c": 2, "d": 1}.items():
        store.set(f"{col}/{name}", {"v": v})
    up = Query(col, where=(Filter("v", ">", 0),), order_by=(("v", "asc"),))
    assert ids(store, up) == ["b", "d", "c", "a"]
    down = Query(col, where=(Filter("v", "!=", 2),), order_by=(("v", "desc"),))
    assert ids(store, down) == ["a", "d", "b"]


def test_ordering_leaves_out_documents_without_the_field(store: Store, col: str) -> None:
    store.set(f"{col}/a", {"v": 2})
    store.set(f"{col}/b", {"w": 1})
    store.set(f"{col}/c", {"v": 1})
    assert ids(store, Query(col, order_by=(("v", "asc"),))) == ["c", "a"]
    assert ids(store, Query(col, order_by=(("v", "desc"),))) == ["a", "c"]


def test_array_filters(store: Store, col: str) -> None:
    store.set(f"{col}/a", {"tags": ["x", "y"]})
    store.set(f"{col}/b", {"tags": ["z"]})
    store.set(f"{col}/c", {"tags": "y"})
    assert ids(store, Query(col, where=(Filter("tags", "array-contains", "y"),))) == ["a"]
    any_of = Query(col, where=(Filter("tags", "array-contains-any", ["y", "z"]),))
    assert ids(store, any_of) == ["a", "b"]


def test_filters_on_nested_fields(store: Store, col: str) -> None:
    store.set(f"{col}/a", {"m": {"n": 1}})
    store.set(f"{col}/b", {"m": {"n": 2}})
    assert ids(store, Query(col, where=(Filter("m.n", "==", 2),))) == ["b"]
    assert ids(store, Query(col, order_by=(("m.n", "desc"),))) == ["b", "a"]


def test_a_query_reads_only_its_own_collection(store: Store, col: str) -> None:
    store.set(f"{col}/a", {"v": 1})
    store.set(f"{col}/a/sub/x", {"v": 1})
    store.set(f"{col}x/b", {"v": 1})
    assert ids(store, Query(col)) == ["a"]
    assert ids(store, Query(f"{col}/a/sub")) == ["x"]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_cursor_paging_sees_every_document_once_in_order(
    store: Store, col: str, direction: str
) -> None:
    seed(store, col, 25)
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        page = store.query(Query(col, order_by=(("group", direction),), limit=7, after=after))
        seen.extend(d.data["i"] for d in page.documents)
        pages += 1
        if page.next is None:
            break
        after = page.next
    assert pages == 4
    assert sorted(seen) == list(range(25)) and len(seen) == 25
    keys = [(i % 3, f"d{i:03d}") for i in seen]
    assert keys == sorted(keys, reverse=direction == "desc")


def test_a_full_last_page_has_no_next(store: Store, col: str) -> None:
    seed(store, col, 4)
    first = store.query(Query(col, limit=2))
    second = store.query(Query(col, limit=2, after=first.next))
    assert [d.id for d in first.documents + second.documents] == ["d000", "d001", "d002", "d003"]
    assert first.next is not None and second.next is None


def test_a_cursor_outlives_its_document(store: Store, col: str) -> None:
    seed(store, col, 5)
    first = store.query(Query(col, order_by=(("i", "asc"),), limit=2))
    store.delete(f"{col}/d001")  # the cursor's own document
    rest = store.query(Query(col, order_by=(("i", "asc"),), after=first.next))
    assert [d.id for d in rest.documents] == ["d002", "d003", "d004"]


def test_cursor_over_timestamps(store: Store, col: str) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5):
        store.set(f"{col}/t{i}", {"at": base + timedelta(seconds=i)})
    first = store.query(Query(col, order_by=(("at", "asc"),), limit=2))
    rest = store.query(Query(col, order_by=(("at", "asc"),), limit=10, after=first.next))
    assert [d.id for d in first.documents + rest.documents] == [f"t{i}" for i in range(5)]


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "WzEsMiwzXQ"])
def test_foreign_or_broken_cursor_is_bad_request(store: Store, col: str, cursor: str) -> None:
    with pytest.raises(BadRequest, match="cursor"):
        store.query(Query(col, order_by=(("i", "asc"),), limit=2, after=cursor))


def test_value_type_ordering(store: Store, col: str) -> None:
    values = {
        "a-null": None,
        "b-bool": True,
        "c-int": 1,
        "d-float": 2.5,
        "e-time": datetime(2026, 1, 1, tzinfo=UTC),
        "f-str": "text",
        "g-bytes": b"\x00",
        "h-array": [1],
        "i-map": {"k": 1},
    }
    for name, value in reversed(values.items()):
        store.set(f"{col}/{name}", {"v": value})
    assert ids(store, Query(col, order_by=(("v", "asc"),))) == list(values)


def test_collection_group_and_select(store: Store, col: str) -> None:
    group = f"g{uuid.uuid4().hex[:8]}"
    store.set(f"{col}/p1/{group}/x", {"n": 1, "secret": "s", "m": {"a": 1, "b": 2}})
    store.set(f"{col}/p2/{group}/y", {"n": 2, "secret": "s"})
    store.set(f"{col}/p3/other/z", {"n": 3})
    page = store.query(Query(group, group=True, order_by=(("n", "asc"),), select=("n", "m.a")))
    assert [(d.path, d.data) for d in page.documents] == [
        (f"{col}/p1/{group}/x", {"n": 1, "m": {"a": 1}}),
        (f"{col}/p2/{group}/y", {"n": 2}),
    ]
    assert store.count(Query(group, group=True)) == 2
    names = store.query(Query(group, group=True, select=()))
    assert [(d.id, d.data) for d in names.documents] == [("x", {}), ("y", {})]


# -- batches and transactions --------------------------------------------------------------


def test_batch_is_atomic(store: Store, col: str) -> None:
    store.create(f"{col}/taken", {"v": 1})
    batch = store.batch()
    batch.set(f"{col}/new", {"v": 2})
    batch.create(f"{col}/taken", {"v": 3})
    with pytest.raises(Conflict):
        batch.commit()
    assert store.get(f"{col}/new") is None
    assert data(store, f"{col}/taken") == {"v": 1}
    batch = store.batch()
    batch.set(f"{col}/new", {"v": 2})
    batch.update(f"{col}/absent", {"v": 3})
    with pytest.raises(NotFound):
        batch.commit()
    assert store.get(f"{col}/new") is None


def test_a_batch_commits_every_write_at_one_time(store: Store, col: str) -> None:
    store.create(f"{col}/old", {"v": 0})
    batch = store.batch()
    batch.create(f"{col}/a", {"v": 1})
    batch.set(f"{col}/b", {"v": 2}, merge=True)
    batch.update(f"{col}/old", {"v": Increment(1)})
    batch.delete(f"{col}/gone")
    batch.commit()
    docs = store.get_many([f"{col}/a", f"{col}/b", f"{col}/old"])
    assert [d.data["v"] if d else None for d in docs] == [1, 2, 1]
    assert len({d.update_time for d in docs if d}) == 1
    store.batch().commit()  # an empty batch is nothing


def test_transaction_race_loses_no_increment(
    store: Store, col: str, request: pytest.FixtureRequest
) -> None:
    # Google's emulator settles each conflict with a lock timeout (about a second): a small race
    threads, rounds = (2, 2) if backend(request) == "google" else (8, 20)
    store.create(f"{col}/counter", {"n": 0})

    def bump(txn: Any) -> None:
        current = txn.get(f"{col}/counter")
        txn.update(f"{col}/counter", {"n": current.data["n"] + 1})

    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(rounds):
                store.run_transaction(bump, max_attempts=50)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    assert data(store, f"{col}/counter") == {"n": threads * rounds}


def test_a_transaction_that_keeps_conflicting_is_unavailable(
    store: Store, col: str, request: pytest.FixtureRequest
) -> None:
    if backend(request) == "google":
        pytest.skip(
            "Google's emulator locks what a transaction read: a write between the read and the "
            "commit waits for the lock (and times out) instead of making the commit conflict"
        )
    store.create(f"{col}/counter", {"n": 0})
    attempts: list[int] = []

    def body(txn: Any) -> None:
        attempts.append(1)
        current = txn.get(f"{col}/counter")
        store.update(f"{col}/counter", {"n": Increment(1)})  # another writer, before the commit
        txn.update(f"{col}/counter", {"n": current.data["n"] + 100})

    with pytest.raises(Unavailable):
        store.run_transaction(body, max_attempts=3)
    assert len(attempts) == 3
    assert data(store, f"{col}/counter") == {"n": 3}


def test_transaction_enforces_uniqueness_through_an_index_document(store: Store, col: str) -> None:
    def claim(name: str, owner: str) -> Any:
        def body(txn: Any) -> str:
            if txn.get(f"{col}-names/{name}") is not None:
                raise Conflict(f"name {name!r} is taken", field="name")
            txn.create(f"{col}-names/{name}", {"owner": owner})
            txn.create(f"{col}-owners/{owner}", {"name": name})
            return owner

        return body

    assert store.run_transaction(claim("alice", "u1")) == "u1"
    with pytest.raises(Conflict, match="taken"):
        store.run_transaction(claim("alice", "u2"))
    assert store.get(f"{col}-owners/u2") is None
    assert ids(store, Query(f"{col}-names")) == ["alice"]


def test_a_failed_transaction_writes_nothing(store: Store, col: str) -> None:
    store.create(f"{col}/taken", {"v": 1})

    def body(txn: Any) -> None:
        txn.get(f"{col}/taken")
        txn.set(f"{col}/new", {"v": 2})
        txn.create(f"{col}/taken", {"v": 3})

    with pytest.raises(Conflict):
        store.run_transaction(body)
    assert store.get(f"{col}/new") is None
    assert data(store, f"{col}/taken") == {"v": 1}


def test_a_transaction_reads_queries_then_writes(store: Store, col: str) -> None:
    seed(store, col, 6)

    def body(txn: Any) -> list[int]:
        evens = Query(col, where=(Filter("even", "==", True),), order_by=(("i", "desc"),), limit=2)
        docs = txn.query(evens)
        many = txn.get_many([f"{col}/d001", f"{col}/none"])
        for doc in docs:
            txn.update(doc.path, {"seen": True})
        txn.delete(f"{col}/d001")
        assert many[1] is None
        return [doc.data["i"] for doc in docs]

    assert store.run_transaction(body) == [4, 2]
    assert ids(store, Query(col, where=(Filter("seen", "==", True),))) == ["d002", "d004"]
    assert store.get(f"{col}/d001") is None


def test_a_transaction_cannot_read_after_it_wrote(store: Store, col: str) -> None:
    def body(txn: Any) -> None:
        txn.set(f"{col}/a", {"v": 1})
        txn.get(f"{col}/a")

    with pytest.raises(Exception, match="read after write"):
        store.run_transaction(body)
    assert store.get(f"{col}/a") is None
