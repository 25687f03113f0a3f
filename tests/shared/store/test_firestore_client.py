"""The Firestore client the adapter builds (`shared.store.firestore_client`): server-streaming
reads (a get, a query, a count, a read in a transaction) run on the calling thread, starting no
thread, on the emulator and on the channel to Google's service alike; queries decoded from the
protobuf answer what a get does, and a stream broken midway is read again as the client would."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials

from shared.store import Document, Filter, Query
from shared.store.firestore import FirestoreStore
from shared.store.firestore_client import _Client, _Transport
from tests.support.concurrency import at_once

pytestmark = [pytest.mark.process]


def test_reads_start_no_channel_spin_thread(firestore_store: FirestoreStore) -> None:
    store = firestore_store
    started: list[str] = []
    original = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread.name)
        original(thread)

    store.create("things/a", {"v": 1})
    store.create("things/b", {"v": 2})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(threading.Thread, "start", start)
        assert store.get("things/a") is not None
        assert [d is not None for d in store.get_many(["things/a", "things/c"])] == [True, False]
        page = store.query(Query("things", (Filter("v", ">=", 1),), (("v", "asc"),), limit=1))
        assert [d.data["v"] for d in page.documents] == [1] and page.next is not None
        assert store.count(Query("things")) == 2
        assert store.run_transaction(lambda txn: len(txn.query(Query("things")))) == 2
    assert started == []  # by default each of these reads starts gRPC's channel-spin thread


def test_first_reads_on_many_threads_share_one_channel(firestore_store: FirestoreStore) -> None:
    """The client builds its channel on its first call, without a lock: first reads on several
    threads each built one, and the channels that lost the race were freed under their calls
    (Cancelled "Channel deallocated!", a 500 in a fresh worker under load). The adapter's client
    holds its channel before its first read."""
    firestore_store.create("shared/x", {"v": 1})
    fresh = FirestoreStore(firestore_store.project, firestore_store.database)
    assert fresh.client._firestore_api_internal is not None
    apis = at_once(lambda _: fresh.client._firestore_api, 16)
    assert all(api is apis[0] for api in apis)
    fresh = FirestoreStore(firestore_store.project, firestore_store.database)
    found = at_once(lambda _: fresh.get("shared/x"), 16)
    assert all(isinstance(document, Document) for document in found), found


def test_the_channel_to_google_reads_streams_in_place() -> None:
    """Without FIRESTORE_EMULATOR_HOST the client's channel comes from the transport's
    create_channel, which adds the option (no call is made: the channel connects lazily)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
        client = _Client(project="p", credentials=AnonymousCredentials())
        transport = client._firestore_api._transport
    assert isinstance(transport, _Transport)
    stub = transport.grpc_channel.unary_stream("/google.firestore.v1.Firestore/RunQuery")
    assert type(stub).__name__ == "_SingleThreadedUnaryStreamMultiCallable"
    transport.grpc_channel.close()


def test_a_query_answers_what_a_get_does(firestore_store: FirestoreStore) -> None:
    """Every value type, the path and both versions come out of a query as out of a get (the
    query decodes the protobuf itself, a get goes through the client's snapshots)."""
    store = firestore_store
    data = {
        "n": None, "b": True, "i": -(2**62), "f": 1.5, "s": "é\\u0000x", "raw": b"\\x00\\xff",
        "t": datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC), "list": [1, "a", {"in": [2]}],
        "map": {"nested": {"deep": [True, None]}}, "empty": {},
    }  # fmt: skip
    store.create("kinds/a/sub/doc", data)
    got = store.get("kinds/a/sub/doc")
    (found,) = store.query(Query("kinds/a/sub")).documents
    assert got is not None and found == got
    assert (found.update_time.nanosecond, found.create_time.nanosecond) == (
        got.update_time.nanosecond,
        got.create_time.nanosecond,
    )
    by_i = Query("sub", (Filter("i", "<", 0),), (("i", "asc"),), group=True)
    (grouped,) = store.query(by_i).documents
    assert grouped == got


def test_a_stream_broken_after_its_first_answer_is_read_again(
    firestore_store: FirestoreStore,
) -> None:
    """A transient error in the middle of a stream (one RunQuery's retry covers) reads the query
    again, whole; any other error is raised at once."""
    store = firestore_store
    for n in range(3):
        store.create(f"broken/{n}", {"n": n})
    api = store.client._firestore_api
    original = api.run_query
    calls: list[int] = []

    def breaking(error: Exception) -> Any:
        def run_query(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            answers = iter(original(*args, **kwargs))
            yield next(answers)
            if len(calls) == 1:
                raise error
            yield from answers

        return run_query

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api, "run_query", breaking(gexc.ServiceUnavailable("dropped")))
        page = store.query(Query("broken", order_by=(("n", "asc"),)))
    assert [d.data["n"] for d in page.documents] == [0, 1, 2] and len(calls) == 2
    calls.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api, "run_query", breaking(gexc.PermissionDenied("no")))
        with pytest.raises(gexc.PermissionDenied):
            store.query(Query("broken"))
    assert len(calls) == 1
