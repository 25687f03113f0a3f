"""infra/firestore.indexes.json against the code: every field the writer puts in a chunk is either
one the query or streams function filters and orders by (indexed) or exempt from indexing; the
failure budgets' expiry field is the TTL field of their collection group."""

from __future__ import annotations

import json
from datetime import datetime

from shared.telemetry.chunks import plan
from shared.telemetry.model import NormalizedMessage, Reading, Source
from shared.throttle import FailureBudget
from tests.support.host import ROOT
from tests.support.memory_store import MemoryStore

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


def test_failure_budget_documents_have_a_ttl_policy() -> None:
    """The TTL policy names the collection group and field FailureBudget really writes (a
    timestamp: Firestore's TTL ignores any other type), exempt from indexing (a TTL field of
    ever-growing timestamps would be a hotspot)."""
    store = MemoryStore()
    budget = FailureBudget(store, "scope")
    budget.failed("key")
    path = budget.paths("key")[1]
    written = store.get(path)
    assert written is not None and isinstance(written.data["expires_at"], datetime)
    group = path.split("/")[-2]
    config = json.loads((ROOT / "infra" / "firestore.indexes.json").read_text())
    ttl = [o for o in config["fieldOverrides"] if o.get("ttl") is True]
    assert ttl == [
        {"collectionGroup": group, "fieldPath": "expires_at", "ttl": True, "indexes": []}
    ]
