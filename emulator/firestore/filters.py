"""StructuredQuery filters as predicates over stored documents, with Firestore's validation.

Semantics follow Firestore (checked against Google's emulator): a filter only matches values of
its operand's type class (numbers compare across int and double); `!=`, `not-in`, `IS_NOT_NAN`
and `IS_NOT_NULL` also need the field to exist and not be null (`IS_NOT_NAN` excludes null too);
null and NaN elements of `in`, `not-in` and `array-contains-any` lists match nothing (a null in
`not-in` makes it match nothing at all), while arrays holding them compare structurally.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import invalid
from .paths import parse_field_path
from .storage import Stored
from .values import NULL, Value, check_references, get_field, is_nan, sort_key, type_rank

__all__ = ["AND", "NAME", "OR", "Filter", "Predicate", "compile_filter"]

NAME = ("__name__",)
Predicate = Callable[[Stored], bool]
Path = tuple[str, ...]

# google.firestore.v1.StructuredQuery enums
_LT, _LE, _GT, _GE, _EQ, _NE, _CONTAINS, _IN, _CONTAINS_ANY, _NOT_IN = range(1, 11)
_IS_NAN, _IS_NULL, _IS_NOT_NAN, _IS_NOT_NULL = 2, 3, 4, 5
AND, OR = 1, 2
_INEQUALITIES = {_LT, _LE, _GT, _GE, _NE, _NOT_IN}
_LIST_LIMITS = {_IN: ("IN", 30), _NOT_IN: ("NOT_IN", 10), _CONTAINS_ANY: ("ARRAY_CONTAINS_ANY", 30)}
_NEVER: Predicate = lambda d: False  # noqa: E731


class Filter:
    """A compiled filter: its predicate, the fields it bounds by inequality (they are ordered
    implicitly), and the counts Firestore limits per query."""

    __slots__ = (
        "array_contains",
        "contains_key",
        "fields",
        "inequalities",
        "key_equality",
        "kinds",
        "negations",
        "predicate",
    )

    def __init__(self, predicate: Predicate, inequalities: set[Path] | None = None) -> None:
        self.predicate = predicate
        self.inequalities: set[Path] = inequalities or set()
        self.fields: set[Path] = set(self.inequalities)  # every field filtered on
        self.negations = 0  # '!=', not-in, IS_NOT_NAN, IS_NOT_NULL: one per query
        self.array_contains = 0  # per disjunction (identical sibling filters count once)
        self.contains_key: bytes | None = None  # an array-contains(-any) filter: itself
        self.kinds: set[str] = set()  # 'in', 'not-in', 'array-contains-any', 'or' used
        self.key_equality = False  # '==' or 'in' on __name__


def _value_at(doc: Stored, path: Path) -> Any | None:
    if path == NAME:
        return Value(reference_value=doc.name)
    return get_field(doc.data.fields, path)


def _is_null(value: Any) -> bool:
    return bool(value.WhichOneof("value_type") == "null_value")


def _list_filter(path: Path, op: int, operand: Any) -> Filter:
    name, limit = _LIST_LIMITS[op]
    if operand.WhichOneof("value_type") != "array_value" or not operand.array_value.values:
        raise invalid(f"'{name}' requires an non-empty ArrayValue.")
    values = operand.array_value.values
    if len(values) > limit:
        raise invalid(f"'{name}' supports up to {limit} comparison values.")
    keys = [sort_key(v) for v in values if not _is_null(v) and not is_nan(v)]
    if op == _IN:
        result = Filter(lambda d: (v := _value_at(d, path)) is not None and sort_key(v) in keys)
        result.kinds.add("in")
        return result
    if op == _NOT_IN:
        if any(_is_null(v) for v in values):
            result = Filter(_NEVER, {path})
        else:
            result = Filter(
                lambda d: (
                    (v := _value_at(d, path)) is not None
                    and type_rank(v) != NULL
                    and sort_key(v) not in keys
                ),
                {path},
            )
        result.negations = 1
        result.kinds.add("not-in")
        return result

    def contains_any(d: Stored) -> bool:
        v = _value_at(d, path)
        if v is None or v.WhichOneof("value_type") != "array_value":
            return False
        return any(sort_key(e) in keys for e in v.array_value.values)

    result = Filter(contains_any)
    result.kinds.add("array-contains-any")
    return result


def _check_key_filter(op: int, operand: Any) -> None:
    """What Google's emulator requires of a filter on `__name__`."""
    if op in (_CONTAINS, _CONTAINS_ANY):
        raise invalid("the name __key__ is reserved")
    listed = op in _LIST_LIMITS and operand.WhichOneof("value_type") == "array_value"
    for value in operand.array_value.values if listed else [operand]:
        if value.WhichOneof("value_type") != "reference_value":
            raise invalid("__key__ filter value must be a Key")


def _field_filter(f: Any) -> Filter:
    path = parse_field_path(f.field.field_path)
    op = f.op
    operand = f.value
    check_references(operand)
    if path == NAME:
        _check_key_filter(op, operand)
        result = _value_filter(path, op, operand)
        result.key_equality = op in (_EQ, _IN)
        return result
    return _value_filter(path, op, operand)


def _value_filter(path: Path, op: int, operand: Any) -> Filter:
    if op in _LIST_LIMITS:
        return _list_filter(path, op, operand)
    key = sort_key(operand)
    rank = key[0]
    if op == _EQ:
        return Filter(lambda d: (v := _value_at(d, path)) is not None and sort_key(v) == key)
    if op == _NE:
        result = Filter(
            lambda d: (
                (v := _value_at(d, path)) is not None
                and type_rank(v) != NULL
                and sort_key(v) != key
            ),
            {path},
        )
        result.negations = 1
        return result
    if op == _CONTAINS:

        def contains(d: Stored) -> bool:
            v = _value_at(d, path)
            if v is None or v.WhichOneof("value_type") != "array_value":
                return False
            return any(sort_key(e) == key for e in v.array_value.values)

        null_or_nan = _is_null(operand) or is_nan(operand)
        return Filter(_NEVER if null_or_nan else contains)
    if op in (_LT, _LE, _GT, _GE):
        if is_nan(operand) or rank == NULL:
            return Filter(_NEVER, {path})
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

        return Filter(ranged, {path})
    raise invalid(f"unsupported field filter operator {op}")


def _unary_filter(f: Any) -> Filter:
    path = parse_field_path(f.field.field_path)
    op = f.op
    if op == _IS_NAN:
        return Filter(lambda d: (v := _value_at(d, path)) is not None and is_nan(v))
    if op == _IS_NULL:
        return Filter(lambda d: (v := _value_at(d, path)) is not None and _is_null(v))
    if op == _IS_NOT_NAN:
        result = Filter(
            lambda d: (v := _value_at(d, path)) is not None and not _is_null(v) and not is_nan(v),
            {path},
        )
    elif op == _IS_NOT_NULL:
        result = Filter(lambda d: (v := _value_at(d, path)) is not None and not _is_null(v), {path})
    else:
        raise invalid(f"unsupported unary filter operator {op}")
    result.negations = 1
    return result


def _compile(f: Any) -> Filter:
    kind = f.WhichOneof("filter_type")
    if kind in ("field_filter", "unary_filter"):
        leaf = getattr(f, kind)
        result = _field_filter(leaf) if kind == "field_filter" else _unary_filter(leaf)
        result.fields.add(parse_field_path(leaf.field.field_path))
        if kind == "field_filter" and leaf.op in (_CONTAINS, _CONTAINS_ANY):
            result.array_contains = 1
            result.contains_key = leaf.SerializeToString(deterministic=True)
        return result
    if kind == "composite_filter":
        parts = [_compile(sub) for sub in f.composite_filter.filters]
        if not parts:
            return Filter(lambda d: True)
        predicates = [p.predicate for p in parts]
        op = f.composite_filter.op
        if op == OR:
            result = Filter(lambda d: any(p(d) for p in predicates))
            result.array_contains = max(p.array_contains for p in parts)
            result.kinds.add("or")
        elif op == AND:
            result = Filter(lambda d: all(p(d) for p in predicates))
            leaves = {p.contains_key for p in parts if p.contains_key is not None}
            nested = sum(p.array_contains for p in parts if p.contains_key is None)
            result.array_contains = len(leaves) + nested
        else:
            raise invalid(f"unsupported composite filter operator {op}")
        result.kinds.update(*(p.kinds for p in parts))
        result.inequalities = set().union(*(p.inequalities for p in parts))
        result.fields = set().union(*(p.fields for p in parts))
        result.key_equality = any(p.key_equality for p in parts)
        result.negations = sum(p.negations for p in parts)
        return result
    raise invalid("empty filter")


def compile_filter(where: Any) -> Filter:
    """The predicate of a StructuredQuery's `where`; INVALID_ARGUMENT for what Firestore
    refuses (empty or oversized lists, several negations, several array-contains per
    disjunction)."""
    compiled = _compile(where)
    if compiled.negations > 1:
        raise invalid(
            "Only a single 'NOT_EQUAL', 'NOT_IN', 'IS_NOT_NAN', or 'IS_NOT_NULL' filter allowed"
            " per query."
        )
    others = compiled.inequalities - {NAME}
    if compiled.key_equality and others and NAME not in compiled.inequalities:
        raise invalid(
            "Equality on key is not allowed if there are other inequality fields and key does "
            "not appear in inequalities."
        )
    if compiled.array_contains > 1:
        raise invalid("A maximum of 1 'ARRAY_CONTAINS' filter is allowed per disjunction.")
    if "not-in" in compiled.kinds and compiled.kinds & {"in", "array-contains-any", "or"}:
        raise invalid(
            "'NOT_IN' cannot be used in the same query with 'IN', 'ARRAY_CONTAINS_ANY' or 'OR'."
        )
    return compiled
