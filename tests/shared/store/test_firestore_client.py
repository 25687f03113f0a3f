"""The Firestore client the adapter builds (`shared.store.firestore_client`): server-streaming
reads (a get, a query, a count, a read in a transaction) run on the calling thread, starting no
thread, on the emulator and on the channel to Google's service alike."""

from __future__ import annotations

import threading

import pytest
from google.auth.credentials import AnonymousCredentials

from shared.store import Filter, Query
from shared.store.firestore import FirestoreStore
from shared.store.firestore_client import _Client, _Transport

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
