"""The numeric single-field index's pure parts: range bounds, the rows a document puts in the
index, and the exemptions a `firestore.indexes.json` declares."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["VERSION", "Range", "digest", "load_exemptions", "numbers"]

VERSION = 1  # with the exemptions' digest, meta key 'numbers': the index is complete


@dataclass(frozen=True, slots=True)
class Range:
    """Bounds on one top-level numeric field (None: unbounded on that side)."""

    field: str
    low: float | int | None = None
    low_inclusive: bool = True
    high: float | int | None = None
    high_inclusive: bool = True


def load_exemptions(path: Path) -> frozenset[tuple[str, str]]:
    """(collection group, field) pairs a Firestore index configuration (`firestore.indexes.json`,
    the format `firebase deploy` and `gcloud` take) exempts from single-field indexing: its
    `fieldOverrides` with `"indexes": []`. ValueError naming the file when it is not one."""
    try:
        config = json.loads(path.read_text())
        overrides = config.get("fieldOverrides", [])
        return frozenset(
            (str(o["collectionGroup"]), str(o["fieldPath"]))
            for o in overrides
            if isinstance(o, dict) and o.get("indexes") == []
        )
    except (OSError, ValueError, AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a Firestore index configuration ({exc})") from None


def digest(exempt: frozenset[tuple[str, str]]) -> int:
    """What the index was built for: its version and the exemptions it honoured."""
    return VERSION << 32 | zlib.crc32(json.dumps(sorted(exempt)).encode())


def numbers(data: Any) -> Iterator[tuple[str, float | int]]:
    """The top-level integer and double fields of a document's `MapValue` (NaN is unordered)."""
    for field, value in data.fields.items():
        kind = value.WhichOneof("value_type")
        if kind == "integer_value":
            yield field, value.integer_value
        elif kind == "double_value" and value.double_value == value.double_value:
            yield field, value.double_value
