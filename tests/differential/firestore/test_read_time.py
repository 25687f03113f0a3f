"""Reads at a past `read_time`, differentially: gets, queries, aggregations, collection and
document listings and read-only transactions see the database as it was, on both emulators
(each at its own commit times); a read_time in the future is refused alike."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from google.cloud import firestore

from tests.differential.firestore.compare import Pair, normal, snapshots

pytestmark = [pytest.mark.process, pytest.mark.e2e]


def history(client: firestore.Client, root: str) -> Any:
    """Write, remember the time, change everything; then read at the remembered time."""
    parent = client.collection(root).document("p")
    first = parent.collection("a").document("x").set({"n": 1})
    parent.collection("a").document("y").set({"n": 2})
    at = parent.collection("a").document("y").get().update_time
    parent.collection("b").document("z").set({"n": 3})  # a collection created after `at`
    parent.collection("a").document("x").set({"n": 10})
    parent.collection("a").document("y").delete()
    parent.collection("a").document("w").set({"n": 4})
    assert first.update_time < at
    a = parent.collection("a")
    return {
        "get changed": normal(a.document("x").get(read_time=at)),
        "get deleted": normal(a.document("y").get(read_time=at)),
        "get created later": normal(a.document("w").get(read_time=at)),
        "query": snapshots(a.order_by("n").get(read_time=at)),
        "filtered": snapshots(a.where(filter=firestore.FieldFilter("n", ">", 1)).get(read_time=at)),
        "count": normal(a.count().get(read_time=at)[0][0].value),
        "sum": normal(a.sum("n").get(read_time=at)[0][0].value),
        "collections": sorted(c.id for c in parent.collections(read_time=at)),
        "documents": sorted(d.id for d in a.list_documents(read_time=at)),
        "group": snapshots(
            client.collection_group("a")
            .where(filter=firestore.FieldFilter("n", ">=", 0))
            .get(read_time=at)
        ),
        "now": snapshots(a.order_by("n").get()),
    }


def test_reads_at_a_past_read_time_see_the_past(pair: Pair) -> None:
    root = f"rt{uuid.uuid4().hex[:8]}"
    ours, google = pair.both(lambda c: history(c, root))
    assert ours == google
    # issue 18: b was listed though created after the read time
    assert dict(ours[1])["collections"] == normal(["a"])


def read_only_transaction(client: firestore.Client, root: str) -> Any:
    """A read-only transaction at a past time, through the generated API (the client's
    Transaction has no read_time)."""
    doc = client.collection(root).document("d")
    at = doc.set({"v": 1}).update_time
    doc.set({"v": 2})
    api = client._firestore_api
    database = client._database_string
    begun = api.begin_transaction(
        request={"database": database, "options": {"read_only": {"read_time": at}}},
        metadata=client._rpc_metadata,
    )
    found = api.batch_get_documents(
        request={
            "database": database,
            "documents": [doc._document_path],
            "transaction": begun.transaction,
        },
        metadata=client._rpc_metadata,
    )
    values = [dict(r.found.fields)["v"].integer_value for r in found]
    api.rollback(
        request={"database": database, "transaction": begun.transaction},
        metadata=client._rpc_metadata,
    )
    return values


def test_a_read_only_transaction_reads_at_its_read_time(pair: Pair) -> None:
    root = f"rt{uuid.uuid4().hex[:8]}"
    ours, google = pair.both(lambda c: read_only_transaction(c, root))
    assert ours == google == ("array", (("int", 1),))


def test_a_read_time_in_the_future_is_refused(pair: Pair) -> None:
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    ours, google = pair.both(lambda c: c.collection("f").get(read_time=later))
    assert ours == google == ("error", "INVALID_ARGUMENT")
