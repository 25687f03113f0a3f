"""Hypothesis strategies for documents and queries of every Firestore value type, as plain data
that `build_*` turns into official-client objects for a given client (references need one)."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1 import And, FieldFilter, GeoPoint, Or
from google.cloud.firestore_v1.base_query import BaseQuery
from google.cloud.firestore_v1.vector import Vector
from hypothesis import strategies as st

__all__ = [
    "FIELDS",
    "IDS",
    "QuerySpec",
    "build_query",
    "build_value",
    "documents",
    "queries",
    "scalars",
    "values",
]

FIELDS = ["a", "b", "m.x"]
IDS = ["a", "b", "c", "d", "e", "f"]
_UTC = datetime.UTC

# Each value is ("kind", payload): built into a client object by `build_value`.
scalars = st.one_of(
    st.just(("null", None)),
    st.booleans().map(lambda b: ("bool", b)),
    st.sampled_from([0, 1, -1, 2, 3, 2**53 + 1, 2**63 - 1, -(2**63)]).map(lambda i: ("int", i)),
    st.sampled_from([0.0, -0.0, 1.0, 1.5, -2.5, 3.0, math.nan, math.inf, -math.inf, 1e-300]).map(
        lambda f: ("double", f)
    ),
    st.sampled_from(["", "a", "B", "ab", "é", "z", "😀", "\uffff", "a\x00"]).map(
        lambda s: ("str", s)
    ),
    st.sampled_from([b"", b"a", b"\x00", b"\xff\x00"]).map(lambda b: ("bytes", b)),
    st.sampled_from([0, 1, 1_000_000, -1, 1_700_000_000_123_456]).map(lambda us: ("time", us)),
    st.sampled_from(["c/a", "c/b", "d/a", "c/a/s/x"]).map(lambda p: ("ref", p)),
    st.sampled_from([(0.0, 0.0), (1.5, -2.0), (-90.0, 180.0)]).map(lambda g: ("geo", g)),
    st.lists(st.sampled_from([-1.0, 0.0, 0.5, 2.0]), min_size=1, max_size=3).map(
        lambda v: ("vector", tuple(v))
    ),
)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, max_size=3).map(lambda items: ("array", tuple(items))),
        st.dictionaries(st.sampled_from(["x", "y"]), inner, max_size=2).map(
            lambda d: ("map", tuple(sorted(d.items())))
        ),
    )


values = st.recursive(scalars, _containers, max_leaves=4)


def build_value(value: Any, client: firestore.Client) -> Any:
    kind, payload = value
    if kind in ("null", "bool", "int", "double", "str", "bytes"):
        return payload
    if kind == "time":
        return datetime.datetime(1970, 1, 1, tzinfo=_UTC) + datetime.timedelta(microseconds=payload)
    if kind == "ref":
        return client.document(payload)
    if kind == "geo":
        return GeoPoint(*payload)
    if kind == "vector":
        return Vector(list(payload))
    if kind == "array":
        return [build_value(v, client) for v in payload]
    if kind == "map":
        return {k: build_value(v, client) for k, v in payload}
    raise AssertionError(kind)


# A document: some of fields a, b and the map m (whose x the queries reach as m.x).
documents = st.dictionaries(
    st.sampled_from(["a", "b", "m"]),
    values,
    max_size=3,
).map(lambda d: tuple(sorted(d.items())))

_OPS = ["<", "<=", ">", ">=", "==", "!=", "in", "not-in", "array_contains", "array_contains_any"]
_LIST_OPS = {"in", "not-in", "array_contains_any"}


# document ids of the queried collection, for filters on __name__ ("id"), or other values
_names = st.sampled_from(IDS).map(lambda i: ("id", i)) | values


@st.composite
def _field_filter(draw: st.DrawFn) -> tuple[Any, ...]:
    op = draw(st.sampled_from(_OPS))
    path = draw(st.sampled_from([*FIELDS, "__name__"]))
    operands = _names if path == "__name__" else values
    if op in _LIST_OPS:
        operand: Any = ("list", tuple(draw(st.lists(operands, min_size=1, max_size=3))))
    else:
        operand = draw(operands)
    return ("field", path, op, operand)


filters = st.recursive(
    _field_filter(),
    lambda inner: st.tuples(
        st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=2)
    ).map(lambda t: (t[0], tuple(t[1]))),
    max_leaves=3,
)


@dataclass(frozen=True)
class QuerySpec:
    """A query as data: filters, orderings, cursors, slice and projection."""

    where: Any = None
    order: tuple[tuple[str, bool], ...] = ()
    start: tuple[bool, tuple[Any, ...]] | None = None  # (after, values)
    end: tuple[bool, tuple[Any, ...]] | None = None  # (before, values)
    limit: int | None = None
    limit_to_last: bool = False
    offset: int = 0
    select: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@st.composite
def queries(draw: st.DrawFn) -> QuerySpec:
    order = tuple(
        draw(
            st.lists(
                st.tuples(st.sampled_from([*FIELDS, "__name__"]), st.booleans()),
                max_size=2,
                unique_by=lambda o: o[0],
            )
        )
    )
    cursor_values = st.lists(values, min_size=1, max_size=max(1, len(order))).map(tuple)
    start = draw(st.none() | st.tuples(st.booleans(), cursor_values)) if order else None
    end = draw(st.none() | st.tuples(st.booleans(), cursor_values)) if order else None
    limit = draw(st.none() | st.integers(0, 4))
    return QuerySpec(
        where=draw(st.none() | filters),
        order=order,
        start=start,
        end=end,
        limit=limit,
        limit_to_last=bool(order) and limit is not None and draw(st.booleans()),
        offset=draw(st.sampled_from([0, 0, 1, 2])),
        select=draw(st.none() | st.sampled_from([("a",), ("m.x", "b"), ()])),
    )


def _operand(value: Any, collection: firestore.CollectionReference) -> Any:
    if value[0] == "id":
        return collection.document(value[1])
    return build_value(value, collection._client)


def _build_filter(spec: Any, collection: firestore.CollectionReference) -> Any:
    kind = spec[0]
    if kind == "field":
        _, path, op, operand = spec
        if operand[0] == "list":
            value: Any = [_operand(v, collection) for v in operand[1]]
        else:
            value = _operand(operand, collection)
        return FieldFilter(path, op, value)
    parts = [_build_filter(s, collection) for s in spec[1]]
    return And(parts) if kind == "and" else Or(parts)


def _cursor_values(
    raw: tuple[Any, ...], collection: firestore.CollectionReference, order: Any
) -> list[Any]:
    out = []
    for (path, _), value in zip(order, raw, strict=False):
        if path == "__name__" and value[0] == "str" and value[1] and "/" not in value[1]:
            out.append(collection.document(value[1]))  # a document id of the collection
        else:
            out.append(build_value(value, collection._client))
    return out


def build_query(
    spec: QuerySpec, collection: firestore.CollectionReference, group: bool = False
) -> BaseQuery:
    """The query on the collection, or on every collection of its id (`group`)."""
    client = collection._client
    query: Any = client.collection_group(collection.id) if group else collection._query()
    if spec.where is not None:
        query = query.where(filter=_build_filter(spec.where, collection))
    for path, descending in spec.order:
        direction = firestore.Query.DESCENDING if descending else firestore.Query.ASCENDING
        query = query.order_by(path, direction=direction)
    if spec.select is not None:
        query = query.select(list(spec.select))
    if spec.start is not None:
        after, raw = spec.start
        cursor = _cursor_values(raw, collection, spec.order)
        query = query.start_after(cursor) if after else query.start_at(cursor)
    if spec.end is not None:
        before, raw = spec.end
        cursor = _cursor_values(raw, collection, spec.order)
        query = query.end_before(cursor) if before else query.end_at(cursor)
    if spec.offset:
        query = query.offset(spec.offset)
    if spec.limit is not None:
        query = query.limit_to_last(spec.limit) if spec.limit_to_last else query.limit(spec.limit)
    return query  # type: ignore[no-any-return]
