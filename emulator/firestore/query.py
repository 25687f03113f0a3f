"""StructuredQuery execution: selection, filters, implicit and explicit order, cursors, slices,
projection and `find_nearest`.

Ordering by a field excludes documents without it; inequality fields not named in `order_by` are
ordered implicitly (by field path, in the direction of the last explicit ordering, ascending
without one); an aggregation's `sum`/`avg` fields are ordered the same way after them (so
`limit(k).sum(f)` adds up the k smallest values of f, as Google's emulator does); `__name__`
always breaks ties in the direction of the last ordering.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import failed_precondition, invalid
from .filters import AND, NAME, Predicate, compile_filter
from .paths import parse_field_path, parse_parent
from .storage import Database, Range, Stored
from .values import (
    Document,
    Value,
    check_references,
    get_field,
    is_nan,
    project,
    sort_key,
    timestamp_from_us,
)
from .vectors import Nearest, nearest, parse_nearest

__all__ = ["NAME", "Plan", "plan", "run", "selects", "to_document"]

_ASCENDING, _DESCENDING = 1, 2
_LT, _LE, _GT, _GE, _EQ = range(1, 6)
Path = tuple[str, ...]


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
    nearest: Nearest | None = None


def _numeric_filters(f: Any) -> Iterable[Any]:
    """The field filters that every match must pass: `f` itself or its AND-ed parts."""
    kind = f.WhichOneof("filter_type")
    if kind == "field_filter":
        yield f.field_filter
    elif kind == "composite_filter" and f.composite_filter.op == AND:
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


def _orders(
    query: Any, inequalities: set[Path], aggregated: Sequence[Path]
) -> tuple[list[tuple[Path, bool]], list[Path]]:
    """Explicit orderings, then inequality fields, then aggregated fields (each by field path,
    in the last explicit direction), then `__name__`; and the aggregated fields that would come
    after `__name__` (ordered by, or bounded by an inequality), which Firestore refuses."""
    orders: list[tuple[Path, bool]] = []
    for order in query.order_by:
        path = parse_field_path(order.field.field_path)
        orders.append((path, order.direction == _DESCENDING))
    direction = orders[-1][1] if orders else False
    named = {path for path, _ in orders}
    for path in sorted(inequalities - named - {NAME}):
        orders.append((path, direction))
    named |= inequalities
    missing = sorted(set(aggregated) - named)
    paths = [path for path, _ in orders]
    if NAME in paths and paths.index(NAME) < len(paths) - 1:
        raise invalid("order by clause cannot contain more fields after the key")
    after_key = missing if NAME in named else []
    if not after_key:
        orders.extend((path, direction) for path in missing)
    if NAME not in paths:
        orders.append((NAME, orders[-1][1] if orders else False))
    return orders, after_key


def plan(parent: str, query: Any, aggregated: Sequence[Path] = ()) -> Plan:
    """Validate a StructuredQuery under `parent` (the documents root or a document name);
    `aggregated`: the fields an aggregation over it sums or averages."""
    parse_parent(parent)
    if len(query.from_) != 1:
        raise invalid("a query needs exactly one collection selector in 'from'")
    selector = query.from_[0]
    if not selector.collection_id and not selector.all_descendants:
        raise invalid("a collection selector needs a collection_id")

    predicate: Predicate | None = None
    inequalities: set[Path] = set()
    filtered: set[Path] = set()
    if query.HasField("where"):
        compiled = compile_filter(query.where)
        predicate, inequalities = compiled.predicate, compiled.inequalities
        filtered = compiled.fields
    orders, after_key = _orders(query, inequalities, aggregated)

    def cursor(c: Any) -> tuple[list[Any], bool] | None:
        if not c.values:
            return None
        if len(c.values) > len(orders):
            raise invalid("a cursor has more values than the query has orderings")
        for (path, _), value in zip(orders, c.values, strict=False):
            if path == NAME and value.WhichOneof("value_type") != "reference_value":
                raise invalid("Cursor __key__ value is not a document reference.")
            check_references(value)
        return [sort_key(v) for v in c.values], c.before

    offset = int(query.offset)
    if offset < 0:
        raise invalid("offset must not be negative")
    limit = int(query.limit.value) if query.HasField("limit") else None
    if limit is not None and limit < 0:
        raise invalid("limit must not be negative")
    stage = None
    if query.HasField("find_nearest"):
        if limit is not None:
            raise invalid("A query limit cannot be used with FindNearest")
        if offset:
            raise invalid("A query offset cannot be used with FindNearest")
        if query.HasField("start_at") or query.HasField("end_at"):
            raise invalid("A cursor cannot be used with FindNearest")
        stage = parse_nearest(query.find_nearest)
    projection = None
    if query.HasField("select") and query.select.fields:
        projection = [
            path
            for path in (parse_field_path(f.field_path) for f in query.select.fields)
            if path != NAME
        ]
    start = cursor(query.start_at) if query.HasField("start_at") else None
    end = cursor(query.end_at) if query.HasField("end_at") else None
    if orders[0] == (NAME, True) and not filtered - {NAME}:
        raise failed_precondition("Firestore does not support descending key scans")
    if after_key:
        fields = ", ".join(".".join(path) for path in after_key)
        raise invalid(
            f"This query requires an index that has fields [{fields}] after __name__ and "
            "Firestore does not currently support such an index. Please try the query again "
            "with additional ordering on those fields."
        )
    bounds, ordered = _index_plan(query.where if query.HasField("where") else None, orders)
    group = bool(selector.all_descendants)
    return Plan(
        parent=parent,
        collection=selector.collection_id,
        all_descendants=group,
        predicate=predicate,
        orders=orders,
        start=start,
        end=end,
        offset=offset,
        limit=limit,
        projection=projection,
        bounds=None if group or stage else bounds,
        ordered=ordered and not group and not stage,
        nearest=stage,
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


def candidates(db: Database, p: Plan, at: int | None = None) -> tuple[Iterable[Stored], bool]:
    """The documents that may match (as of `at`), and whether they come in final order."""
    if p.all_descendants:
        return db.descendants(p.parent, p.collection or None, at), False
    current = at is None or at >= db.last_commit
    if current and p.bounds is not None and db.indexed(p.collection, p.bounds.field):
        descending = p.orders[0][1] if p.ordered else False
        return db.in_range(p.parent, p.collection, p.bounds, descending=descending), p.ordered
    return db.collection(p.parent, p.collection, at), False


def selects(p: Plan, doc: Stored) -> bool:
    """Whether a document in the plan's scope passes its filters and cursors (the slice and
    `find_nearest` aside): what a listener without a limit needs to follow one change."""
    if p.predicate is not None and not p.predicate(doc):
        return False
    key = _order_key(doc, p.orders)
    return key is not None and _within(key, p)


def _within(key: list[Any], p: Plan) -> bool:
    descending = [desc for _, desc in p.orders]
    if p.start is not None:
        values, before = p.start
        c = _compare_keys(key, values, descending)
        if c < 0 or (c == 0 and not before):
            return False
    if p.end is not None:
        values, before = p.end
        c = _compare_keys(key, values, descending)
        if c > 0 or (c == 0 and before):
            return False
    return True


def _in_order(p: Plan, keyed: Iterable[tuple[list[Any] | None, Stored]]) -> list[Stored]:
    """The documents sorted by their order keys (those without one left out)."""
    descending = [desc for _, desc in p.orders]

    def by_key(a: tuple[list[Any], Stored], b: tuple[list[Any], Stored]) -> int:
        return _compare_keys(a[0], b[0], descending)

    present = [(key, doc) for key, doc in keyed if key is not None]
    present.sort(key=functools.cmp_to_key(by_key))
    return [doc for _, doc in present]


def run(db: Database, p: Plan, at: int | None = None) -> list[Stored]:
    """The documents the plan selects (as of `at`, microseconds), in order, after cursors,
    offset and limit (or the nearest ones, for `find_nearest`)."""
    if p.nearest is not None:
        scope = (
            db.descendants(p.parent, p.collection or None, at)
            if p.all_descendants
            else db.collection(p.parent, p.collection, at)
        )
        matching = [d for d in scope if p.predicate is None or p.predicate(d)]
        in_order = _in_order(p, ((_order_key(d, p.orders), d) for d in matching))
        return nearest(enumerate(in_order), p.nearest)
    keyed: list[tuple[list[Any] | None, Stored]] = []
    docs, ordered = candidates(db, p, at)
    enough = p.offset + p.limit if ordered and p.limit is not None else None
    for doc in docs:
        if enough is not None and len(keyed) >= enough:
            break  # candidates come in final order: the rest would be cut off
        if p.predicate is not None and not p.predicate(doc):
            continue
        key = _order_key(doc, p.orders)
        if key is None or not _within(key, p):
            continue
        keyed.append((key, doc))

    found = _in_order(p, keyed)[p.offset :]
    if p.limit is not None:
        found = found[: p.limit]
    return found


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
