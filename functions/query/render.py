"""The query API's answers as JSON or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from shared.http import Response, json_response

__all__ = ["CSV_TYPE", "csv_response", "csv_value", "rows_response"]

CSV_TYPE = "text/csv; charset=utf-8"


def csv_value(value: Any) -> str:
    """A value as a CSV field: numbers and text as they are, booleans as true/false, objects
    and arrays as JSON, null as an empty field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[Any]], headers: dict[str, str] | None = None
) -> Response:
    """RFC 4180 CSV (CRLF line ends), with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_value(cell) for cell in row])
    return Response(200, out.getvalue().encode(), {"content-type": CSV_TYPE, **(headers or {})})


def rows_response(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    as_csv: bool,
    following: str | None = None,
    paged: bool = False,
) -> Response:
    """`{"data": [{column: value}, ...], "next"?}` or the same rows as CSV; the next page's
    cursor goes in the body's `next` (JSON) or the `x-next-cursor` header (CSV)."""
    if as_csv:
        headers = {"x-next-cursor": following} if following else {}
        return csv_response(columns, rows, headers)
    if len(columns) == 2:  # the data pages: one dict literal per row, not zip per row
        first, second = columns
        data = [{first: a, second: b} for a, b in rows]
    else:
        data = [dict(zip(columns, row, strict=True)) for row in rows]
    body: dict[str, Any] = {"data": data}
    if paged:
        body["next"] = following
    return json_response(body)
