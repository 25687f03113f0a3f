"""Reading one sensor's time series out of its chunk documents, in time order, without duplicates.

Chunks of one sensor may overlap in time (messages arrive out of order, and a device may send
the same instant twice). Documents are fetched ordered by `first` (ascending reads) or `last`
(descending reads), a page at a time, and merged with a heap: a reading is final once the next
document starts after it, so paging never loads more than the documents overlapping the page.
Of several readings of the same instant, the one received last wins (ties: the greater chunk id).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shared.store import Document, Filter, Query, Store
from shared.telemetry.chunks import BUCKET_NS, bucket_of, decode_readings
from shared.telemetry.timestamps import MAX_NS

__all__ = ["DOCS_PER_PAGE", "ChunkSource", "Sample", "merge", "read_series"]

DOCS_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading as the API returns it."""

    ts: int
    value: Any


@dataclass(frozen=True, slots=True)
class ChunkSource:
    """A chunk document reduced to what merging needs."""

    id: str
    first: int
    last: int
    received: int
    readings: list[tuple[int, Any]]

    @classmethod
    def from_document(cls, document: Document) -> ChunkSource:
        data = document.data
        return cls(
            id=document.id,
            first=int(data["first"]),
            last=int(data["last"]),
            received=int(data.get("received", 0)),
            readings=decode_readings(data["readings"]),
        )


def merge(
    chunks: Iterator[ChunkSource], start: int, end: int | None, descending: bool
) -> Iterator[Sample]:
    """Readings of `chunks` in [start, end), deduplicated, ascending or descending.

    `chunks` must come ordered by `first` ascending (or by `last` descending when `descending`).
    """
    heap: list[tuple[int, int, int, str, Any]] = []
    seq = 0

    def drain(bound: float) -> Iterator[Sample]:
        while heap and heap[0][0] < bound:
            key = heap[0][0]
            best = heapq.heappop(heap)
            while heap and heap[0][0] == key:
                other = heapq.heappop(heap)
                if (other[2], other[3]) > (best[2], best[3]):
                    best = other
            yield Sample(-key if descending else key, best[4])

    for chunk in chunks:
        yield from drain(-chunk.last if descending else chunk.first)
        for ts, value in chunk.readings:
            if ts < start or (end is not None and ts >= end):
                continue
            seq += 1
            heapq.heappush(heap, (-ts if descending else ts, seq, chunk.received, chunk.id, value))
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
) -> Iterator[Sample]:
    """A sensor's readings in [start, end), lazily, fetching chunk documents as needed."""
    if end is not None and end <= start:
        return iter(())
    query = chunk_query(collection, start, end, descending)
    return merge(_documents(store, query), start, end, descending)
