"""The query API's parameters, validated at the edge: each problem is a 400 naming its parameter.

- `from`, `to`: integer ns since the epoch (`1790000000000000000`), an integer with a unit
  (`1790000000s`, `...ms`, `...us`, `...ns`) or RFC 3339 (`2026-09-21T10:00:00.5Z`, fraction to
  the ns); default: from the epoch, unbounded.
- `limit`: 1..10000 readings (or intervals) per page; default 1000.
- `order`: `asc` (default) or `desc`.
- `cursor`: the previous page's `next`, with the same `order`, `agg` and `every`.
- `agg`: `mean` (alias `avg`), `min`, `max`, `sum`, `count`, `first`, `last`; `every`: the
  interval width, an integer and `ns`, `us`, `ms`, `s`, `m`, `h`, `d` or `w` (required with agg).
- `format`: `json` (default) or `csv` (also chosen by `accept: text/csv`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from shared.errors import BadRequest
from shared.telemetry.timestamps import MAX_NS

__all__ = [
    "AGGREGATES",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Cursor",
    "DataParams",
    "parse_data",
    "parse_duration",
    "parse_latest",
    "parse_time",
]

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
AGGREGATES = ("mean", "min", "max", "sum", "count", "first", "last")
_ALIASES = {"avg": "mean", "average": "mean"}
_UNITS = {
    "ns": 1,
    "us": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
    "w": 7 * 86400 * 10**9,
}
_INTEGER = re.compile(r"^(\d{1,20})(ns|us|ms|s)?$")
_DURATION = re.compile(r"^(\d{1,20})(ns|us|ms|s|m|h|d|w)$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|z|[+\- ]\d{2}:\d{2})$"
)
_DATA_PARAMS = frozenset({"from", "to", "limit", "order", "cursor", "agg", "every", "format"})
_LATEST_PARAMS = frozenset({"format"})


def parse_time(raw: str, name: str) -> int:
    """Nanoseconds since the epoch from integer ns, an integer with a unit, or RFC 3339.

    In RFC 3339 a `+` of the offset that arrived unescaped in a query string (read as a space)
    is taken for the `+` it was.
    """
    text = raw.strip()
    match = _INTEGER.match(text)
    value = int(match.group(1)) * _UNITS[match.group(2) or "ns"] if match else _rfc3339(text, name)
    if not 0 <= value <= MAX_NS:
        raise BadRequest(f"{name} is outside the range of int64 nanoseconds", field=name)
    return value


def _rfc3339(text: str, name: str) -> int:
    match = _RFC3339.match(text)
    if not match:
        raise BadRequest(
            f"{name} must be integer nanoseconds (optionally with a unit: s, ms, us, ns) or an "
            f"RFC 3339 time such as 2026-01-31T12:00:00Z, not {text[:64]!r}",
            field=name,
        )
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction, zone = match.group(7) or "", match.group(8)
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except ValueError as exc:
        raise BadRequest(f"{name} is not a valid date and time: {exc}", field=name) from None
    offset = 0
    if zone not in {"Z", "z"}:
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise BadRequest(f"{name} has an invalid UTC offset {zone!r}", field=name)
        offset = sign * (hours * 3600 + minutes * 60)
    seconds = int(moment.timestamp()) - offset + (1 if second == 60 else 0)
    return seconds * 10**9 + int(fraction.ljust(9, "0") or 0)


def parse_duration(raw: str, name: str = "every") -> int:
    """An interval width in ns: `10s`, `1m`, `1h`, `1d`, `500ms`, ..."""
    match = _DURATION.match(raw.strip())
    if not match or int(match.group(1)) == 0:
        raise BadRequest(
            f"{name} must be a positive integer with a unit (ns, us, ms, s, m, h, d, w), such as "
            f"1m or 1h, not {raw[:64]!r}",
            field=name,
        )
    value = int(match.group(1)) * _UNITS[match.group(2)]
    if value > MAX_NS:
        raise BadRequest(f"{name} is too long", field=name)
    return value


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the previous page stopped: the last reading's time (or interval start)."""

    order: str
    position: int
    agg: str | None
    every: int | None

    def encode(self) -> str:
        body = orjson.dumps([1, self.order, self.position, self.agg, self.every])
        return base64.urlsafe_b64encode(body).decode().rstrip("=")

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        try:
            body = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            version, order, position, agg, every = body
        except (ValueError, TypeError):
            raise BadRequest("cursor is not one this API issued", field="cursor") from None
        if (
            version != 1
            or order not in {"asc", "desc"}
            or not isinstance(position, int)
            or not 0 <= position <= MAX_NS
            or (agg is not None and agg not in AGGREGATES)
            or (every is not None and (not isinstance(every, int) or every <= 0))
        ):
            raise BadRequest("cursor is not one this API issued", field="cursor")
        return cls(order, position, agg, every)


@dataclass(frozen=True, slots=True)
class DataParams:
    """A validated data request: readings (or intervals) in [start, end) after the cursor."""

    start: int = 0
    end: int | None = None  # None: unbounded
    limit: int = DEFAULT_LIMIT
    order: str = "asc"
    cursor: Cursor | None = None
    agg: str | None = None
    every: int | None = None
    csv: bool = False


def _single(query: Mapping[str, Sequence[str]], allowed: frozenset[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, values in query.items():
        if name not in allowed:
            raise BadRequest(
                f"unknown query parameter {name[:64]!r}; known: {', '.join(sorted(allowed))}",
                field=name[:64],
            )
        if len(values) != 1:
            raise BadRequest(f"query parameter {name} is given more than once", field=name)
        out[name] = values[0]
    return out


def _csv(args: Mapping[str, str], accept: str) -> bool:
    fmt = args.get("format")
    if fmt is None:
        return any(part.split(";")[0].strip() == "text/csv" for part in accept.lower().split(","))
    if fmt not in {"json", "csv"}:
        raise BadRequest("format must be 'json' or 'csv'", field="format")
    return fmt == "csv"


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}", field="limit")
    return int(raw)


def parse_data(query: Mapping[str, Sequence[str]], accept: str = "") -> DataParams:
    """The parameters of `GET .../data`; BadRequest naming the first bad one."""
    args = _single(query, _DATA_PARAMS)
    start = parse_time(args["from"], "from") if "from" in args else 0
    end = parse_time(args["to"], "to") if "to" in args else None
    if end is not None and end < start:
        raise BadRequest("to must not be before from", field="to")
    order = args.get("order", "asc")
    if order not in {"asc", "desc"}:
        raise BadRequest("order must be 'asc' or 'desc'", field="order")
    agg = args.get("agg")
    if agg is not None:
        agg = _ALIASES.get(agg, agg)
        if agg not in AGGREGATES:
            raise BadRequest(
                f"agg must be one of {', '.join(AGGREGATES)} (avg is mean)", field="agg"
            )
        if "every" not in args:
            raise BadRequest("every (the interval, e.g. 1m) is required with agg", field="every")
    elif "every" in args:
        raise BadRequest("every needs agg (one of " + ", ".join(AGGREGATES) + ")", field="agg")
    every = parse_duration(args["every"]) if "every" in args else None
    cursor = Cursor.decode(args["cursor"]) if args.get("cursor") else None
    if cursor is not None and (cursor.order, cursor.agg, cursor.every) != (order, agg, every):
        raise BadRequest(
            "cursor belongs to a query with another order, agg or every", field="cursor"
        )
    return DataParams(
        start=start,
        end=end,
        limit=_limit(args.get("limit")),
        order=order,
        cursor=cursor,
        agg=agg,
        every=every,
        csv=_csv(args, accept),
    )


def parse_latest(query: Mapping[str, Sequence[str]], accept: str = "") -> bool:
    """The parameters of `GET .../data/latest`: whether to answer CSV."""
    return _csv(_single(query, _LATEST_PARAMS), accept)
