"""The query engine, differentially: random documents of every value type and random queries
(filters, composite filters, orderings, cursors, offsets, limits, projections) through the
official client must give the same documents in the same order, or the same error, on our
emulator and on Google's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.cloud import firestore
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.differential.firestore.compare import Pair, snapshots
from tests.differential.firestore.model import (
    QuerySpec,
    build_query,
    build_value,
    documents,
    queries,
)
from tests.differential.firestore.settings import differential

pytestmark = [pytest.mark.process, pytest.mark.e2e]

IDS = ["a", "b", "c", "d", "e", "f"]
corpora = st.dictionaries(st.sampled_from(IDS), documents, max_size=6)


def store(pair: Pair, docs: dict[str, Any]) -> str | None:
    """The documents, written in one batch to a fresh collection on both emulators (which must
    agree on whether they take them); the collection's name, or None when both refused."""
    name = f"q{uuid.uuid4().hex[:8]}"

    def write(client: firestore.Client) -> None:
        batch = client.batch()
        for doc_id, fields in docs.items():
            data = {key: build_value(value, client) for key, value in fields}
            batch.set(client.collection(name).document(doc_id), data)
        batch.commit()

    ours, google = pair.both(write)
    assert ours == google, f"writing {docs}\nours:   {ours}\ngoogle: {google}"
    return name if ours is None else None


@differential
@given(docs=corpora, specs=st.lists(queries(), min_size=1, max_size=3))
def test_queries_answer_alike(pair: Pair, docs: dict[str, Any], specs: list[QuerySpec]) -> None:
    name = store(pair, docs)
    assume(name is not None)
    for spec in specs:

        def run(client: firestore.Client, spec: QuerySpec = spec) -> list[Any]:
            return snapshots(build_query(spec, client.collection(str(name))).get())

        ours, google = pair.both(run)
        assert ours == google, f"{spec}\nours:   {ours}\ngoogle: {google}"
