"""The query core: pages of a sensor's readings or interval aggregates, and latest values.

It takes validated parameters and a store; who may read which sensor is decided before
(`functions.query.access`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from functions.query.aggregate import aggregate, check_type
from functions.query.params import Cursor, DataParams
from functions.query.series import Pair, Sample, read_series
from shared.store import Store
from shared.telemetry.chunks import chunks_path
from shared.telemetry.timestamps import MAX_NS

__all__ = ["DataPage", "QueryService"]


@dataclass(frozen=True, slots=True)
class DataPage:
    """One page: the `(ts, value)` pairs (readings, or intervals as `Sample`s) in the requested
    order and the cursor of the next page, if any."""

    samples: list[Pair]
    next: str | None


def _window(params: DataParams) -> tuple[int, int | None]:
    """[start, end) narrowed by the cursor: after the last reading (or interval) it returned."""
    start, end = params.start, params.end
    cursor = params.cursor
    if cursor is None:
        return start, end
    if params.order == "desc":
        return start, cursor.position if end is None else min(end, cursor.position)
    step = params.every if params.agg else 1
    return max(start, cursor.position + (step or 1)), end


@dataclass
class QueryService:
    """Reads sensors' time series from `store`."""

    store: Store

    def data(
        self, org: str, device: str, sensor: str, params: DataParams, sensor_type: str | None
    ) -> DataPage:
        """Readings in [from, to) (or aggregates per interval), `limit` per page."""
        if params.agg is not None:
            check_type(params.agg, sensor_type)
        start, end = _window(params)
        if start > MAX_NS or (end is not None and end <= start):
            return DataPage([], None)
        descending = params.order == "desc"
        samples: Iterator[Pair] = read_series(
            self.store, chunks_path(org, device, sensor), start, end, descending
        )
        if params.agg is not None and params.every is not None:
            samples = aggregate(samples, params.agg, params.every)
        items = list(islice(samples, params.limit + 1))  # readings stay as decoded: no copies
        following = None
        if len(items) > params.limit:
            items = items[: params.limit]
            position = int(items[-1][0])
            following = Cursor(params.order, position, params.agg, params.every).encode()
        return DataPage(items, following)

    def latest(self, org: str, device: str, sensor: str) -> Sample | None:
        """The sensor's newest reading, None before the first one."""
        series = read_series(self.store, chunks_path(org, device, sensor), 0, None, True)
        newest = next(iter(series), None)
        return None if newest is None else Sample(newest[0], newest[1])
