"""A corpus of random documents, written alike to both emulators, for the query suites."""

from __future__ import annotations

import uuid
from typing import Any

from google.cloud import firestore
from hypothesis import strategies as st

from tests.differential.firestore.compare import Pair
from tests.differential.firestore.model import IDS, build_value, documents

__all__ = ["corpora", "store"]

corpora = st.dictionaries(st.sampled_from(IDS), documents, max_size=6)


def store(pair: Pair, docs: dict[str, Any], nested: dict[str, Any] | None = None) -> str | None:
    """The documents, written in one batch to a fresh collection on both emulators (which must
    agree on whether they take them), and `nested` ones to a collection of the same id under a
    document; the collection's name, or None when both refused."""
    name = f"q{uuid.uuid4().hex[:8]}"

    def write(client: firestore.Client) -> None:
        batch = client.batch()
        under = client.collection("parents").document("p").collection(name)
        for collection, written in ((client.collection(name), docs), (under, nested or {})):
            for doc_id, fields in written.items():
                data = {key: build_value(value, client) for key, value in fields}
                batch.set(collection.document(doc_id), data)
        batch.commit()

    ours, google = pair.both(write)
    assert ours == google, f"writing {docs}\nours:   {ours}\ngoogle: {google}"
    return name if ours is None else None
