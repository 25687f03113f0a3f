"""Real-time listeners, differentially: `on_snapshot` on a document, a collection, a query with
a limit and a collection group delivers the same snapshots (documents in order, changes with
their type and indexes) after the same writes, on our emulator and on Google's.

After each write the test waits, on each emulator, until the listener's latest snapshot holds
what a plain read of the same target returns (a write that changes nothing for the listener
passes at once); the event lists are compared at the end.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1 import FieldFilter
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
from tests.support.waiting import until

pytestmark = [pytest.mark.process, pytest.mark.e2e]

Step = tuple[str, str, Any]  # ("set" | "delete", document id, fields)


class Recorder:
    """An on_snapshot callback keeping every snapshot and the latest one's (id, update time)s."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.latest: set[Any] | None = None
        self._lock = threading.Lock()

    def __call__(self, docs: list[Any], changes: list[Any], read_time: Any) -> None:
        event = (
            snapshots(docs),
            [(c.type.name, c.document.id, c.old_index, c.new_index) for c in changes],
        )
        with self._lock:
            self.events.append(event)
            self.latest = _view(docs)


def _stamp(time: Any) -> tuple[int, int]:
    """An update time as (seconds, nanos), whether the client decoded it or not."""
    pb = time.timestamp_pb() if hasattr(time, "timestamp_pb") else time
    return int(pb.seconds), int(pb.nanos)


def _view(docs: Any) -> set[Any]:
    return {(d.id, _stamp(d.update_time)) for d in docs if d.exists}


def follow(
    target: Any,
    read: Callable[[], set[Any]],
    steps: list[Callable[[], Any]],
) -> list[Any]:
    """Listen to `target`, apply each step once the listener has caught up with the one before,
    and return the snapshots it delivered."""
    recorder = Recorder()
    watch = target.on_snapshot(recorder)
    try:
        for step in [*steps, None]:
            expected = read()

            def caught_up(expected: set[Any] = expected) -> bool:
                return recorder.latest == expected

            assert until(caught_up, timeout=10), (
                f"listener never caught up: {recorder.latest} != {expected}"
            )
            if step is not None:
                step()
        return recorder.events
    finally:
        watch.unsubscribe()


def _write(col: firestore.CollectionReference, step: Step) -> Callable[[], Any]:
    kind, doc_id, fields = step
    if kind == "delete":
        return lambda: col.document(doc_id).delete()
    return lambda: col.document(doc_id).set(fields)


SCRIPT: list[Step] = [
    ("set", "a", {"n": 1, "tag": "x"}),
    ("set", "b", {"n": 5, "tag": "y"}),
    ("set", "a", {"n": 1, "tag": "x"}),  # changes nothing
    ("set", "c", {"n": 3, "tag": "x"}),
    ("set", "a", {"n": 7, "tag": "y"}),
    ("set", "b", {"n": 0}),
    ("delete", "c", None),
    ("delete", "zz", None),  # deleting nothing
    ("set", "d", {"n": 4, "tag": "x"}),
]


def run_script(client: firestore.Client, root: str, target: str) -> list[Any]:
    col = client.collection(root)
    col.document("a").set({"n": 2, "tag": "x"})
    listened: Any
    if target == "document":
        listened = col.document("a")
        return follow(listened, lambda: _view([listened.get()]), [_write(col, s) for s in SCRIPT])
    if target == "collection":
        listened = col
    elif target == "query with a limit":
        listened = col.where(filter=FieldFilter("n", ">", 0)).order_by("n").limit(2)
    else:  # a collection group, under two parents
        listened = client.collection_group(root).where(filter=FieldFilter("tag", "==", "x"))
        other = client.collection(f"p{root}").document("p").collection(root)
        steps = [_write(col if i % 2 else other, s) for i, s in enumerate(SCRIPT)]
        return follow(listened, lambda: _view(listened.get()), steps)
    return follow(listened, lambda: _view(listened.get()), [_write(col, s) for s in SCRIPT])


@pytest.mark.parametrize("target", ["document", "collection", "query with a limit", "group"])
def test_listeners_see_the_same_snapshots(pair: Pair, target: str) -> None:
    root = f"l{uuid.uuid4().hex[:8]}"
    ours, google = pair.both(lambda c: run_script(c, root, target))
    assert ours == google
    assert ours[0] == "array" and len(ours[1]) >= 3  # the initial snapshot and some changes


steps = st.lists(
    st.tuples(st.sampled_from(["set", "set", "delete"]), st.sampled_from("abcd"), documents),
    min_size=1,
    max_size=4,
)


@differential
@given(
    initial=st.dictionaries(st.sampled_from("abcd"), documents, max_size=3),
    spec=queries(),
    unfiltered=st.booleans(),
    changes=steps,
)
def test_random_query_listeners_see_the_same_snapshots(
    pair: Pair, initial: dict[str, Any], spec: QuerySpec, unfiltered: bool, changes: list[Any]
) -> None:
    assume(not spec.limit_to_last)  # the client cannot listen to limit_to_last
    if unfiltered:  # random filters mostly match nothing: let half the queries see changes
        spec = dataclasses.replace(spec, where=None)
    # The client's watch sorts snapshots itself, by looking each explicit order field up in the
    # top level of the document: it fails (on any server) for __name__, nested fields and
    # fields a projection leaves out. Listen to what it can sort.
    top_level = tuple(o for o in spec.order if o[0] in ("a", "b"))
    if top_level != spec.order:
        spec = dataclasses.replace(spec, order=top_level, start=None, end=None)
    if spec.order or spec.where is not None:
        spec = dataclasses.replace(spec, select=None)
    root = f"l{uuid.uuid4().hex[:8]}"

    def run(client: firestore.Client) -> Any:
        col = client.collection(root)
        for doc_id, fields in initial.items():
            col.document(doc_id).set({k: build_value(v, client) for k, v in fields})
        query = build_query(spec, col)
        query.get()  # an invalid query fails here, alike (compared), not in the listener

        def write(kind: str, doc_id: str, fields: Any) -> Callable[[], Any]:
            if kind == "delete":
                return lambda: col.document(doc_id).delete()
            return lambda: col.document(doc_id).set({k: build_value(v, client) for k, v in fields})

        return follow(query, lambda: _view(query.get()), [write(*c) for c in changes])

    ours, google = pair.both(run)
    assert ours == google, f"{spec}\nours:   {ours}\ngoogle: {google}"


def test_a_listener_with_an_offset_follows_writes_before_its_window(pair: Pair) -> None:
    """Deleting or adding a document the offset skips moves the window (a regression: ours
    only looked again when a written document matched or was in the window)."""
    root = f"l{uuid.uuid4().hex[:8]}"

    def run(client: firestore.Client) -> list[Any]:
        col = client.collection(root)
        for name, n in (("a", 1), ("b", 2), ("c", 3)):
            col.document(name).set({"n": n})
        query = col.order_by("n").offset(1)
        steps = [
            lambda: col.document("a").delete(),  # skipped: b is skipped now
            lambda: col.document("z").set({"n": 0}),  # before the window: b comes back
            lambda: col.document("z").set({"n": 9}),  # moves behind: the window shifts again
        ]
        return follow(query, lambda: _view(query.get()), steps)

    ours, google = pair.both(run)
    assert ours == google
    assert len(ours[1]) == 4  # the first snapshot and one per write
