"""Aggregations (`count`, `sum`, `avg`) over a query's documents, with Firestore's validation.

A `sum` or `avg` orders its query by the aggregated fields (see `query.plan`), so documents
without them are left out of every aggregation of the request, and a limit keeps the documents
with the smallest values, as Google's emulator does. Sums of integers stay integers unless they
overflow 64 bits; anything with a double is a double; `avg` of nothing is null.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.cloud.firestore_v1.types import aggregation_result as _aggregation

from .errors import invalid
from .paths import parse_field_path
from .storage import Stored
from .values import Value, get_field

__all__ = ["aggregate", "aggregated_fields", "check_aggregations"]

_AggregationResult: Any = _aggregation.AggregationResult.pb()
MAX_AGGREGATIONS = 5
_INT64 = (-(2**63), 2**63)


def aliases(aggregations: Sequence[Any]) -> list[str]:
    """Each aggregation's alias: its own, or `field_<n>` for the n-th one without."""
    out = []
    unnamed = 0
    for aggregation in aggregations:
        if not aggregation.alias:
            unnamed += 1
        out.append(aggregation.alias or f"field_{unnamed}")
    return out


def check_aggregations(aggregations: Sequence[Any], structured_query: Any) -> None:
    """INVALID_ARGUMENT for an empty list, too many, a repeated alias, a sum or avg of
    `__name__` or over a projection."""
    if not aggregations:
        raise invalid("Aggregations can not be empty.")
    if len(aggregations) > MAX_AGGREGATIONS:
        raise invalid(f"Aggregations can not have more than {MAX_AGGREGATIONS} aggregations.")
    seen: set[str] = set()
    for alias in aliases(aggregations):
        if alias in seen:
            raise invalid(f"Aggregation aliases contain duplicate alias: {alias}.")
        seen.add(alias)
    fields = aggregated_fields(aggregations)
    if ("__name__",) in fields:
        raise invalid("Aggregations are not supported for the property: __key__")
    if fields and structured_query.select.fields:
        raise invalid("Cannot apply property masks when aggregation fields are present.")


def aggregated_fields(aggregations: Sequence[Any]) -> list[tuple[str, ...]]:
    """The field paths the `sum` and `avg` aggregations read."""
    paths = []
    for aggregation in aggregations:
        kind = aggregation.WhichOneof("operator")
        if kind in ("sum", "avg"):
            paths.append(parse_field_path(getattr(aggregation, kind).field.field_path))
    return paths


def _numbers(docs: list[Stored], path: tuple[str, ...]) -> list[int | float]:
    out: list[int | float] = []
    for doc in docs:
        value = get_field(doc.data.fields, path)
        if value is None:
            continue
        kind = value.WhichOneof("value_type")
        if kind == "integer_value":
            out.append(int(value.integer_value))
        elif kind == "double_value":
            out.append(float(value.double_value))
    return out


def _one(aggregation: Any, docs: list[Stored]) -> Any:
    kind = aggregation.WhichOneof("operator")
    if kind == "count":
        count = len(docs)
        if aggregation.count.HasField("up_to"):
            if aggregation.count.up_to.value <= 0:
                raise invalid("count up_to must be positive")
            count = min(count, aggregation.count.up_to.value)
        return Value(integer_value=count)
    if kind == "sum":
        numbers = _numbers(docs, parse_field_path(aggregation.sum.field.field_path))
        if all(isinstance(n, int) for n in numbers):
            total = sum(numbers)
            if _INT64[0] <= total < _INT64[1]:
                return Value(integer_value=int(total))
        double = 0.0
        for n in numbers:  # in query order, as a running double
            double += n
        return Value(double_value=double)
    if kind == "avg":
        numbers = _numbers(docs, parse_field_path(aggregation.avg.field.field_path))
        if not numbers:
            return Value(null_value=0)
        return Value(double_value=sum(float(n) for n in numbers) / len(numbers))
    raise invalid("an aggregation needs count, sum or avg")


def aggregate(aggregations: Sequence[Any], docs: list[Stored]) -> Any:
    """The AggregationResult of the aggregations over the documents (in query order)."""
    result = _AggregationResult()
    for alias, aggregation in zip(aliases(aggregations), aggregations, strict=True):
        result.aggregate_fields[alias].CopyFrom(_one(aggregation, docs))
    return result
