"""Merging overlapping chunks: time order both ways, range bounds, and one value per instant (the
one received last)."""

from __future__ import annotations

import random
from collections.abc import Iterable

from functions.query.series import ChunkSource, Sample, merge


def chunk(chunk_id: str, readings: Iterable[tuple[int, object]], received: int = 0) -> ChunkSource:
    pairs = sorted(readings, key=lambda pair: pair[0])
    return ChunkSource(chunk_id, pairs[0][0], pairs[-1][0], received, pairs)


def merged(
    chunks: list[ChunkSource], start: int = 0, end: int | None = None, desc: bool = False
) -> list[tuple[int, object]]:
    if desc:
        ordered = sorted(chunks, key=lambda c: -c.last)
    else:
        ordered = sorted(chunks, key=lambda c: c.first)
    return [(ts, value) for ts, value in merge(iter(ordered), start, end, desc)]


def test_overlapping_chunks_come_out_in_time_order() -> None:
    a = chunk("a", [(1, "a1"), (5, "a5"), (9, "a9")])
    b = chunk("b", [(2, "b2"), (3, "b3"), (12, "b12")])
    c = chunk("c", [(10, "c10")])
    expected = [(1, "a1"), (2, "b2"), (3, "b3"), (5, "a5"), (9, "a9"), (10, "c10"), (12, "b12")]
    assert merged([a, b, c]) == expected
    assert merged([a, b, c], desc=True) == expected[::-1]


def test_range_is_half_open() -> None:
    a = chunk("a", [(ts, ts) for ts in range(10)])
    assert merged([a], 3, 6) == [(3, 3), (4, 4), (5, 5)]
    assert merged([a], 3, 6, desc=True) == [(5, 5), (4, 4), (3, 3)]
    assert merged([a], 10, None) == []


def test_the_same_instant_keeps_the_value_received_last() -> None:
    early = chunk("b-early", [(1, "old"), (2, "only-early")], received=100)
    late = chunk("a-late", [(1, "new"), (3, "only-late")], received=200)
    expected = [(1, "new"), (2, "only-early"), (3, "only-late")]
    assert merged([early, late]) == expected
    assert merged([late, early]) == expected
    assert merged([early, late], desc=True) == expected[::-1]


def test_a_redelivered_copy_adds_nothing_and_ties_go_to_the_greater_chunk_id() -> None:
    one = chunk("x", [(1, 1.0), (2, 2.0)], received=7)
    copy = chunk("x", [(1, 1.0), (2, 2.0)], received=7)
    assert merged([one, copy]) == [(1, 1.0), (2, 2.0)]
    low = chunk("k1", [(5, "from k1")], received=7)
    high = chunk("k2", [(5, "from k2")], received=7)
    assert merged([low, high]) == merged([high, low]) == [(5, "from k2")]


def test_merging_is_lazy() -> None:
    pulled: list[str] = []

    def source() -> Iterable[ChunkSource]:
        for index in range(1000):
            pulled.append(str(index))
            yield chunk(f"{index:04d}", [(index * 10, index), (index * 10 + 1, index)])

    stream = merge(iter(source()), 0, None, False)
    first = [next(stream) for _ in range(4)]
    assert first == [Sample(0, 0), Sample(1, 0), Sample(10, 1), Sample(11, 1)]
    assert len(pulled) <= 4


def test_random_overlaps_match_a_plain_sort() -> None:
    rng = random.Random(4)
    for _ in range(50):
        chunks, truth = [], {}
        for index in range(rng.randint(1, 8)):
            received = rng.randint(0, 5)
            readings = {rng.randint(0, 60): rng.random() for _ in range(rng.randint(1, 10))}
            chunks.append(chunk(f"c{index}", readings.items(), received))
            for ts, value in readings.items():
                rank = (received, f"c{index}")
                if ts not in truth or rank > truth[ts][0]:
                    truth[ts] = (rank, value)
        start, end = rng.randint(0, 30), rng.choice([None, rng.randint(30, 70)])
        expected = [
            (ts, truth[ts][1]) for ts in sorted(truth) if ts >= start and (end is None or ts < end)
        ]
        assert merged(chunks, start, end) == expected
        assert merged(chunks, start, end, desc=True) == expected[::-1]
