"""The query core on the store port (in memory and on the Firestore emulator), over documents the
writer made: range bounds across hour buckets, paging with cursors both ways, duplicates across
messages, aggregates, latest."""

from __future__ import annotations

import random

import pytest

from functions.query.params import Cursor, DataParams
from functions.query.series import DOCS_PER_PAGE
from functions.query.service import QueryService
from functions.writer.service import Writer
from shared.errors import BadRequest
from shared.store import Store
from shared.telemetry.chunks import BUCKET_NS
from shared.telemetry.model import NormalizedMessage, Reading, Source

H = BUCKET_NS
S = 10**9
T0 = 497_300 * H


def write(store: Store, org: str, pairs: list[tuple[int, object]], received: int, mid: str) -> None:
    readings = tuple(Reading("s1", ts, value, "double") for ts, value in pairs)
    message = NormalizedMessage(org, "d1", Source(mid, "http"), readings)
    Writer(store).write(message, received)


def page_all(service: QueryService, org: str, **params: object) -> list[tuple[int, object]]:
    """Every page of a query, following the cursors."""
    out: list[tuple[int, object]] = []
    cursor = None
    for _ in range(10_000):
        page = service.data(org, "d1", "s1", DataParams(cursor=cursor, **params), "double")
        out.extend((ts, value) for ts, value in page.samples)
        if page.next is None:
            return out
        cursor = Cursor.decode(page.next)
    raise AssertionError("paging did not end")


@pytest.fixture
def series(store: Store, org: str) -> list[tuple[int, float]]:
    """300 readings over 5 hours, sent out of order in 30 messages of 10 shuffled readings."""
    rng = random.Random(7)
    truth = [(T0 + i * 60 * S + rng.randint(0, 59) * S, float(i)) for i in range(300)]
    shuffled = truth[:]
    rng.shuffle(shuffled)
    for index in range(30):
        write(store, org, shuffled[index * 10 : index * 10 + 10], T0 + 10 * H, f"m{index}")
    return truth


def test_a_range_across_hours_in_both_orders(
    store: Store, org: str, series: list[tuple[int, float]]
) -> None:
    service = QueryService(store)
    start, end = T0 + H - 30 * S, T0 + 3 * H + 17 * S
    expected = [pair for pair in series if start <= pair[0] < end]
    page = service.data(org, "d1", "s1", DataParams(start=start, end=end, limit=10_000), None)
    assert [(ts, value) for ts, value in page.samples] == expected and page.next is None
    page = service.data(
        org, "d1", "s1", DataParams(start=start, end=end, order="desc", limit=10_000), None
    )
    assert [(ts, value) for ts, value in page.samples] == expected[::-1]


@pytest.mark.parametrize("limit", [13, 100, 299, 300])
def test_paging_with_cursors_returns_everything_once(
    store: Store, org: str, series: list[tuple[int, float]], limit: int
) -> None:
    service = QueryService(store)
    assert page_all(service, org, limit=limit) == series
    assert page_all(service, org, limit=limit, order="desc") == series[::-1]


def test_the_last_page_has_no_cursor(
    store: Store, org: str, series: list[tuple[int, float]]
) -> None:
    service = QueryService(store)
    first = service.data(org, "d1", "s1", DataParams(limit=299), None)
    assert first.next is not None
    following = DataParams(limit=299, cursor=Cursor.decode(first.next))
    last = service.data(org, "d1", "s1", following, None)
    assert len(last.samples) == 1 and last.next is None


def test_duplicates_across_messages_come_back_once_with_the_latest_received_value(
    store: Store, org: str
) -> None:
    write(store, org, [(T0, 1.0), (T0 + S, 2.0)], received=T0 + 5 * S, mid="a")
    write(store, org, [(T0 + S, 20.0), (T0 + 2 * S, 3.0)], received=T0 + 9 * S, mid="b")
    write(store, org, [(T0 + S, 200.0)], received=T0 + 7 * S, mid="c")  # arrived late, older
    write(store, org, [(T0, 1.0), (T0 + S, 2.0)], received=T0 + 5 * S, mid="a")  # redelivered
    service = QueryService(store)
    expected = [(T0, 1.0), (T0 + S, 20.0), (T0 + 2 * S, 3.0)]
    assert page_all(service, org) == expected
    assert page_all(service, org, limit=1, order="desc") == expected[::-1]
    latest = service.latest(org, "d1", "s1")
    assert latest is not None and (latest.ts, latest.value) == (T0 + 2 * S, 3.0)


def test_more_chunks_than_one_store_page(store: Store, org: str) -> None:
    pairs = [(T0 + i * S, float(i)) for i in range(DOCS_PER_PAGE * 2 + 5)]
    for index, pair in enumerate(pairs):
        write(store, org, [pair], received=T0, mid=f"one-{index}")
    service = QueryService(store)
    assert page_all(service, org, limit=1000) == pairs
    assert page_all(service, org, limit=60, order="desc") == pairs[::-1]


def test_aggregates_per_interval_with_paging(
    store: Store, org: str, series: list[tuple[int, float]]
) -> None:
    service = QueryService(store)
    every = 20 * 60 * S
    windows: dict[int, list[float]] = {}
    for ts, value in series:
        windows.setdefault(ts - ts % every, []).append(value)
    expected = {
        "count": [(w, len(v)) for w, v in sorted(windows.items())],
        "mean": [(w, sum(v) / len(v)) for w, v in sorted(windows.items())],
        "max": [(w, max(v)) for w, v in sorted(windows.items())],
        "first": [(w, v[0]) for w, v in sorted(windows.items())],
        "last": [(w, v[-1]) for w, v in sorted(windows.items())],
    }
    for agg, rows in expected.items():
        assert page_all(service, org, agg=agg, every=every, limit=4) == rows
        assert page_all(service, org, agg=agg, every=every, limit=3, order="desc") == rows[::-1]


def test_a_numeric_aggregate_of_a_text_sensor_is_refused(store: Store, org: str) -> None:
    with pytest.raises(BadRequest) as caught:
        QueryService(store).data(org, "d1", "s1", DataParams(agg="sum", every=S), "string")
    assert caught.value.field == "agg"


def test_a_sensor_without_readings(store: Store, org: str) -> None:
    service = QueryService(store)
    page = service.data(org, "d1", "s1", DataParams(), "double")
    assert (page.samples, page.next) == ([], None)
    assert service.latest(org, "d1", "s1") is None


def test_the_far_ends_of_time(store: Store, org: str) -> None:
    edge = 2**63 - 1
    write(store, org, [(0, 0.0), (edge, 1.0)], received=T0, mid="edges")
    service = QueryService(store)
    assert page_all(service, org) == [(0, 0.0), (edge, 1.0)]
    assert page_all(service, org, order="desc", limit=1) == [(edge, 1.0), (0, 0.0)]
    page = service.data(org, "d1", "s1", DataParams(start=1, end=edge), "double")
    assert page.samples == []
