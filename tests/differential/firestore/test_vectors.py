"""Vector search, differentially: `find_nearest` with each distance measure, a limit, a result
field and a threshold, alone or after a filter, returns the same documents in the same order
with the same distances on both emulators; bad stages are refused alike."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1 import FieldFilter
from google.cloud.firestore_v1.base_vector_query import DistanceMeasure
from google.cloud.firestore_v1.vector import Vector
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.firestore.compare import ONCE, Pair, snapshots
from tests.differential.firestore.settings import differential

pytestmark = [pytest.mark.process, pytest.mark.e2e]

components = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
vectors = st.lists(components, min_size=1, max_size=3).map(tuple)
stored = st.one_of(
    vectors.map(lambda v: ("vector", v)), st.sampled_from([("array", (1.0,)), ("str", "v")])
)
MEASURES = ["EUCLIDEAN", "COSINE", "DOT_PRODUCT"]


def _value(spec: tuple[str, Any]) -> Any:
    kind, payload = spec
    return (
        Vector(list(payload)) if kind == "vector" else list(payload) if kind == "array" else payload
    )


@differential
@given(
    docs=st.dictionaries(
        st.sampled_from("abcdef"), st.tuples(stored, st.integers(0, 3)), max_size=6
    ),
    query=vectors,
    measure=st.sampled_from(MEASURES),
    limit=st.integers(1, 4),
    threshold=st.none() | st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.5]),
    result_field=st.none() | st.sampled_from(["dist", "n"]),
    where=st.sampled_from(["", "n >= 1", "order by n desc"]),
)
def test_nearest_neighbours_answer_alike(
    pair: Pair,
    docs: dict[str, Any],
    query: tuple[float, ...],
    measure: str,
    limit: int,
    threshold: float | None,
    result_field: str | None,
    where: str,
) -> None:
    root = f"v{uuid.uuid4().hex[:8]}"

    def run(client: firestore.Client) -> Any:
        col = client.collection(root)
        if docs:
            batch = client.batch()
            for doc_id, (value, n) in docs.items():
                data = {"v": _value(value)} | ({"n": n} if n is not None else {})
                batch.set(col.document(doc_id), data)
            batch.commit()
        base: Any = col
        if where == "n >= 1":
            base = col.where(filter=FieldFilter("n", ">=", 1))
        elif where:
            base = col.order_by("n", direction=firestore.Query.DESCENDING)
        nearest = base.find_nearest(
            "v",
            Vector(list(query)),
            limit=limit,
            distance_measure=getattr(DistanceMeasure, measure),
            distance_result_field=result_field,
            distance_threshold=threshold,
        )
        return snapshots(nearest.get(**ONCE))

    ours, google = pair.both(run)
    assert ours == google, f"\nours:   {ours}\ngoogle: {google}"


@pytest.mark.parametrize(
    "stage",
    [
        {"limit": 0},
        {"limit": 1001},
        {"vector": []},
        {"slice": "limit"},
        {"slice": "offset"},
        {"slice": "cursor"},
    ],
    ids=["limit 0", "limit 1001", "empty vector", "with limit", "with offset", "with cursor"],
)
def test_bad_nearest_stages_are_refused_alike(pair: Pair, stage: dict[str, Any]) -> None:
    def run(client: firestore.Client) -> Any:
        base: Any = client.collection("vectors").order_by("n")
        if stage.get("slice") == "limit":
            base = base.limit(2)
        elif stage.get("slice") == "offset":
            base = base.offset(1)
        elif stage.get("slice") == "cursor":
            base = base.start_at({"n": 1})
        nearest = base.find_nearest(
            "v",
            Vector(stage.get("vector", [1.0])),
            limit=stage.get("limit", 3),
            distance_measure=DistanceMeasure.EUCLIDEAN,
        )
        return nearest.get()

    ours, google = pair.both(run)
    assert ours == google
    assert ours[0] in ("error", "client error")
