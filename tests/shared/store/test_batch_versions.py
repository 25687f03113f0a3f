"""Optimistic batches on every store adapter (the in-memory fake and Firestore): an `update`
guarded by `if_version` applies with the rest of its batch only when the document is still at
that version, and `commit` tells the version it left."""

from __future__ import annotations

import pytest

from shared.errors import Conflict, PreconditionFailed
from shared.store import Store


def test_a_guarded_batch_applies_whole_and_returns_the_new_version(store: Store, org: str) -> None:
    state, chunk = f"orgs/{org}/things/state", f"orgs/{org}/things/chunk-1"
    batch = store.batch()
    batch.set(chunk, {"n": 1})
    batch.create(state, {"v": 1})
    first = batch.commit()
    document = store.get(state)
    assert document is not None and first == document.update_time
    batch = store.batch()
    batch.set(f"orgs/{org}/things/chunk-2", {"n": 2})
    batch.update(state, {"v": 2}, if_version=first)
    second = batch.commit()
    document = store.get(state)
    assert document is not None and document.data == {"v": 2} and second == document.update_time
    assert second is not None and first is not None and second > first


def test_a_stale_version_or_a_second_create_applies_nothing(store: Store, org: str) -> None:
    state, chunk = f"orgs/{org}/things/state", f"orgs/{org}/things/chunk-3"
    store.create(state, {"v": 1})
    old = store.get(state)
    assert old is not None
    store.update(state, {"v": 2})
    batch = store.batch()
    batch.set(chunk, {"n": 3})
    batch.update(state, {"v": 3}, if_version=old.update_time)
    with pytest.raises(PreconditionFailed):
        batch.commit()
    batch = store.batch()
    batch.set(chunk, {"n": 3})
    batch.create(state, {"v": 3})
    with pytest.raises(Conflict):
        batch.commit()
    assert store.get(chunk) is None
    current = store.get(state)
    assert current is not None and current.data == {"v": 2}
    assert store.batch().commit() is None
