"""Reading one sensor's time series out of its chunk documents, in time order, without duplicates.

Chunks of one sensor may overlap in time (messages arrive out of order, and a device may send
the same instant twice). Documents are fetched ordered by `first` (ascending reads) or `last`
(descending reads), a page at a time, and merged with a heap: a reading is final once the next
document starts after it, so paging never loads more than the documents overlapping the page.
Of several readings of the same instant, the one received last wins (ties: the greater chunk id).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from shared.store import Document, Filter, Query, Store
from shared.telemetry.chunks import BUCKET_NS, bucket_of, decode_pairs
from shared.telemetry.timestamps import MAX_NS

__all__ = ["DOCS_PER_PAGE", "ChunkSource", "Pair", "Sample", "merge", "read_series"]

DOCS_PER_PAGE = 100

Pair = Sequence[Any]  # (ts, value): a tuple, or the [ts, value] list a chunk decodes to
_ts = itemgetter(0)


class Sample(NamedTuple):
    """One reading (or interval) as the API returns it."""

    ts: int
    value: Any


@dataclass(frozen=True, slots=True)
class ChunkSource:
    """A chunk document reduced to what merging needs (`readings` sorted by time, one per
    instant, as the writer makes them)."""

    id: str
    first: int
    last: int
    received: int
    readings: Sequence[Pair]

    @classmethod
    def from_document(cls, document: Document) -> ChunkSource:
        data = document.data
        return cls(
            id=document.id,
            first=int(data["first"]),
            last=int(data["last"]),
            received=int(data.get("received", 0)),
            readings=decode_pairs(data["readings"]),
        )


def _within(chunk: ChunkSource, start: int, end: int | None, descending: bool) -> Iterator[Pair]:
    """A chunk's readings in [start, end), in order: a slice, no per-reading work."""
    readings = chunk.readings
    low = 0 if chunk.first >= start else bisect_left(readings, start, key=_ts)
    high = len(readings)
    if end is not None and chunk.last >= end:
        high = bisect_left(readings, end, lo=low, key=_ts)
    part = readings[low:high]
    return reversed(part) if descending else iter(part)


def merge(
    chunks: Iterator[ChunkSource], start: int, end: int | None, descending: bool
) -> Iterator[Pair]:
    """Readings `(ts, value)` of `chunks` in [start, end), deduplicated, ascending or descending.

    `chunks` must come ordered by `first` ascending (or by `last` descending when `descending`).
    A chunk that ends before the next one starts is final as it is and is sliced straight out;
    chunks that overlap go through a heap that keeps one value per instant.
    """
    heap: list[tuple[int, int, int, str, Any]] = []
    seq = 0
    held: ChunkSource | None = None  # the last chunk, not yet known to be disjoint from the next

    def push(chunk: ChunkSource) -> None:
        nonlocal seq
        for ts, value in _within(chunk, start, end, False):
            seq += 1
            heapq.heappush(heap, (-ts if descending else ts, seq, chunk.received, chunk.id, value))

    def drain(bound: float) -> Iterator[Pair]:
        while heap and heap[0][0] < bound:
            key = heap[0][0]
            best = heapq.heappop(heap)
            while heap and heap[0][0] == key:
                other = heapq.heappop(heap)
                if (other[2], other[3]) > (best[2], best[3]):
                    best = other
            yield (-key if descending else key, best[4])

    for chunk in chunks:
        opens = -chunk.last if descending else chunk.first  # where this chunk starts, in order
        if held is not None:
            ends = -held.first if descending else held.last
            if not heap and opens > ends:  # disjoint: the held chunk is final
                yield from _within(held, start, end, descending)
                held = chunk
                continue
            push(held)
            held = None
        yield from drain(opens)
        if heap:
            push(chunk)
        else:
            held = chunk
    if held is not None:
        if not heap:
            yield from _within(held, start, end, descending)
            return
        push(held)
    yield from drain(float("inf"))


def _documents(store: Store, query: Query) -> Iterator[ChunkSource]:
    after = None
    while True:
        page = store.query(
            Query(query.collection, query.where, query.order_by, DOCS_PER_PAGE, after)
        )
        for document in page.documents:
            yield ChunkSource.from_document(document)
        if page.next is None:
            return
        after = page.next


def chunk_query(collection: str, start: int, end: int | None, descending: bool) -> Query:
    """The chunk documents that may hold readings in [start, end), in merge order.

    A chunk lies within one hour bucket, so its `first` is at least the start of the bucket of
    `start`, and its `last` ends before the bucket after the one of `end - 1`: both bounds are
    on the field the documents are ordered by (one single-field index, no composite one).
    """
    if descending:
        where = [Filter("last", ">=", start)]
        bound = None if end is None else (bucket_of(max(end - 1, 0)) + 1) * BUCKET_NS
        if bound is not None and bound <= MAX_NS:
            where.append(Filter("last", "<", bound))
        return Query(collection, tuple(where), (("last", "desc"),))
    where = [Filter("first", ">=", bucket_of(start) * BUCKET_NS)]
    if end is not None:
        where.append(Filter("first", "<", end))
    return Query(collection, tuple(where), (("first", "asc"),))


def read_series(
    store: Store, collection: str, start: int, end: int | None, descending: bool
) -> Iterator[Pair]:
    """A sensor's readings in [start, end), lazily, fetching chunk documents as needed."""
    if end is not None and end <= start:
        return iter(())
    query = chunk_query(collection, start, end, descending)
    return merge(_documents(store, query), start, end, descending)
