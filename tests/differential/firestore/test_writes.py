"""Writes, differentially: preconditions answer with the same status, values Firestore cannot
store are refused alike, and field transforms over every kind of stored value leave the same
document on both emulators."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.vector import Vector
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.firestore.compare import Pair, normal
from tests.differential.firestore.model import build_value, scalars, values
from tests.differential.firestore.settings import differential

pytestmark = [pytest.mark.process, pytest.mark.e2e]

_US = datetime.timedelta(microseconds=1)


def preconditions(client: firestore.Client, root: str) -> dict[str, Any]:
    doc = client.collection(root).document("d")
    stored = doc.set({"n": 1}).update_time
    option = client.write_option
    later = stored + _US  # after the stored version, but already in the past
    future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    earlier = stored - _US
    missing = client.collection(root).document("missing")
    attempts: dict[str, Callable[[], Any]] = {
        "delete, base version later than stored": lambda: doc.delete(
            option=option(last_update_time=later)
        ),
        "delete, base version in the future": lambda: doc.delete(
            option=option(last_update_time=future)
        ),
        "update, base version in the future": lambda: doc.update(
            {"n": 2}, option=option(last_update_time=future)
        ),
        "update, base version earlier": lambda: doc.update(
            {"n": 2}, option=option(last_update_time=earlier)
        ),
        "delete missing, base version": lambda: missing.delete(
            option=option(last_update_time=earlier)
        ),
        "update missing": lambda: missing.update({"n": 1}),
        "create existing": lambda: doc.create({"n": 3}),
        "update, exact base version": lambda: (
            doc.update({"n": 4}, option=option(last_update_time=stored)) and None
        ),
    }
    out: dict[str, Any] = {}
    for name, attempt in attempts.items():
        try:
            attempt()
            out[name] = "ok"
        except Exception as error:  # compared, not handled
            out[name] = type(error).__name__
    out["after"] = normal(doc.get())
    return out


def test_preconditions_answer_alike(pair: Pair) -> None:
    """Issue 18: an update_time later than the stored version is INVALID_ARGUMENT (ours said
    FAILED_PRECONDITION); a missing document with one is FAILED_PRECONDITION (ours NOT_FOUND)."""
    root = f"w{uuid.uuid4().hex[:8]}"
    ours, google = pair.both(lambda c: preconditions(c, root))
    assert ours == google
    assert dict(ours[1])["delete, base version in the future"] == "InvalidArgument"
    assert dict(ours[1])["delete missing, base version"] == "FailedPrecondition"


@pytest.mark.parametrize(
    "data",
    [
        {"v": Vector([])},
        {"a": [[1]]},
        {"a": [Vector([1.0])]},
        {"m": {"deep": [1, {"v": Vector([])}]}},
        {"ok": [{"v": Vector([1.0])}], "fine": {"v": Vector([2.0, 3.0])}},
    ],
    ids=["empty vector", "array in array", "vector in array", "deep empty vector", "allowed"],
)
def test_values_firestore_cannot_store_are_refused_alike(pair: Pair, data: dict[str, Any]) -> None:
    root = f"w{uuid.uuid4().hex[:8]}"
    ours, google = pair.both(lambda c: c.collection(root).document("d").set(data) and None)
    assert ours == google


def _transform(kind: str, operand: Any, client: firestore.Client) -> Any:
    if kind == "increment":
        return firestore.Increment(build_value(operand, client))
    if kind == "maximum":
        return firestore.Maximum(build_value(operand, client))
    if kind == "minimum":
        return firestore.Minimum(build_value(operand, client))
    items = [build_value(v, client) for v in operand]
    return firestore.ArrayUnion(items) if kind == "union" else firestore.ArrayRemove(items)


numeric = st.sampled_from(
    [("int", 1), ("int", -3), ("int", 2**63 - 1), ("double", 0.5), ("double", float("nan")),
     ("double", -0.0), ("double", float("inf"))]
)  # fmt: skip
transforms = st.one_of(
    st.tuples(st.sampled_from(["increment", "maximum", "minimum"]), numeric),
    st.tuples(st.sampled_from(["union", "remove"]), st.lists(scalars, min_size=1, max_size=3)),
)


@differential
@given(start=st.none() | values, transform=transforms, merge=st.booleans())
def test_field_transforms_leave_the_same_document(
    pair: Pair, start: Any, transform: tuple[str, Any], merge: bool
) -> None:
    root = f"t{uuid.uuid4().hex[:8]}"

    def run(client: firestore.Client) -> Any:
        doc = client.collection(root).document("d")
        if start is not None:
            doc.set({"f": build_value(start, client), "g": 1})
        kind, operand = transform
        change = {"f": _transform(kind, operand, client)}
        doc.set(change, merge=True) if merge else doc.update(change)
        return doc.get()

    ours, google = pair.both(run)
    assert ours == google, f"{start} {transform}\nours:   {ours}\ngoogle: {google}"
