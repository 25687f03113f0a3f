"""What the in-memory fakes add to the ports for tests (the ports' behaviour itself is held by
tests/shared/store/test_contract.py and tests/shared/bus/test_contract.py): outages on demand,
the commit count, the messages of a topic, isolation between instances."""

from __future__ import annotations

import pytest

from shared.errors import Unavailable
from shared.store import Query
from tests.support.memory_bus import MemoryBus
from tests.support.memory_store import MemoryStore


def test_an_outage_fails_the_next_operations_then_ends() -> None:
    store = MemoryStore()
    store.create("c/a", {"v": 1})
    store.fail_next(2)
    with pytest.raises(Unavailable):
        store.get("c/a")
    with pytest.raises(Unavailable):
        store.query(Query("c"))
    assert store.get("c/a") is not None


def test_a_failed_commit_writes_nothing_and_is_not_counted() -> None:
    store = MemoryStore()
    store.fail_next()
    with pytest.raises(Unavailable):
        store.run_transaction(lambda txn: txn.set("c/a", {"v": 1}))
    assert store.get("c/a") is None and store.commits == 0
    batch = store.batch()
    batch.set("c/a", {"v": 1})
    batch.set("c/b", {"v": 2})
    batch.commit()
    assert store.commits == 1


def test_instances_are_separate_databases() -> None:
    first, second = MemoryStore(), MemoryStore()
    first.create("c/a", {"v": 1})
    assert second.get("c/a") is None


def test_returned_documents_are_copies() -> None:
    store = MemoryStore()
    data = {"m": {"x": 1}}
    store.create("c/a", data)
    data["m"]["x"] = 2
    doc = store.get("c/a")
    assert doc is not None and doc.data == {"m": {"x": 1}}
    doc.data["m"]["x"] = 3
    assert store.get("c/a").data == {"m": {"x": 1}}  # type: ignore[union-attr]


def test_the_bus_records_messages_per_topic_and_fails_on_demand() -> None:
    bus = MemoryBus()  # every topic exists
    assert bus.publish("a", b"1", {"k": "v"}).result() == "1"
    bus.fail_next()
    with pytest.raises(Unavailable, match="outage"):
        bus.publish("b", b"2", {}).result()
    bus.publish("b", b"3", {}).result()
    assert [(m.id, m.data, m.attributes) for m in bus.messages("a")] == [("1", b"1", {"k": "v"})]
    assert [m.data for m in bus.messages("b")] == [b"3"]
    bus.close()
    assert bus.closed
