"""infra/firestore.indexes.json against the code: every field the writer puts in a chunk is either
one the query or streams function filters and orders by (indexed) or exempt from indexing."""

from __future__ import annotations

import json

from shared.telemetry.chunks import plan
from shared.telemetry.model import NormalizedMessage, Reading, Source
from tests.support.host import ROOT

# functions/query/series.py: range filters and order on first/last; functions/streams/feed.py:
# chunks received since a moment, in order
QUERIED = {"first", "last", "received"}


def test_chunk_fields_are_queried_or_exempt() -> None:
    config = json.loads((ROOT / "infra" / "firestore.indexes.json").read_text())
    # no composite index on chunks (others: tests/infra/test_composite_indexes.py)
    assert not [index for index in config["indexes"] if index["collectionGroup"] == "chunks"]
    exempt = {
        override["fieldPath"]
        for override in config["fieldOverrides"]
        if override["collectionGroup"] == "chunks" and override["indexes"] == []
    }
    message = NormalizedMessage("o", "d", Source("m", "http"), (Reading("s", 1, 1.0, "double"),))
    (chunk,) = plan(message, 2)
    assert set(chunk.data) == exempt | QUERIED
    assert not exempt & QUERIED
