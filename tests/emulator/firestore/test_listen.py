"""The Listen stream on the wire (what the official client relies on but cannot show): resume
tokens bring only what changed since, with an existence filter; an unknown token resets the
target; `read_time`, `once`, removal, bad targets and a taken target id; and an official-client
listener that carries on across a restart of the emulator."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.cloud import firestore
from google.cloud.firestore_v1 import FieldFilter
from google.cloud.firestore_v1.types import firestore as fs

from tests.support.services import RunningService, running_service
from tests.support.waiting import until

pytestmark = [pytest.mark.process, pytest.mark.e2e]

PROJECT = f"listen-{uuid.uuid4().hex[:8]}"
DB = f"projects/{PROJECT}/databases/(default)"
TargetChange = fs.TargetChange.TargetChangeType


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with running_service("firestore", tmp_path_factory.mktemp("listen")) as running:
        yield running


@pytest.fixture
def client(service: RunningService) -> Iterator[firestore.Client]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
        yield firestore.Client(project=PROJECT)


class Stream:
    """A raw Listen call: requests in, responses out, each summarised as a tuple."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.insecure_channel(address)
        listen = self.channel.stream_stream(
            "/google.firestore.v1.Firestore/Listen",
            request_serializer=fs.ListenRequest.serialize,
            response_deserializer=fs.ListenResponse.deserialize,
        )
        self.requests: queue.Queue[Any] = queue.Queue()
        self.responses: queue.Queue[Any] = queue.Queue()
        self.call = listen(iter(self.requests.get, None))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for response in self.call:
                self.responses.put(response._pb)
        except grpc.RpcError as error:
            self.responses.put(error)

    def add(self, target_id: int, **target: Any) -> None:
        spec = fs.Target(target_id=target_id, **target)
        self.requests.put(fs.ListenRequest(database=DB, add_target=spec))

    def remove(self, target_id: int) -> None:
        self.requests.put(fs.ListenRequest(database=DB, remove_target=target_id))

    def until_global(self) -> list[Any]:
        """Responses up to and including the next global snapshot (NO_CHANGE, no targets)."""
        out = []
        while True:
            response = self.responses.get(timeout=20)
            if isinstance(response, grpc.RpcError):
                out.append(("error", response.code()))
                return out
            out.append(_summary(response))
            change = response.target_change
            if out[-1][0] == "NO_CHANGE" and not change.target_ids:
                self.token = change.resume_token
                return out

    def close(self) -> None:
        self.requests.put(None)
        self.call.cancel()
        self.channel.close()


def _summary(response: Any) -> tuple[Any, ...]:
    kind = response.WhichOneof("response_type")
    if kind == "target_change":
        change = response.target_change
        cause = change.cause.code if change.HasField("cause") else None
        name = TargetChange(change.target_change_type).name
        return (name, list(change.target_ids), cause) if cause else (name, list(change.target_ids))
    if kind == "document_change":
        doc = response.document_change.document
        return ("change", doc.name.rsplit("/", 1)[1], doc.fields["n"].integer_value)
    if kind == "document_delete":
        return ("delete", response.document_delete.document.rsplit("/", 1)[1])
    if kind == "document_remove":
        return ("remove", response.document_remove.document.rsplit("/", 1)[1])
    return ("filter", response.filter.target_id, response.filter.count)


@pytest.fixture
def stream(service: RunningService) -> Iterator[Stream]:
    opened = Stream(service.address)
    yield opened
    opened.close()


def _query(client: firestore.Client, collection: str) -> fs.Target.QueryTarget:
    query = client.collection(collection).where(filter=FieldFilter("n", ">", 0))
    return fs.Target.QueryTarget(parent=f"{DB}/documents", structured_query=query._to_protobuf())


def test_a_query_target_follows_each_change(client: firestore.Client, stream: Stream) -> None:
    col = client.collection(f"c{uuid.uuid4().hex[:8]}")
    col.document("a").set({"n": 1})
    col.document("z").set({"n": 0})
    stream.add(3, query=_query(client, col.id))
    assert stream.until_global() == [
        ("ADD", [3]),
        ("change", "a", 1),
        ("CURRENT", [3]),
        ("NO_CHANGE", []),
    ]
    col.document("b").set({"n": 2})
    assert stream.until_global() == [("change", "b", 2), ("NO_CHANGE", [])]
    col.document("a").set({"n": 0})  # no longer matches
    assert stream.until_global() == [("remove", "a"), ("NO_CHANGE", [])]
    col.document("b").delete()
    assert stream.until_global() == [("delete", "b"), ("NO_CHANGE", [])]
    stream.remove(3)
    assert stream.responses.get(timeout=20).target_change.target_change_type == TargetChange.REMOVE


def test_a_resume_token_brings_only_what_changed_since(
    client: firestore.Client, service: RunningService
) -> None:
    col = client.collection(f"c{uuid.uuid4().hex[:8]}")
    for name, n in (("a", 1), ("b", 2), ("c", 3)):
        col.document(name).set({"n": n})
    first = Stream(service.address)
    first.add(5, query=_query(client, col.id))
    first.until_global()
    token = first.token
    first.close()
    col.document("b").set({"n": 20})
    col.document("c").delete()
    col.document("d").set({"n": 4})
    again = Stream(service.address)
    try:
        again.add(5, query=_query(client, col.id), resume_token=token)
        assert again.until_global() == [
            ("ADD", [5]),
            ("delete", "c"),
            ("change", "d", 4),  # in the query's order: n ascending
            ("change", "b", 20),
            ("filter", 5, 3),
            ("CURRENT", [5]),
            ("NO_CHANGE", []),
        ]
        again.add(6, query=_query(client, col.id), resume_token=b"not a token")
        reset = again.until_global()
        assert reset[:2] == [("ADD", [6]), ("RESET", [6])]
        assert {r[1] for r in reset if r[0] == "change"} == {"a", "b", "d"}
    finally:
        again.close()


def test_documents_targets_once_and_bad_targets(client: firestore.Client, stream: Stream) -> None:
    col = client.collection(f"c{uuid.uuid4().hex[:8]}")
    col.document("a").set({"n": 1})
    names = [f"{DB}/documents/{col.id}/a", f"{DB}/documents/{col.id}/missing"]
    stream.add(1, documents=fs.Target.DocumentsTarget(documents=names), once=True)
    assert stream.until_global() == [
        ("ADD", [1]),
        ("change", "a", 1),
        ("CURRENT", [1]),
        ("NO_CHANGE", []),
    ]
    assert _summary(stream.responses.get(timeout=20)) == ("REMOVE", [1])  # once: done
    bad = client.collection(col.id).where(filter=FieldFilter("n", "in", [1]))._to_protobuf()
    bad.where.field_filter.value.array_value.values.pop()  # 'in' an empty list
    query = fs.Target.QueryTarget(parent=f"{DB}/documents", structured_query=bad)
    stream.add(2, query=query)
    assert _summary(stream.responses.get(timeout=20)) == ("REMOVE", [2], 3)  # INVALID_ARGUMENT
    stream.add(4, documents=fs.Target.DocumentsTarget(documents=names[:1]))
    stream.until_global()
    stream.add(4, documents=fs.Target.DocumentsTarget(documents=names[:1]))
    assert stream.until_global() == [("error", grpc.StatusCode.INVALID_ARGUMENT)]


def test_an_official_listener_carries_on_across_a_restart(
    client: firestore.Client, service: RunningService
) -> None:
    col = client.collection(f"c{uuid.uuid4().hex[:8]}")
    col.document("a").set({"n": 1})
    seen: list[set[str]] = []
    watch = col.on_snapshot(lambda docs, changes, read_time: seen.append({d.id for d in docs}))
    try:
        assert until(lambda: bool(seen) and seen[-1] == {"a"})
        service.stop()
        service.start()  # same port, same data directory
        col.document("b").set({"n": 2})
        assert until(lambda: seen[-1] == {"a", "b"}, timeout=40)
    finally:
        watch.unsubscribe()
