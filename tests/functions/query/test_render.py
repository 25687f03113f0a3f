"""JSON and CSV answers of the query API."""

from __future__ import annotations

import csv
import io

from functions.query.render import csv_value, rows_response


def test_json_rows_with_and_without_a_next_cursor() -> None:
    paged = rows_response(("timestamp", "value"), [(1, 2.5), (2, "x")], as_csv=False, paged=True)
    assert paged.json() == {
        "data": [{"timestamp": 1, "value": 2.5}, {"timestamp": 2, "value": "x"}],
        "next": None,
    }
    assert paged.headers["content-type"] == "application/json"
    latest = rows_response(("timestamp", "value"), [], as_csv=False)
    assert latest.json() == {"data": []}


def test_csv_rows_quote_what_needs_quoting_and_carry_the_cursor_in_a_header() -> None:
    rows = [(1, 21.5), (2, 'a, "b"'), (3, True), (4, {"k": [1, 2]}), (5, None), (6, 7)]
    response = rows_response(("timestamp", "value"), rows, as_csv=True, following="abc")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["x-next-cursor"] == "abc"
    text = response.body.decode()
    assert text.startswith("timestamp,value\r\n")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed == [
        ["timestamp", "value"],
        ["1", "21.5"],
        ["2", 'a, "b"'],
        ["3", "true"],
        ["4", '{"k":[1,2]}'],
        ["5", ""],
        ["6", "7"],
    ]
    last_page = rows_response(("timestamp", "value"), rows, as_csv=True)
    assert "x-next-cursor" not in last_page.headers


def test_csv_values_keep_float_precision() -> None:
    assert csv_value(0.1 + 0.2) == "0.30000000000000004"
    assert csv_value(1e300) == "1e+300"
    assert csv_value(False) == "false"
