"""The Firestore emulator through the unmodified official client, answering as Google would.

The store port's contract tests (tests/shared/store) cover the everyday path; these cover the rest
of what the client sends: composite and OR filters, unary filters, cursors, offsets, projections,
aggregations, listing, field transforms, preconditions, transaction conflicts, the document size
limit and the write RPCs the client library does not use but other clients do.
"""

from __future__ import annotations

import itertools
import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1 import FieldFilter, Or
from google.cloud.firestore_v1.services.firestore import FirestoreClient
from google.cloud.firestore_v1.types import document as document_types
from google.cloud.firestore_v1.types import firestore as firestore_types

from tests.support.services import RunningService, running_service

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with running_service("firestore", tmp_path_factory.mktemp("firestore")) as running:
        yield running


@pytest.fixture(scope="module")
def client(service: RunningService) -> Iterator[firestore.Client]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
        yield firestore.Client(project=f"emu-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def col(client: firestore.Client) -> firestore.CollectionReference:
    return client.collection(f"c{uuid.uuid4().hex[:10]}")


def ids(docs: object) -> list[str]:
    return [d.id for d in docs]  # type: ignore[attr-defined]


def fill(col: firestore.CollectionReference) -> None:
    rows = {
        "a": {"n": 1, "tags": ["x", "y"], "kind": "odd", "score": 1.5},
        "b": {"n": 2, "tags": ["y"], "kind": "even", "score": None},
        "c": {"n": 3, "tags": [], "kind": "odd", "score": math.nan},
        "d": {"n": 4, "tags": ["z"], "kind": "even"},
        "e": {"n": "5", "kind": "text"},
    }
    batch = col._client.batch()
    for key, data in rows.items():
        batch.set(col.document(key), data)
    batch.commit()


def test_filters_match_only_their_type_class(col: firestore.CollectionReference) -> None:
    fill(col)
    assert ids(col.where(filter=FieldFilter("n", ">", 1)).stream()) == ["b", "c", "d"]
    assert ids(col.where(filter=FieldFilter("n", ">=", "0")).stream()) == ["e"]
    assert ids(col.where(filter=FieldFilter("n", "==", 2.0)).stream()) == ["b"]
    assert ids(col.where(filter=FieldFilter("n", "in", [1, "5"])).stream()) == ["a", "e"]
    # != and not-in need the field to exist and not be null
    assert ids(col.where(filter=FieldFilter("score", "!=", 1.5)).stream()) == ["c"]
    assert ids(col.where(filter=FieldFilter("kind", "not-in", ["odd", "text"])).stream()) == [
        "b",
        "d",
    ]
    assert ids(col.where(filter=FieldFilter("tags", "array_contains", "y")).stream()) == ["a", "b"]
    any_of = col.where(filter=FieldFilter("tags", "array_contains_any", ["x", "z"]))
    assert ids(any_of.stream()) == ["a", "d"]


def test_unary_filters(col: firestore.CollectionReference) -> None:
    fill(col)
    assert ids(col.where(filter=FieldFilter("score", "==", None)).stream()) == ["b"]
    assert ids(col.where(filter=FieldFilter("score", "==", math.nan)).stream()) == ["c"]
    assert ids(col.where(filter=FieldFilter("score", "!=", None)).stream()) == ["c", "a"]


def test_or_and_composite_filters(col: firestore.CollectionReference) -> None:
    fill(col)
    either = Or([FieldFilter("kind", "==", "text"), FieldFilter("n", "<", 2)])
    assert sorted(ids(col.where(filter=either).stream())) == ["a", "e"]
    both = col.where(filter=FieldFilter("kind", "==", "even")).where(
        filter=FieldFilter("n", ">", 2)
    )
    assert ids(both.stream()) == ["d"]


def test_order_cursors_offset_and_limit_to_last(col: firestore.CollectionReference) -> None:
    for i in range(10):
        col.document(f"d{i}").set({"i": i, "half": i // 5})
    ordered = col.order_by("half", direction=firestore.Query.DESCENDING).order_by("i")
    assert ids(ordered.stream()) == [f"d{i}" for i in [5, 6, 7, 8, 9, 0, 1, 2, 3, 4]]
    assert ids(ordered.offset(3).limit(3).stream()) == ["d8", "d9", "d0"]
    by_i = col.order_by("i")
    assert ids(by_i.start_at({"i": 3}).end_before({"i": 6}).stream()) == ["d3", "d4", "d5"]
    assert ids(by_i.start_after({"i": 7}).stream()) == ["d8", "d9"]
    assert ids(by_i.end_at({"i": 1}).stream()) == ["d0", "d1"]
    snapshot = col.document("d4").get()
    assert ids(by_i.start_after(snapshot).limit(2).stream()) == ["d5", "d6"]
    assert ids(by_i.limit_to_last(2).get()) == ["d8", "d9"]


def test_ordering_excludes_documents_without_the_field(
    col: firestore.CollectionReference,
) -> None:
    col.document("with").set({"v": 1})
    col.document("without").set({"w": 1})
    assert ids(col.order_by("v").stream()) == ["with"]
    assert sorted(ids(col.stream())) == ["with", "without"]


def test_projection_and_collection_group(
    client: firestore.Client, col: firestore.CollectionReference
) -> None:
    group = f"g{uuid.uuid4().hex[:8]}"
    col.document("p1").collection(group).document("x").set({"a": 1, "m": {"k": 2, "j": 3}})
    col.document("p2").collection(group).document("y").set({"a": 2, "m": {"k": 4}})
    docs = list(client.collection_group(group).select(["m.k"]).order_by("a").stream())
    assert [(d.reference.path, d.to_dict()) for d in docs] == [
        (f"{col.id}/p1/{group}/x", {"m": {"k": 2}}),
        (f"{col.id}/p2/{group}/y", {"m": {"k": 4}}),
    ]


def test_aggregations(col: firestore.CollectionReference) -> None:
    fill(col)
    query = col.count(alias="count").sum("n", alias="sum").avg("n", alias="avg")
    (results,) = query.get()
    values = {r.alias: r.value for r in results}
    assert values == {"count": 5, "sum": 10, "avg": 2.5}
    # the average of nothing is null (the client library shows it as 0.0, so read the wire)
    empty = col.where(filter=FieldFilter("kind", "==", "none")).avg("n", alias="a")
    request = empty._prep_stream()[0]
    (response,) = list(col._client._firestore_api.run_aggregation_query(request=request))
    assert response.result.aggregate_fields["a"]._pb.WhichOneof("value_type") == "null_value"
    (odd,) = col.where(filter=FieldFilter("kind", "==", "odd")).count(alias="c").get()
    assert odd[0].value == 2


def test_list_documents_shows_missing_parents_and_collections(
    col: firestore.CollectionReference,
) -> None:
    col.document("real").set({"v": 1})
    col.document("ghost").collection("child").document("c").set({"v": 2})
    listed = {ref.id for ref in col.list_documents()}
    assert listed == {"real", "ghost"}
    assert not col.document("ghost").get().exists
    assert [c.id for c in col.document("ghost").collections()] == ["child"]
    pages = list(col.list_documents(page_size=1))
    assert sorted(ref.id for ref in pages) == ["ghost", "real"]


def test_transforms_and_write_results(col: firestore.CollectionReference) -> None:
    ref = col.document("t")
    ref.set({"hi": 5, "lo": 5, "n": 2**62})
    ref.update(
        {
            "hi": firestore.Maximum(7),
            "lo": firestore.Minimum(2.5),
            "n": firestore.Increment(2**62),  # saturates at the int64 maximum
            "at": firestore.SERVER_TIMESTAMP,
        }
    )
    data = ref.get().to_dict()
    assert data is not None
    assert (data["hi"], data["lo"], data["n"]) == (7, 2.5, 2**63 - 1)
    assert abs(data["at"] - datetime.now(UTC)) < timedelta(minutes=1)


def test_update_times_are_strictly_increasing_microseconds(
    col: firestore.CollectionReference,
) -> None:
    times = [col.document(f"t{i}").set({"i": i}).update_time for i in range(50)]
    assert all(b > a for a, b in itertools.pairwise(times))
    assert all(t.nanosecond % 1000 == 0 for t in times)  # microsecond precision
    unchanged = col.document("t0").set({"i": 0}).update_time
    assert unchanged == times[0]  # a write that changes nothing keeps the version


def test_every_read_carries_a_read_time(col: firestore.CollectionReference) -> None:
    col.document("a").set({"v": 1})
    assert col.document("a").get().read_time is not None
    assert col.document("missing").get().read_time is not None
    assert all(doc.read_time is not None for doc in col.stream())


def test_update_time_precondition(col: firestore.CollectionReference) -> None:
    ref = col.document("p")
    first = ref.set({"v": 1}).update_time
    ref.update({"v": 2}, option=col._client.write_option(last_update_time=first))
    with pytest.raises(gexc.FailedPrecondition):
        ref.update({"v": 3}, option=col._client.write_option(last_update_time=first))
    assert ref.get().to_dict() == {"v": 2}


def test_a_conflicting_write_aborts_the_transaction(
    client: firestore.Client, col: firestore.CollectionReference
) -> None:
    ref = col.document("x")
    ref.set({"v": 1})
    transaction = client.transaction(max_attempts=1)
    transaction._begin()
    (snapshot,) = list(transaction.get(ref))
    ref.set({"v": 99})  # someone else writes what the transaction read
    transaction.update(ref, {"v": snapshot.get("v") + 1})
    with pytest.raises(gexc.Aborted):
        transaction._commit()
    assert ref.get().to_dict() == {"v": 99}


def test_a_new_match_for_a_transaction_query_aborts_it(
    client: firestore.Client, col: firestore.CollectionReference
) -> None:
    col.document("a").set({"open": True})
    transaction = client.transaction(max_attempts=1)
    transaction._begin()
    seen = list(transaction.get(col.where(filter=FieldFilter("open", "==", True))))
    assert len(seen) == 1
    col.document("b").set({"open": True})  # a phantom appears
    transaction.set(col.document("count"), {"open_count": len(seen)})
    with pytest.raises(gexc.Aborted):
        transaction._commit()
    assert not col.document("count").get().exists


def test_a_retried_transaction_commits_through_the_client(
    client: firestore.Client, col: firestore.CollectionReference
) -> None:
    ref = col.document("counter")
    ref.set({"n": 0})
    interfered = []

    @firestore.transactional
    def bump(transaction: firestore.Transaction) -> None:
        (snapshot,) = list(transaction.get(ref))
        if not interfered:
            interfered.append(True)
            ref.update({"n": firestore.Increment(10)})
        transaction.update(ref, {"n": snapshot.get("n") + 1})

    bump(client.transaction())
    assert ref.get().to_dict() == {"n": 11}


def test_documents_over_one_mebibyte_are_refused(col: firestore.CollectionReference) -> None:
    with pytest.raises(gexc.InvalidArgument, match="maximum allowed size"):
        col.document("big").set({"blob": b"\0" * 1_100_000})
    col.document("fits").set({"blob": b"\0" * 1_000_000})


def test_bulk_writer_uses_batch_write(col: firestore.CollectionReference) -> None:
    writer = col._client.bulk_writer()
    for i in range(30):
        writer.set(col.document(f"b{i:02d}"), {"i": i})
    writer.close()
    assert col.count().get()[0][0].value == 30


def test_document_rpcs_other_clients_use(
    service: RunningService, client: firestore.Client, col: firestore.CollectionReference
) -> None:
    gapic: FirestoreClient = client._firestore_api
    parent = f"projects/{client.project}/databases/(default)/documents"
    doc = gapic.create_document(
        request={
            "parent": parent,
            "collection_id": col.id,
            "document": {"fields": {"v": {"integer_value": 1}}},
        }
    )
    assert len(doc.name.rsplit("/", 1)[1]) == 20  # an automatic id
    with pytest.raises(gexc.AlreadyExists):
        gapic.create_document(
            request={
                "parent": parent,
                "collection_id": col.id,
                "document_id": doc.name.rsplit("/", 1)[1],
                "document": {},
            }
        )
    updated = gapic.update_document(
        request={
            "document": {"name": doc.name, "fields": {"w": {"string_value": "x"}}},
            "update_mask": {"field_paths": ["w"]},
        }
    )
    assert set(updated.fields) == {"v", "w"}
    fetched = gapic.get_document(request={"name": doc.name})
    assert fetched.fields["w"].string_value == "x"
    gapic.delete_document(request={"name": doc.name})
    with pytest.raises(gexc.NotFound):
        gapic.get_document(request={"name": doc.name})


def test_malformed_requests_are_invalid_arguments(client: firestore.Client) -> None:
    gapic: FirestoreClient = client._firestore_api
    with pytest.raises(gexc.InvalidArgument):
        gapic.get_document(request={"name": "projects/p/databases/(default)/documents/odd"})
    request = firestore_types.CommitRequest(
        database=f"projects/{client.project}/databases/(default)",
        writes=[{"update": document_types.Document(name="projects/other/x")}],
    )
    with pytest.raises(gexc.InvalidArgument):
        gapic.commit(request=request)


def test_commit_times_stay_increasing_across_a_restart(service: RunningService) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
        before = firestore.Client(project="clock").document("c/a").set({"v": 1}).update_time
        service.kill()
        service.port = 0
        service.start()
        patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
        fresh = firestore.Client(project="clock")
        after = fresh.document("c/a").set({"v": 2}).update_time
        assert after > before
        assert fresh.document("c/a").get().to_dict() == {"v": 2}
