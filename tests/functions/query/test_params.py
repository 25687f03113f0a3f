"""Query parameters: times in three notations, limits, order, aggregates, cursors, and 400s that
name the parameter."""

from __future__ import annotations

import pytest

from functions.query.params import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Cursor,
    parse_data,
    parse_duration,
    parse_latest,
    parse_time,
)
from shared.errors import BadRequest
from shared.http import parse_query


def data(query: str, accept: str = ""):
    return parse_data(parse_query(query), accept)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("1790000000123456789", 1_790_000_000_123_456_789),
        ("1790000000s", 1_790_000_000_000_000_000),
        ("1790000000123ms", 1_790_000_000_123_000_000),
        ("1790000000123456us", 1_790_000_000_123_456_000),
        ("1790000000123456789ns", 1_790_000_000_123_456_789),
        ("1970-01-01T00:00:00Z", 0),
        ("2026-09-21T12:00:00Z", 1_789_992_000_000_000_000),
        ("2026-09-21T12:00:00.5Z", 1_789_992_000_500_000_000),
        ("2026-09-21T12:00:00.123456789Z", 1_789_992_000_123_456_789),
        ("2026-09-21t12:00:00z", 1_789_992_000_000_000_000),
        ("2026-09-21T14:00:00+02:00", 1_789_992_000_000_000_000),
        ("2026-09-21T14:00:00 02:00", 1_789_992_000_000_000_000),  # '+' read as a space
        ("2026-09-21T10:30:00-01:30", 1_789_992_000_000_000_000),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000_000_000),  # a leap second
    ],
)
def test_times(raw: str, expected: int) -> None:
    assert parse_time(raw, "from") == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "-5",
        "1.5",
        "1790000000min",
        "9223372036854775808",
        "2026-09-21",
        "2026-09-21T12:00:00",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-09-21T12:00:00.1234567890Z",
        "2026-09-21T12:00:00+25:00",
        "yesterday",
    ],
)
def test_bad_times_name_the_parameter(raw: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_time(raw, "to")
    assert caught.value.field == "to"


@pytest.mark.parametrize(
    ("raw", "ns"),
    [
        ("1ns", 1),
        ("250ms", 250 * 10**6),
        ("10s", 10**10),
        ("1m", 60 * 10**9),
        ("1h", 3600 * 10**9),
        ("1d", 86400 * 10**9),
        ("2w", 14 * 86400 * 10**9),
    ],
)
def test_durations(raw: str, ns: int) -> None:
    assert parse_duration(raw) == ns


@pytest.mark.parametrize("raw", ["0s", "1", "m", "1y", "-1m", "1.5h", "99999999999999999999w"])
def test_bad_durations(raw: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_duration(raw)
    assert caught.value.field == "every"


def test_defaults() -> None:
    params = data("")
    assert (params.start, params.end, params.limit, params.order) == (0, None, DEFAULT_LIMIT, "asc")
    assert (params.cursor, params.agg, params.every, params.csv) == (None, None, None, False)


def test_everything_given() -> None:
    cursor = Cursor("desc", 123, "mean", 60 * 10**9).encode()
    params = data(
        f"from=2026-09-21T12:00:00Z&to=1790000000s&limit=10000&order=desc&agg=avg&every=1m"
        f"&cursor={cursor}&format=csv"
    )
    assert params.start == 1_789_992_000_000_000_000
    assert params.end == 1_790_000_000_000_000_000
    assert (params.limit, params.order, params.agg) == (10000, "desc", "mean")
    assert params.every == 60 * 10**9
    assert params.cursor == Cursor("desc", 123, "mean", 60 * 10**9)
    assert params.csv


@pytest.mark.parametrize(
    ("accept", "csv"),
    [("text/csv", True), ("application/json, text/csv;q=0.5", True), ("*/*", False), ("", False)],
)
def test_csv_by_accept_header(accept: str, csv: bool) -> None:
    assert data("", accept).csv is csv
    assert parse_latest({}, accept) is csv
    assert data("format=json", accept).csv is False


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        (f"limit={MAX_LIMIT + 1}", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("order=up", "order"),
        ("agg=median&every=1m", "agg"),
        ("agg=mean", "every"),
        ("every=1m", "agg"),
        ("agg=max&every=1x", "every"),
        ("from=10&to=5", "to"),
        ("from=soon", "from"),
        ("cursor=!!!", "cursor"),
        ("cursor=bm90IGpzb24", "cursor"),
        ("format=xml", "format"),
        ("limit=5&limit=6", "limit"),
        ("form=5", "form"),
    ],
)
def test_each_bad_parameter_is_named(query: str, field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        data(query)
    assert caught.value.field == field
    assert caught.value.status == 400


def test_a_cursor_only_continues_the_query_it_came_from() -> None:
    cursor = Cursor("asc", 5, None, None).encode()
    assert data(f"cursor={cursor}").cursor == Cursor("asc", 5, None, None)
    for other in ("order=desc", "agg=count&every=1m"):
        with pytest.raises(BadRequest) as caught:
            data(f"cursor={cursor}&{other}")
        assert caught.value.field == "cursor"


def test_latest_takes_only_a_format() -> None:
    assert parse_latest(parse_query("format=csv")) is True
    with pytest.raises(BadRequest) as caught:
        parse_latest(parse_query("limit=3"))
    assert caught.value.field == "limit"
