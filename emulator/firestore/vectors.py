"""Vector values and `find_nearest`: the Euclidean, cosine and dot-product distances, nearest first.

As in Google's emulator: documents whose vector field is not a vector of the query's dimension
are left out; Euclidean and cosine distances rank ascending, dot products descending; ties go in
the query's order (its inequality fields, then the document name); `distance_threshold` keeps
distances <= it (dot products >= it); the distance goes into `distance_result_field` of each
result (unless a projection leaves it out); a zero length vector is refused, stored or queried.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import invalid
from .paths import parse_field_path
from .storage import Stored
from .values import MapValue, Value, get_field, set_field

__all__ = ["Nearest", "nearest", "parse_nearest", "vector_of"]

_EUCLIDEAN, _COSINE, _DOT_PRODUCT = 1, 2, 3
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Nearest:
    """A validated `find_nearest` stage."""

    field: tuple[str, ...]
    vector: tuple[float, ...]
    measure: int
    limit: int
    result_field: tuple[str, ...] | None
    threshold: float | None


def vector_of(value: Any | None) -> tuple[float, ...] | None:
    """The components of a vector value (`{"__type__": "__vector__", "value": [...]}`), or None
    when the value is not a vector."""
    if value is None or value.WhichOneof("value_type") != "map_value":
        return None
    fields = value.map_value.fields
    kind = fields.get("__type__")
    if kind is None or kind.WhichOneof("value_type") != "string_value":
        return None
    if kind.string_value != "__vector__":
        return None
    items = fields.get("value")
    if items is None or items.WhichOneof("value_type") != "array_value":
        return None
    out = []
    for item in items.array_value.values:
        which = item.WhichOneof("value_type")
        if which == "double_value":
            out.append(item.double_value)
        elif which == "integer_value":
            out.append(float(item.integer_value))
        else:
            return None
    return tuple(out)


def parse_nearest(stage: Any) -> Nearest:
    """Validate a StructuredQuery.FindNearest."""
    vector = vector_of(stage.query_vector)
    if vector is None:
        raise invalid("FindNearest.query_vector must be a vector value")
    if not vector:
        raise invalid("Cannot have a zero length vector.")
    if stage.distance_measure not in (_EUCLIDEAN, _COSINE, _DOT_PRODUCT):
        raise invalid("FindNearest.distance_measure must be EUCLIDEAN, COSINE or DOT_PRODUCT")
    limit = stage.limit.value if stage.HasField("limit") else 0
    if not 0 < limit <= MAX_LIMIT:
        raise invalid(f"FindNearest.limit must be a positive integer of no more than {MAX_LIMIT}")
    result_field = None
    if stage.distance_result_field:
        result_field = parse_field_path(stage.distance_result_field)
    threshold = stage.distance_threshold.value if stage.HasField("distance_threshold") else None
    return Nearest(
        field=parse_field_path(stage.vector_field.field_path),
        vector=vector,
        measure=stage.distance_measure,
        limit=limit,
        result_field=result_field,
        threshold=threshold,
    )


def _distance(measure: int, a: tuple[float, ...], b: tuple[float, ...]) -> float:
    if measure == _EUCLIDEAN:
        return math.sqrt(sum((x - y) * (x - y) for x, y in zip(a, b, strict=True)))
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    if measure == _DOT_PRODUCT:
        return dot
    norms = math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))  # one root, as Google
    return 1.0 - dot / norms if norms else math.nan


def nearest(docs: Iterable[tuple[Any, Stored]], stage: Nearest) -> list[Stored]:
    """The `stage.limit` documents nearest to the query vector, nearest first (ties in the
    order of their `docs` keys: the query's ordering); each a copy with the distance in
    `result_field` when one is asked for."""
    scored: list[tuple[float, Any, Stored]] = []
    for key, doc in docs:
        vector = vector_of(get_field(doc.data.fields, stage.field))
        if vector is None or len(vector) != len(stage.vector):
            continue
        distance = _distance(stage.measure, vector, stage.vector)
        if stage.threshold is not None:
            within = (
                distance >= stage.threshold
                if stage.measure == _DOT_PRODUCT
                else distance <= stage.threshold
            )
            if not within:
                continue
        scored.append((distance, key, doc))
    sign = -1.0 if stage.measure == _DOT_PRODUCT else 1.0
    scored.sort(key=lambda s: s[1])  # stable: ties keep the query's order
    scored.sort(key=lambda s: (math.isnan(s[0]), sign * s[0] if s[0] == s[0] else 0.0))
    out = []
    for distance, _, doc in scored[: stage.limit]:
        if stage.result_field is not None:
            data = MapValue()
            data.CopyFrom(doc.data)
            set_field(data.fields, stage.result_field, Value(double_value=distance))
            doc = Stored(doc.name, data, doc.create_us, doc.update_us)
        out.append(doc)
    return out
