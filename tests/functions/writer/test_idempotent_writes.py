"""A client's retry of the same body with the same idempotency key (a new request: another
request id, received later) is stored once; without a key, or with another key or body, it is
stored again, as before."""

from __future__ import annotations

from functions.writer.service import Writer
from shared.events import Message
from shared.store import Query, Store
from shared.telemetry.chunks import BUCKET_NS, chunks_path, decode_readings, plan
from shared.telemetry.model import NormalizedMessage, Reading, Source

H = BUCKET_NS
T0 = 497_000 * H
READINGS = (
    Reading("s1", T0 + 1, 1.5, "double"),
    Reading("s1", T0 + H, 2.5, "double"),
    Reading("s2", T0, 7, "long"),
)


def message(org: str, request_id: str, readings=READINGS) -> NormalizedMessage:
    return NormalizedMessage(org, "d1", Source(request_id, "http"), readings)


def documents(store: Store, org: str) -> dict[str, list]:
    out = {}
    for sensor in ("s1", "s2"):
        for document in store.query(Query(chunks_path(org, "d1", sensor))).documents:
            out[document.path] = decode_readings(document.data["readings"])
    return out


def test_plan_names_chunks_after_the_key_and_the_readings() -> None:
    first = plan(message("o", "req-1"), 1_000, idempotency_key="k1")
    retry = plan(message("o", "req-2"), 9_999, idempotency_key="k1")
    assert [c.path for c in first] == [c.path for c in retry]
    assert first[0].data["received"] == 1_000 and retry[0].data["received"] == 9_999
    other_key = plan(message("o", "req-1"), 1_000, idempotency_key="k2")
    other_body = plan(message("o", "req-1", READINGS[:2]), 1_000, idempotency_key="k1")
    no_key = plan(message("o", "req-1"), 9_999)
    for different in (other_key, other_body, no_key):
        assert {c.path for c in different}.isdisjoint(c.path for c in first)


def test_a_retried_request_is_stored_once(store: Store, org: str) -> None:
    writer = Writer(store)
    first = writer.write(message(org, "req-1"), 1_000, "k1")
    assert (first.created, first.existing) == (3, 0)
    retry = writer.write(message(org, "req-2"), 5_000, "k1")  # the client sent it again
    assert (retry.created, retry.existing) == (0, 3)
    stored = documents(store, org)
    assert len(stored) == 3
    assert sorted(r for rs in stored.values() for r in rs) == sorted(
        (r.ts, r.value) for r in READINGS
    )
    # the first reception is kept
    (chunk,) = store.query(Query(chunks_path(org, "d1", "s2"))).documents
    assert (chunk.data["received"], chunk.data["message"]) == (1_000, "req-1")


def test_without_a_key_a_retry_is_stored_again(store: Store, org: str) -> None:
    writer = Writer(store)
    writer.write(message(org, "req-1"), 1_000)
    writer.write(message(org, "req-2"), 5_000)
    assert len(documents(store, org)) == 6  # queries return one value per instant still


def test_the_bus_attribute_reaches_the_writer(store: Store, org: str) -> None:
    writer = Writer(store)
    for attempt, received in (("req-1", "1000"), ("req-2", "2000")):
        bus_message = Message(
            id=attempt,
            data=message(org, attempt).to_bytes(),
            attributes={
                "org": org,
                "device": "d1",
                "received_ns": received,
                "idempotency_key": "k9",
            },
        )
        writer.handle(bus_message)
    assert len(documents(store, org)) == 3
