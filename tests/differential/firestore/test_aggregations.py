"""Aggregations, differentially: count, sum and avg over random queries give the same values
(types included: an integer sum is not a double) or the same error on both emulators; and the
wrong answers issue 18 found, each pinned by an example."""

from __future__ import annotations

from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1 import FieldFilter
from google.cloud.firestore_v1.aggregation import AggregationQuery
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.differential.firestore.compare import ONCE, Pair, normal
from tests.differential.firestore.corpus import corpora, store
from tests.differential.firestore.model import FIELDS, QuerySpec, build_query, queries
from tests.differential.firestore.settings import differential

pytestmark = [pytest.mark.process, pytest.mark.e2e]

aggregations = st.lists(
    st.tuples(st.sampled_from(["count", "sum", "avg"]), st.sampled_from(FIELDS)),
    min_size=1,
    max_size=3,
)


def aggregate(query: Any, wanted: list[tuple[str, str]]) -> Any:
    """The results of the aggregations (aliased a0, a1...) over the query, by alias."""
    aggregation = AggregationQuery(query)
    for i, (kind, path) in enumerate(wanted):
        if kind == "count":
            aggregation.count(alias=f"a{i}")
        else:
            getattr(aggregation, kind)(path, alias=f"a{i}")
    (results,) = aggregation.get(**ONCE)
    return {r.alias: r.value for r in results}


@differential
@given(docs=corpora, spec=queries(), wanted=aggregations)
def test_aggregations_answer_alike(
    pair: Pair, docs: dict[str, Any], spec: QuerySpec, wanted: list[tuple[str, str]]
) -> None:
    name = store(pair, docs)
    assume(name is not None)
    assume(not spec.limit_to_last)  # the client cannot aggregate a limit_to_last query

    def run(client: firestore.Client) -> Any:
        return aggregate(build_query(spec, client.collection(str(name))), wanted)

    ours, google = pair.both(run)
    assert ours == google, f"{spec} {wanted}\nours:   {ours}\ngoogle: {google}"


def _fill(pair: Pair, rows: dict[str, dict[str, Any]]) -> str:
    name = store(
        pair, {k: tuple((f, ("int", v)) for f, v in row.items()) for k, row in rows.items()}
    )
    assert name is not None
    return name


def test_sum_and_avg_over_a_limit_take_the_smallest_values(pair: Pair) -> None:
    """Issue 18: with 5,4,3,2,1 and limit(2), Google sums 1+2 (the query ordered by the field),
    not the first two documents by name."""
    name = _fill(pair, {d: {"v": v} for d, v in zip("abcde", [5, 4, 3, 2, 1], strict=True)})
    ours, google = pair.both(
        lambda c: aggregate(c.collection(name).limit(2), [("sum", "v"), ("avg", "v")])
    )
    assert ours == google == normal({"a0": 3, "a1": 1.5})


def test_aggregating_a_field_leaves_out_documents_without_it(pair: Pair) -> None:
    name = _fill(pair, {"a": {"v": 1, "w": 2}, "b": {"w": 5}, "c": {"v": 3}})
    ours, google = pair.both(
        lambda c: aggregate(c.collection(name).limit(10), [("count", ""), ("sum", "w")])
    )
    assert ours == google == normal({"a0": 2, "a1": 7})  # c has no w: not counted


def test_aggregated_fields_follow_the_last_explicit_direction(pair: Pair) -> None:
    name = _fill(pair, {"b": {"w": 2, "v": 4}, "i": {"w": 2, "v": 7}, "j": {"w": 2, "v": 3}})

    def total(client: firestore.Client) -> Any:
        query = (
            client.collection(name)
            .where(filter=FieldFilter("w", "==", 2))
            .order_by("w", direction=firestore.Query.DESCENDING)
            .limit(2)
        )
        return aggregate(query, [("sum", "v")])

    ours, google = pair.both(total)
    assert ours == google == normal({"a0": 11})


def test_aggregating_after_the_name_ordering_is_refused(pair: Pair) -> None:
    name = _fill(pair, {"a": {"v": 1}})
    ours, google = pair.both(
        lambda c: aggregate(c.collection(name).order_by("__name__").limit(1), [("sum", "v")])
    )
    assert ours == google == ("error", "INVALID_ARGUMENT")


def test_duplicate_aliases_and_no_aggregations_are_refused(pair: Pair) -> None:
    """Issue 18. (Six aggregations, over Firestore's limit of five, are INVALID_ARGUMENT on ours
    and UNKNOWN, an internal error, on Google's emulator: not compared.)"""
    name = _fill(pair, {"a": {"v": 1}})

    def duplicate(client: firestore.Client) -> Any:
        aggregation = AggregationQuery(client.collection(name)._query())
        aggregation.count(alias="n")
        aggregation.sum("v", alias="n")
        return aggregation.get()

    def empty(client: firestore.Client) -> Any:
        return AggregationQuery(client.collection(name)._query()).get()

    for call in (duplicate, empty):
        ours, google = pair.both(call)
        assert ours == google == ("error", "INVALID_ARGUMENT"), call.__name__
