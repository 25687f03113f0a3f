"""The writer on the store port (in memory and on the Firestore emulator): documents as laid out,
create-or-identical on redelivery, partial earlier commits completed, and a foreign document never
overwritten."""

from __future__ import annotations

import pytest

from functions.writer.service import Writer
from shared.errors import BadRequest
from shared.store import Query, Store
from shared.telemetry.chunks import BUCKET_NS, chunks_path, decode_readings, plan
from shared.telemetry.model import NormalizedMessage, Reading, Source

H = BUCKET_NS
T0 = 497_000 * H
RECEIVED = T0 + 10 * H


def message(org: str, *readings: Reading, message_id: str = "req-1") -> NormalizedMessage:
    return NormalizedMessage(org, "d1", Source(message_id, "http"), tuple(readings))


def stored(store: Store, org: str, sensor: str) -> dict[str, dict[str, object]]:
    page = store.query(Query(chunks_path(org, "d1", sensor)))
    return {document.id: document.data for document in page.documents}


def test_a_message_becomes_its_chunk_documents(store: Store, org: str) -> None:
    msg = message(
        org,
        Reading("s1", T0 + 2, 2.5, "double"),
        Reading("s1", T0 + 1, 1.5, "double"),
        Reading("s1", T0 + H, 3.5, "double"),
        Reading("s2", T0, "on", "string"),
    )
    result = Writer(store).write(msg, RECEIVED)
    assert (result.created, result.existing, result.readings) == (3, 0, 4)
    s1 = stored(store, org, "s1")
    assert sorted(s1) == sorted(chunk.path.rsplit("/", 1)[1] for chunk in plan(msg, RECEIVED)[:2])
    readings = sorted(pair for data in s1.values() for pair in decode_readings(data["readings"]))
    assert readings == [(T0 + 1, 1.5), (T0 + 2, 2.5), (T0 + H, 3.5)]
    first = s1[min(s1)]
    assert (first["bucket"], first["first"], first["last"], first["count"]) == (
        T0 // H,
        T0 + 1,
        T0 + 2,
        2,
    )
    assert isinstance(first["readings"], bytes)
    assert [decode_readings(d["readings"]) for d in stored(store, org, "s2").values()] == [
        [(T0, "on")]
    ]


def test_redelivery_creates_nothing_and_changes_nothing(store: Store, org: str) -> None:
    msg = message(org, *(Reading("s1", T0 + i, float(i), "double") for i in range(100)))
    writer = Writer(store)
    writer.write(msg, RECEIVED)
    before = {
        doc.path: (doc.data, doc.update_time)
        for doc in store.query(Query(chunks_path(org, "d1", "s1"))).documents
    }
    again = writer.write(msg, RECEIVED)
    assert (again.created, again.existing) == (0, 1)
    after = {
        doc.path: (doc.data, doc.update_time)
        for doc in store.query(Query(chunks_path(org, "d1", "s1"))).documents
    }
    assert after == before


def test_an_interrupted_earlier_write_is_completed(store: Store, org: str) -> None:
    msg = message(org, *(Reading(f"s{i}", T0 + i, float(i), "double") for i in range(5)))
    chunks = plan(msg, RECEIVED)
    store.create(chunks[2].path, chunks[2].data)  # as if only this one had been written
    result = Writer(store).write(msg, RECEIVED)
    assert (result.created, result.existing) == (4, 1)
    for chunk in chunks:
        document = store.get(chunk.path)
        assert document is not None and document.data == chunk.data


def test_a_different_document_under_the_same_id_is_refused(store: Store, org: str) -> None:
    msg = message(org, Reading("s1", T0, 1.0, "double"))
    chunk = plan(msg, RECEIVED)[0]
    store.create(chunk.path, {**chunk.data, "count": 7})
    with pytest.raises(BadRequest, match="exists with other readings"):
        Writer(store).write(msg, RECEIVED)
    document = store.get(chunk.path)
    assert document is not None and document.data["count"] == 7


def test_a_message_too_big_for_one_document_is_stored_whole(store: Store, org: str) -> None:
    readings = [Reading("s1", T0 + i, "v" * 1000, "string") for i in range(1500)]
    result = Writer(store).write(message(org, *readings), RECEIVED)
    assert result.created >= 3 and result.readings == 1500
    documents = stored(store, org, "s1")
    back = sorted(pair for data in documents.values() for pair in decode_readings(data["readings"]))
    assert back == [(r.ts, r.value) for r in readings]
