"""Document history: reads at a past read_time see the versions of that time, versions are kept
for an hour and then pruned (bounded on disk), reads before what is kept are refused, and the
history survives a restart; in process, on a fake clock."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.cloud.firestore_v1.types import firestore as fs
from google.cloud.firestore_v1.types import write as write_types

from emulator.firestore.errors import FirestoreError
from emulator.firestore.service import Firestore
from emulator.firestore.storage import RETENTION_US, Database
from emulator.firestore.values import timestamp_from_us

DB = "projects/p/databases/(default)"
ROOT = f"{DB}/documents"
Write: Any = write_types.Write.pb()
CommitRequest: Any = fs.CommitRequest.pb()
ListCollectionIdsRequest: Any = fs.ListCollectionIdsRequest.pb()
RunQueryRequest: Any = fs.RunQueryRequest.pb()
BatchGetDocumentsRequest: Any = fs.BatchGetDocumentsRequest.pb()
MINUTE_NS = 60 * 10**9


class Clock:
    """A wall clock the test moves (nanoseconds)."""

    def __init__(self) -> None:
        self.ns = 1_800_000_000 * 10**9

    def __call__(self) -> int:
        return self.ns

    def advance(self, ns: int) -> None:
        self.ns += ns


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(tmp_path: Path, clock: Clock) -> Firestore:
    return Firestore(Database(tmp_path / "f.sqlite3", clock=clock))


def put(service: Firestore, path: str, n: int | None) -> int:
    """Set (or, with None, delete) a document; its commit time in microseconds."""
    write = Write()
    if n is None:
        write.delete = f"{ROOT}/{path}"
    else:
        write.update.name = f"{ROOT}/{path}"
        write.update.fields["n"].integer_value = n
    response = service.commit(CommitRequest(database=DB, writes=[write]))
    stamp = response.commit_time
    return int(stamp.seconds) * 1_000_000 + int(stamp.nanos) // 1000


def get(service: Firestore, path: str, at: int) -> int | None:
    request = BatchGetDocumentsRequest(database=DB, documents=[f"{ROOT}/{path}"])
    request.read_time.CopyFrom(timestamp_from_us(at))
    (response,) = service.batch_get_documents(request)
    if response.WhichOneof("result") == "missing":
        return None
    return int(response.found.fields["n"].integer_value)


def query(service: Firestore, collection: str, at: int) -> list[tuple[str, int]]:
    request = RunQueryRequest(parent=ROOT)
    request.structured_query.from_.add().collection_id = collection
    request.read_time.CopyFrom(timestamp_from_us(at))
    return [
        (r.document.name.rsplit("/", 1)[1], int(r.document.fields["n"].integer_value))
        for r in service.run_query(request)
        if r.HasField("document")
    ]


def collections(service: Firestore, at: int) -> list[str]:
    request = ListCollectionIdsRequest(parent=ROOT)
    request.read_time.CopyFrom(timestamp_from_us(at))
    return list(service.list_collection_ids(request).collection_ids)


def test_reads_at_a_past_time_see_the_versions_of_that_time(
    service: Firestore, clock: Clock
) -> None:
    t1 = put(service, "c/a", 1)
    clock.advance(1000)
    put(service, "c/b", 2)
    t2 = put(service, "c/a", 10)
    put(service, "c/b", None)
    put(service, "d/x", 3)
    assert get(service, "c/a", t1) == 1
    assert get(service, "c/a", t2) == 10
    assert get(service, "c/b", t1) is None  # not yet written
    assert get(service, "c/b", t2) == 2  # since deleted
    assert query(service, "c", t1) == [("a", 1)]
    assert query(service, "c", t2) == [("a", 10), ("b", 2)]
    assert query(service, "c", service.db.now()) == [("a", 10)]
    assert collections(service, t2) == ["c"]
    assert collections(service, service.db.now()) == ["c", "d"]


def test_versions_are_pruned_after_an_hour_and_older_reads_refused(
    service: Firestore, clock: Clock, tmp_path: Path
) -> None:
    first = put(service, "c/a", 0)
    for n in range(1, 6):
        clock.advance(MINUTE_NS)
        put(service, "c/a", n)
    assert get(service, "c/a", first) == 0  # all within the hour
    clock.advance(RETENTION_US * 1000 + 2 * MINUTE_NS)
    put(service, "c/a", 99)  # a commit prunes what ended more than an hour ago
    with pytest.raises(FirestoreError) as refused:
        get(service, "c/a", first)
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert get(service, "c/a", service.db.now()) == 99
    rows = sqlite3.connect(tmp_path / "f.sqlite3").execute("SELECT COUNT(*) FROM history")
    assert rows.fetchone()[0] == 1  # only the version replaced by the last write is left


def test_history_is_bounded_when_one_document_keeps_changing(
    service: Firestore, clock: Clock, tmp_path: Path
) -> None:
    for n in range(200):
        clock.advance(MINUTE_NS)  # one write a minute for over three hours
        put(service, "c/a", n)
    rows = sqlite3.connect(tmp_path / "f.sqlite3").execute("SELECT COUNT(*) FROM history")
    assert rows.fetchone()[0] <= 62  # an hour of versions (and at most a minute more)


def test_a_read_time_in_the_future_is_refused(service: Firestore) -> None:
    with pytest.raises(FirestoreError) as refused:
        get(service, "c/a", service.db.now() + 10_000_000)
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_history_survives_a_restart(tmp_path: Path, clock: Clock) -> None:
    service = Firestore(Database(tmp_path / "f.sqlite3", clock=clock))
    t1 = put(service, "c/a", 1)
    put(service, "c/a", 2)
    service.db.close()
    reopened = Firestore(Database(tmp_path / "f.sqlite3", clock=clock))
    assert get(reopened, "c/a", t1) == 1


def test_a_database_from_before_history_answers_only_from_its_upgrade(
    tmp_path: Path, clock: Clock
) -> None:
    service = Firestore(Database(tmp_path / "f.sqlite3", clock=clock))
    t1 = put(service, "c/a", 1)
    t2 = put(service, "c/a", 2)
    service.db.close()
    with sqlite3.connect(tmp_path / "f.sqlite3") as raw:  # as an older emulator left it
        raw.execute("DELETE FROM meta WHERE key = 'horizon'")
        raw.execute("DROP TABLE history")
    reopened = Firestore(Database(tmp_path / "f.sqlite3", clock=clock))
    assert get(reopened, "c/a", t2) == 2
    with pytest.raises(FirestoreError) as refused:
        get(reopened, "c/a", t1)
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
