"""StructuredQuery execution: selection, filters, implicit and explicit order, cursors, projection.

Semantics follow Firestore's documentation: a filter only matches values of its operand's type
class (numbers compare across int and double), `!=` and `not-in` also need the field to exist and
not be null, ordering by a field excludes documents without it, inequality fields not named in
`order_by` are ordered implicitly (ascending, by field path), and `__name__` always breaks ties in
the direction of the last ordering.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import invalid, unimplemented
from .paths import parse_field_path, parse_parent
from .storage import Database, Range, Stored
from .values import (
    NULL,
    Document,
    Value,
    get_field,
    is_nan,
    project,
    sort_key,
    timestamp_from_us,
    type_rank,
)

__all__ = ["Plan", "plan", "run", "to_document"]

NAME = ("__name__",)

# google.firestore.v1.StructuredQuery enums
_LT, _LE, _GT, _GE, _EQ, _NE, _CONTAINS, _IN, _CONTAINS_ANY, _NOT_IN = range(1, 11)
_IS_NAN, _IS_NULL, _IS_NOT_NAN, _IS_NOT_NULL = 2, 3, 4, 5
_AND, _OR = 1, 2
_ASCENDING, _DESCENDING = 1, 2
_INEQUALITIES = {_LT, _LE, _GT, _GE, _NE, _NOT_IN}

Predicate = Callable[[Stored], bool]


def _value_at(doc: Stored, path: tuple[str, ...]) -> Any | None:
    if path == NAME:
        return Value(reference_value=doc.name)
    return get_field(doc.data.fields, path)


def _field_filter(f: Any) -> tuple[Predicate, set[tuple[str, ...]]]:
    path = parse_field_path(f.field.field_path)
    op = f.op
    operand = f.value
    inequality = {path} if op in _INEQUALITIES else set()

    if op in (_IN, _NOT_IN, _CONTAINS_ANY):
        if operand.WhichOneof("value_type") != "array_value":
            raise invalid(f"'{_OP_NAMES.get(op, op)}' needs an array value")
        keys = [sort_key(v) for v in operand.array_value.values]
        if op == _IN:
            return (lambda d: (v := _value_at(d, path)) is not None and sort_key(v) in keys), set()
        if op == _NOT_IN:
            return (
                lambda d: (
                    (v := _value_at(d, path)) is not None
                    and type_rank(v) != NULL
                    and sort_key(v) not in keys
                )
            ), inequality

        def contains_any(d: Stored) -> bool:
            v = _value_at(d, path)
            if v is None or v.WhichOneof("value_type") != "array_value":
                return False
            return any(sort_key(e) in keys for e in v.array_value.values)

        return contains_any, set()

    key = sort_key(operand)
    rank = key[0]
    if op == _EQ:
        return (lambda d: (v := _value_at(d, path)) is not None and sort_key(v) == key), set()
    if op == _NE:
        return (
            lambda d: (
                (v := _value_at(d, path)) is not None
                and type_rank(v) != NULL
                and sort_key(v) != key
            )
        ), inequality
    if op == _CONTAINS:

        def contains(d: Stored) -> bool:
            v = _value_at(d, path)
            if v is None or v.WhichOneof("value_type") != "array_value":
                return False
            return any(sort_key(e) == key for e in v.array_value.values)

        return contains, set()
    if op in (_LT, _LE, _GT, _GE):
        if is_nan(operand) or rank == NULL:
            return (lambda d: False), inequality
        comparisons: dict[int, Callable[[tuple[Any, ...]], bool]] = {
            _LT: lambda a: a < key,
            _LE: lambda a: a <= key,
            _GT: lambda a: a > key,
            _GE: lambda a: a >= key,
        }
        compare = comparisons[op]

        def ranged(d: Stored) -> bool:
            v = _value_at(d, path)
            if v is None or is_nan(v):
                return False
            k = sort_key(v)
            return bool(k[0] == rank and compare(k))

        return ranged, inequality
    raise invalid(f"unsupported field filter operator {op}")


_OP_NAMES = {_IN: "in", _NOT_IN: "not-in", _CONTAINS_ANY: "array-contains-any"}


def _unary_filter(f: Any) -> tuple[Predicate, set[tuple[str, ...]]]:
    path = parse_field_path(f.field.field_path)
    op = f.op
    if op == _IS_NAN:
        return (lambda d: (v := _value_at(d, path)) is not None and is_nan(v)), set()
    if op == _IS_NULL:
        return (lambda d: (v := _value_at(d, path)) is not None and type_rank(v) == NULL), set()
    if op == _IS_NOT_NAN:
        return (lambda d: (v := _value_at(d, path)) is not None and not is_nan(v)), {path}
    if op == _IS_NOT_NULL:
        return (lambda d: (v := _value_at(d, path)) is not None and type_rank(v) != NULL), {path}
    raise invalid(f"unsupported unary filter operator {op}")


def _filter(f: Any) -> tuple[Predicate, set[tuple[str, ...]]]:
    kind = f.WhichOneof("filter_type")
    if kind == "field_filter":
        return _field_filter(f.field_filter)
    if kind == "unary_filter":
        return _unary_filter(f.unary_filter)
    if kind == "composite_filter":
        parts = [_filter(sub) for sub in f.composite_filter.filters]
        if not parts:
            return (lambda d: True), set()
        predicates = [p for p, _ in parts]
        fields: set[tuple[str, ...]] = set().union(*(fields for _, fields in parts))
        if f.composite_filter.op == _OR:
            return (lambda d: any(p(d) for p in predicates)), fields
        if f.composite_filter.op == _AND:
            return (lambda d: all(p(d) for p in predicates)), fields
        raise invalid(f"unsupported composite filter operator {f.composite_filter.op}")
    raise invalid("empty filter")


@dataclass(slots=True)
class Plan:
    """A validated query: where to look, what matches, in which order, and which slice."""

    parent: str
    collection: str
    all_descendants: bool
    predicate: Predicate | None
    orders: list[tuple[tuple[str, ...], bool]]  # (field path, descending)
    start: tuple[list[Any], bool] | None  # (cursor sort keys, before)
    end: tuple[list[Any], bool] | None
    offset: int
    limit: int | None
    projection: list[tuple[str, ...]] | None
    # numeric bounds the filters put on one top-level field: only documents in that range can
    # match, so candidates come from the numeric index; `ordered` when they come in final order
    bounds: Range | None = None
    ordered: bool = False


def _numeric_filters(f: Any) -> Iterable[Any]:
    """The field filters that every match must pass: `f` itself or its AND-ed parts."""
    kind = f.WhichOneof("filter_type")
    if kind == "field_filter":
        yield f.field_filter
    elif kind == "composite_filter" and f.composite_filter.op == _AND:
        for sub in f.composite_filter.filters:
            yield from _numeric_filters(sub)


def _tighter(bound: float | int | None, inclusive: bool, value: float | int, strict: bool,
             *, low: bool) -> tuple[float | int, bool]:  # fmt: skip
    """The tighter of two lower (or upper) bounds."""
    if bound is None:
        return value, not strict
    if value == bound:
        return bound, inclusive and not strict
    beyond = value > bound if low else value < bound
    return (value, not strict) if beyond else (bound, inclusive)


def _bounds(where: Any) -> dict[str, Range]:
    """Per top-level field, the numeric range its `<`, `<=`, `>`, `>=` and `==` filters allow."""
    ranges: dict[str, Range] = {}
    for f in _numeric_filters(where):
        path = parse_field_path(f.field.field_path)
        kind = f.value.WhichOneof("value_type")
        if len(path) != 1 or path == NAME or f.op not in (_LT, _LE, _GT, _GE, _EQ):
            continue
        if kind == "integer_value":
            value: float | int = f.value.integer_value
        elif kind == "double_value" and not is_nan(f.value):
            value = f.value.double_value
        else:
            continue
        r = ranges.get(path[0], Range(path[0]))
        low, low_inclusive, high, high_inclusive = r.low, r.low_inclusive, r.high, r.high_inclusive
        if f.op in (_GT, _GE, _EQ):
            low, low_inclusive = _tighter(low, low_inclusive, value, f.op == _GT, low=True)
        if f.op in (_LT, _LE, _EQ):
            high, high_inclusive = _tighter(high, high_inclusive, value, f.op == _LT, low=False)
        ranges[path[0]] = Range(path[0], low, low_inclusive, high, high_inclusive)
    return ranges


def _index_plan(
    where: Any | None, orders: list[tuple[tuple[str, ...], bool]]
) -> tuple[Range | None, bool]:
    """The bounds to read candidates by (those of the first ordering's field if it has any),
    and whether the index yields them in the query's final order."""
    ranges = _bounds(where) if where is not None else {}
    if not ranges:
        return None, False
    first, descending = orders[0]
    if len(first) == 1 and first[0] in ranges:
        same_way = [desc for _, desc in orders] == [descending, descending]
        return ranges[first[0]], len(orders) == 2 and orders[1][0] == NAME and same_way
    return next(iter(ranges.values())), False


def plan(parent: str, query: Any) -> Plan:
    """Validate a StructuredQuery under `parent` (the documents root or a document name)."""
    parse_parent(parent)
    if query.HasField("find_nearest"):
        raise unimplemented("find_nearest (vector search) is not supported by this emulator")
    if len(query.from_) != 1:
        raise invalid("a query needs exactly one collection selector in 'from'")
    selector = query.from_[0]
    if not selector.collection_id and not selector.all_descendants:
        raise invalid("a collection selector needs a collection_id")

    predicate: Predicate | None = None
    inequalities: set[tuple[str, ...]] = set()
    if query.HasField("where"):
        predicate, inequalities = _filter(query.where)

    orders: list[tuple[tuple[str, ...], bool]] = []
    for order in query.order_by:
        path = parse_field_path(order.field.field_path)
        orders.append((path, order.direction == _DESCENDING))
    named = {path for path, _ in orders}
    for path in sorted(inequalities - named - {NAME}):
        orders.append((path, False))
    if NAME not in {path for path, _ in orders}:
        orders.append((NAME, orders[-1][1] if orders else False))

    def cursor(c: Any) -> tuple[list[Any], bool] | None:
        if not c.values:
            return None
        if len(c.values) > len(orders):
            raise invalid("a cursor has more values than the query has orderings")
        return [sort_key(v) for v in c.values], c.before

    offset = int(query.offset)
    if offset < 0:
        raise invalid("offset must not be negative")
    limit = int(query.limit.value) if query.HasField("limit") else None
    if limit is not None and limit < 0:
        raise invalid("limit must not be negative")
    projection = None
    if query.HasField("select") and query.select.fields:
        projection = [
            path
            for path in (parse_field_path(f.field_path) for f in query.select.fields)
            if path != NAME
        ]
    bounds, ordered = _index_plan(query.where if query.HasField("where") else None, orders)
    return Plan(
        parent=parent,
        collection=selector.collection_id,
        all_descendants=selector.all_descendants,
        predicate=predicate,
        orders=orders,
        start=cursor(query.start_at) if query.HasField("start_at") else None,
        end=cursor(query.end_at) if query.HasField("end_at") else None,
        offset=offset,
        limit=limit,
        projection=projection,
        bounds=None if selector.all_descendants else bounds,
        ordered=ordered and not selector.all_descendants,
    )


def _compare_keys(a: list[Any], b: list[Any], descending: list[bool]) -> int:
    for x, y, desc in zip(a, b, descending, strict=False):
        if x == y:
            continue
        result = -1 if x < y else 1
        return -result if desc else result
    return 0


def _order_key(doc: Stored, orders: list[tuple[tuple[str, ...], bool]]) -> list[Any] | None:
    keys = []
    for path, _ in orders:
        if path == NAME:
            keys.append(sort_key(Value(reference_value=doc.name)))
            continue
        value = get_field(doc.data.fields, path)
        if value is None:
            return None  # ordering by a field excludes documents without it
        keys.append(sort_key(value))
    return keys


def candidates(db: Database, p: Plan) -> tuple[Iterable[Stored], bool]:
    """The documents that may match, and whether they come in the query's final order."""
    if p.all_descendants:
        return db.descendants(p.parent, p.collection or None), False
    if p.bounds is not None and db.indexed(p.collection, p.bounds.field):
        descending = p.orders[0][1] if p.ordered else False
        return db.in_range(p.parent, p.collection, p.bounds, descending=descending), p.ordered
    return db.collection(p.parent, p.collection), False


def run(db: Database, p: Plan) -> list[Stored]:
    """The documents the plan selects, in order, after cursors, offset and limit."""
    descending = [desc for _, desc in p.orders]
    keyed: list[tuple[list[Any], Stored]] = []
    docs, ordered = candidates(db, p)
    enough = p.offset + p.limit if ordered and p.limit is not None else None
    for doc in docs:
        if enough is not None and len(keyed) >= enough:
            break  # candidates come in final order: the rest would be cut off
        if p.predicate is not None and not p.predicate(doc):
            continue
        key = _order_key(doc, p.orders)
        if key is None:
            continue
        if p.start is not None:
            values, before = p.start
            c = _compare_keys(key, values, descending)
            if c < 0 or (c == 0 and not before):
                continue
        if p.end is not None:
            values, before = p.end
            c = _compare_keys(key, values, descending)
            if c > 0 or (c == 0 and before):
                continue
        keyed.append((key, doc))

    def by_key(a: tuple[list[Any], Stored], b: tuple[list[Any], Stored]) -> int:
        return _compare_keys(a[0], b[0], descending)

    keyed.sort(key=functools.cmp_to_key(by_key))
    docs = [doc for _, doc in keyed][p.offset :]
    if p.limit is not None:
        docs = docs[: p.limit]
    return docs


def to_document(doc: Stored, mask: Iterable[tuple[str, ...]] | None = None) -> Any:
    """The wire Document of a stored one, with only the masked field paths when a mask is given."""
    out = Document(
        name=doc.name,
        create_time=timestamp_from_us(doc.create_us),
        update_time=timestamp_from_us(doc.update_us),
    )
    if mask is None:
        out.fields.MergeFrom(doc.data.fields)
    else:
        project(doc.data.fields, mask, out.fields)
    return out
