"""The query engine, differentially: random documents of every value type and random queries
(filters, composite filters, orderings, cursors, offsets, limits, projections) through the
official client must give the same documents in the same order, or the same error, on our
emulator and on Google's."""

from __future__ import annotations

from typing import Any

import pytest
from google.cloud import firestore
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.differential.firestore.compare import ONCE, Pair, snapshots
from tests.differential.firestore.corpus import corpora, store
from tests.differential.firestore.model import IDS, QuerySpec, build_query, documents, queries
from tests.differential.firestore.settings import differential

pytestmark = [pytest.mark.process, pytest.mark.e2e]


@differential
@given(docs=corpora, specs=st.lists(queries(), min_size=1, max_size=3))
def test_queries_answer_alike(pair: Pair, docs: dict[str, Any], specs: list[QuerySpec]) -> None:
    name = store(pair, docs)
    assume(name is not None)
    for spec in specs:

        def run(client: firestore.Client, spec: QuerySpec = spec) -> list[Any]:
            return snapshots(build_query(spec, client.collection(str(name))).get(**ONCE))

        ours, google = pair.both(run)
        assert ours == google, f"{spec}\nours:   {ours}\ngoogle: {google}"


@differential
@given(
    docs=corpora,
    nested=st.dictionaries(st.sampled_from(IDS), documents, max_size=3),
    spec=queries(),
)
def test_collection_group_queries_answer_alike(
    pair: Pair, docs: dict[str, Any], nested: dict[str, Any], spec: QuerySpec
) -> None:
    name = store(pair, docs, nested)
    assume(name is not None)

    def run(client: firestore.Client) -> list[Any]:
        return snapshots(build_query(spec, client.collection(str(name)), group=True).get(**ONCE))

    ours, google = pair.both(run)
    assert ours == google, f"{spec}\nours:   {ours}\ngoogle: {google}"
