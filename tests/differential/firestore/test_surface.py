"""The rest of the RPC surface, differentially: what Google's emulator leaves out (PartitionQuery)
ours refuses alike, query explain options are taken and answered without metrics alike, and the
BulkWriter (BatchWrite) and collection listing answer alike."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.query_profile import ExplainOptions

from tests.differential.firestore.compare import Pair, snapshots

pytestmark = [pytest.mark.process, pytest.mark.e2e]


def test_partition_query_is_unimplemented_alike(pair: Pair) -> None:
    ours, google = pair.both(lambda c: list(c.collection_group("g").get_partitions(2)))
    assert ours == google == ("error", "UNIMPLEMENTED")


def test_explain_options_are_answered_without_metrics_alike(pair: Pair) -> None:
    root = f"x{uuid.uuid4().hex[:8]}"

    def run(client: firestore.Client) -> Any:
        client.collection(root).document("a").set({"n": 1})
        results = client.collection(root).get(explain_options=ExplainOptions(analyze=True))
        return snapshots(results)

    ours, google = pair.both(run)
    assert ours == google


def test_bulk_writer_and_listings_answer_alike(pair: Pair) -> None:
    root = f"x{uuid.uuid4().hex[:8]}"

    def run(client: firestore.Client) -> Any:
        writer = client.bulk_writer()
        parent = client.collection(root).document("p")
        for i in range(5):
            writer.set(parent.collection(f"s{i % 2}").document(f"d{i}"), {"i": i})
        writer.close()
        return (
            sorted(c.id for c in parent.collections()),
            sorted(d.id for d in parent.collection("s0").list_documents()),
            snapshots(parent.collection("s0").order_by("i").get()),
            [d.id for d in client.collection(root).list_documents()],  # p itself is missing
        )

    ours, google = pair.both(run)
    assert ours == google
