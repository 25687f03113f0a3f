"""Contract tests of the store port, run through its Firestore adapter against the emulator."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.errors import BadRequest, Conflict, NotFound, PreconditionFailed
from shared.store import (
    DELETE_FIELD,
    SERVER_TIMESTAMP,
    ArrayRemove,
    ArrayUnion,
    Filter,
    Increment,
    Query,
)
from shared.store.firestore import FirestoreStore
from tests.support.services import RunningService, running_service

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with running_service("firestore", tmp_path_factory.mktemp("store")) as running:
        yield running


@pytest.fixture(scope="module")
def store(service: RunningService) -> Iterator[FirestoreStore]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
        yield FirestoreStore(project=f"contract-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def col() -> str:
    """A collection path no other test uses."""
    return f"c{uuid.uuid4().hex[:10]}"


def test_create_get_and_conflict(store: FirestoreStore, col: str) -> None:
    created = store.create(f"{col}/a", {"n": 1, "tags": ["x"], "nested": {"k": "v"}})
    doc = store.get(f"{col}/a")
    assert doc is not None
    assert (doc.id, doc.path, doc.data) == (
        "a",
        f"{col}/a",
        {"n": 1, "tags": ["x"], "nested": {"k": "v"}},
    )
    assert doc.update_time == created == doc.create_time
    with pytest.raises(Conflict, match="already exists"):
        store.create(f"{col}/a", {"n": 2})
    assert store.get(f"{col}/missing") is None


def test_set_replaces_or_merges(store: FirestoreStore, col: str) -> None:
    store.set(f"{col}/a", {"a": 1, "b": 2})
    store.set(f"{col}/a", {"b": 3})
    assert store.get(f"{col}/a").data == {"b": 3}  # type: ignore[union-attr]
    store.set(f"{col}/a", {"c": 4}, merge=True)
    assert store.get(f"{col}/a").data == {"b": 3, "c": 4}  # type: ignore[union-attr]


def test_update_needs_the_document_and_honours_versions(store: FirestoreStore, col: str) -> None:
    with pytest.raises(NotFound):
        store.update(f"{col}/none", {"a": 1})
    first = store.create(f"{col}/a", {"a": 1, "m": {"x": 1, "y": 2}})
    second = store.update(f"{col}/a", {"m.x": 10, "a": DELETE_FIELD}, if_version=first)
    assert second > first
    assert store.get(f"{col}/a").data == {"m": {"x": 10, "y": 2}}  # type: ignore[union-attr]
    with pytest.raises(PreconditionFailed):
        store.update(f"{col}/a", {"m.x": 11}, if_version=first)  # stale version
    with pytest.raises(PreconditionFailed):
        store.delete(f"{col}/a", if_version=first)
    store.delete(f"{col}/a", if_version=second)
    assert store.get(f"{col}/a") is None


def test_transforms(store: FirestoreStore, col: str) -> None:
    store.create(f"{col}/a", {"n": 1, "tags": ["a", "b"]})
    store.update(
        f"{col}/a",
        {"n": Increment(2), "tags": ArrayUnion(("b", "c")), "at": SERVER_TIMESTAMP},
    )
    store.update(f"{col}/a", {"tags": ArrayRemove(("a",)), "m": Increment(1.5)})
    doc = store.get(f"{col}/a")
    assert doc is not None
    assert doc.data["n"] == 3 and doc.data["m"] == 1.5
    assert doc.data["tags"] == ["b", "c"]
    assert abs(doc.data["at"] - datetime.now(UTC)) < timedelta(minutes=1)


def test_get_many_keeps_order_and_reports_missing(store: FirestoreStore, col: str) -> None:
    store.create(f"{col}/a", {"v": "a"})
    store.create(f"{col}/c", {"v": "c"})
    docs = store.get_many([f"{col}/c", f"{col}/b", f"{col}/a"])
    assert [d.data["v"] if d else None for d in docs] == ["c", None, "a"]
    assert store.get_many([]) == []


def seed(store: FirestoreStore, col: str, n: int) -> None:
    batch = store.batch()
    for i in range(n):
        batch.set(f"{col}/d{i:03d}", {"i": i, "even": i % 2 == 0, "group": i % 3})
    batch.commit()


def test_filters_and_order(store: FirestoreStore, col: str) -> None:
    seed(store, col, 12)
    page = store.query(
        Query(
            col, where=(Filter("even", "==", True), Filter("i", ">=", 4)), order_by=(("i", "desc"),)
        )
    )
    assert [d.data["i"] for d in page.documents] == [10, 8, 6, 4]
    assert page.next is None
    grouped = store.query(
        Query(col, where=(Filter("group", "in", [0, 2]),), order_by=(("i", "asc"),))
    )
    assert [d.data["i"] for d in grouped.documents] == [0, 2, 3, 5, 6, 8, 9, 11]
    assert store.count(Query(col, where=(Filter("group", "==", 1),))) == 4


def test_array_filters(store: FirestoreStore, col: str) -> None:
    store.set(f"{col}/a", {"tags": ["x", "y"]})
    store.set(f"{col}/b", {"tags": ["z"]})
    contains = store.query(Query(col, where=(Filter("tags", "array-contains", "y"),)))
    assert [d.id for d in contains.documents] == ["a"]
    any_of = store.query(Query(col, where=(Filter("tags", "array-contains-any", ["y", "z"]),)))
    assert [d.id for d in any_of.documents] == ["a", "b"]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_cursor_paging_sees_every_document_once_in_order(
    store: FirestoreStore, col: str, direction: str
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


def test_cursor_over_timestamps(store: FirestoreStore, col: str) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5):
        store.set(f"{col}/t{i}", {"at": base + timedelta(seconds=i)})
    first = store.query(Query(col, order_by=(("at", "asc"),), limit=2))
    rest = store.query(Query(col, order_by=(("at", "asc"),), limit=10, after=first.next))
    assert [d.id for d in first.documents + rest.documents] == [f"t{i}" for i in range(5)]


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "WzEsMiwzXQ"])
def test_foreign_or_broken_cursor_is_bad_request(
    store: FirestoreStore, col: str, cursor: str
) -> None:
    with pytest.raises(BadRequest, match="cursor"):
        store.query(Query(col, order_by=(("i", "asc"),), limit=2, after=cursor))


def test_value_type_ordering(store: FirestoreStore, col: str) -> None:
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
    page = store.query(Query(col, order_by=(("v", "asc"),)))
    assert [d.id for d in page.documents] == list(values)


def test_collection_group_and_select(store: FirestoreStore, col: str) -> None:
    group = f"g{uuid.uuid4().hex[:8]}"
    store.set(f"{col}/p1/{group}/x", {"n": 1, "secret": "s"})
    store.set(f"{col}/p2/{group}/y", {"n": 2, "secret": "s"})
    page = store.query(Query(group, group=True, order_by=(("n", "asc"),), select=("n",)))
    assert [(d.path, d.data) for d in page.documents] == [
        (f"{col}/p1/{group}/x", {"n": 1}),
        (f"{col}/p2/{group}/y", {"n": 2}),
    ]


def test_batch_is_atomic(store: FirestoreStore, col: str) -> None:
    store.create(f"{col}/taken", {"v": 1})
    batch = store.batch()
    batch.set(f"{col}/new", {"v": 2})
    batch.create(f"{col}/taken", {"v": 3})
    with pytest.raises(Conflict):
        batch.commit()
    assert store.get(f"{col}/new") is None
    assert store.get(f"{col}/taken").data == {"v": 1}  # type: ignore[union-attr]


def test_transaction_race_loses_no_increment(store: FirestoreStore, col: str) -> None:
    threads, rounds = 8, 20
    store.create(f"{col}/counter", {"n": 0})

    def bump(txn) -> None:  # type: ignore[no-untyped-def]
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
    assert store.get(f"{col}/counter").data == {"n": threads * rounds}  # type: ignore[union-attr]


def test_transaction_enforces_uniqueness_through_an_index_document(
    store: FirestoreStore, col: str
) -> None:
    def claim(name: str, owner: str):  # type: ignore[no-untyped-def]
        def body(txn) -> None:  # type: ignore[no-untyped-def]
            if txn.get(f"{col}-names/{name}") is not None:
                raise Conflict(f"name {name!r} is taken", field="name")
            txn.create(f"{col}-names/{name}", {"owner": owner})
            txn.create(f"{col}-owners/{owner}", {"name": name})

        return body

    store.run_transaction(claim("alice", "u1"))
    with pytest.raises(Conflict, match="taken"):
        store.run_transaction(claim("alice", "u2"))
    assert store.get(f"{col}-owners/u2") is None
    assert [d.id for d in store.query(Query(f"{col}-names")).documents] == ["alice"]


def test_data_survives_a_restart(tmp_path: Path) -> None:
    with running_service("firestore", tmp_path) as service, pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
        FirestoreStore("restart").create("things/a", {"v": 1})
        service.kill()
        service.port = 0
        service.start()
        patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
        doc = FirestoreStore("restart").get("things/a")
        assert doc is not None and doc.data == {"v": 1}
