"""End-to-end figures of ingest scenarios (HTTP and MQTT): after the load, the readings that were
accepted are counted back through the query API (`agg=count`), and the report shows readings
stored per second from the start of the load and how many never arrived."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import stratus_api as api
from bench.layout import org_of, store_figures
from bench.metrics import Recorder, success_key
from bench.scenario import Context

__all__ = ["StoredReadings", "end_to_end", "published_readings", "wait_for_count"]


def published_readings(recorder: Recorder, batch: int) -> int:
    """Readings in messages the broker acknowledged (QoS 1) or the client sent (QoS 0)."""
    return batch * sum(n for kind, n in recorder.outcomes.items() if success_key(kind))


async def wait_for_count(
    count: Callable[[], Awaitable[int]],
    expected: int,
    *,
    poll: float = 0.25,
    idle: float = 15.0,
    limit: float = 60.0,
    clock: Callable[[], float] = time.time,
) -> tuple[int, float]:
    """Poll `count()` until it reaches `expected`, stops growing for `idle` seconds, or `limit`
    seconds passed; returns the last count and the clock when it was first seen."""
    began = clock()
    seen, seen_at = await count(), clock()
    while seen < expected and clock() - seen_at < idle and clock() - began < limit:
        await asyncio.sleep(poll)
        now = await count()
        if now != seen:
            seen, seen_at = now, clock()
    return seen, seen_at


def end_to_end(published: int, attempted: int, arrived: int, started_at: float,
               arrived_at: float, waited: float, what: str) -> dict[str, Any]:  # fmt: skip
    """The end-to-end figure: readings `what` (stored, received) per second from the start of
    the load to the moment the last one was seen, and how many never arrived."""
    seconds = max(arrived_at - started_at, 1e-9)
    return {
        "what": what,
        "attempted": attempted,
        "published": published,
        what: arrived,
        "lost": max(published - arrived, 0),
        "seconds": round(seconds, 3),
        "per_second": round(arrived / seconds, 1),
        "waited_s": round(waited, 3),
        "complete": arrived >= published,
    }


class StoredReadings:
    """Mixin for scenarios whose devices (`ctx.state["devices"]`, one sensor each) send `batch`
    readings per successful request: `verify` waits for them to be queryable (options `e2e_wait`,
    most seconds to wait, 60; `e2e_idle`, give up after this long without a new reading, 15)."""

    async def verify(
        self, ctx: Context, recorder: Recorder, started_at: float
    ) -> dict[str, Any] | None:
        batch = ctx.option("batch", getattr(self, "batch", 1))
        published = published_readings(recorder, batch)
        window = {
            "from": str(int((started_at - 3600) * 1e9)),
            "to": str(time.time_ns() + 3600 * 10**9),
        }
        devices = ctx.state["devices"]

        async def stored() -> int:
            counts = await api.each(devices, lambda d: _count(ctx, d, window))
            return sum(counts)

        began = time.time()
        arrived, arrived_at = await wait_for_count(
            stored, published, idle=ctx.option("e2e_idle", 15.0),
            limit=ctx.option("e2e_wait", 60.0),
        )  # fmt: skip
        figures = end_to_end(
            published, recorder.requests * batch, arrived, started_at, arrived_at,
            time.time() - began, "stored",
        )  # fmt: skip
        if ctx.store and ctx.state.get("admin_token"):  # the emulator: count what it wrote
            org = org_of(ctx.state["admin_token"])
            figures["store"] = await store_figures(ctx.store, ctx.project, org, devices)
            figures["duplicated"] = figures["store"]["duplicated"]
        return figures


async def _count(ctx: Context, device: dict[str, Any], window: dict[str, str]) -> int:
    """Readings of the device's sensor in `window`, through the query API (agg=count, paged)."""
    path = f"/api/devices/{device['id']}/sensors/{device['sensors'][0]}/data"
    params = window | {"agg": "count", "every": "1d", "limit": "10000"}
    total = 0
    while True:
        answer = await ctx.client.get(
            path, params=params, headers=api.bearer(ctx.state["admin_token"])
        )
        if not answer.is_success:
            raise api.SetupError(f"counting readings: {answer.status_code} {answer.text[:300]}")
        page = answer.json()
        total += sum(int(item["value"]) for item in page["data"])
        if not page.get("next"):
            return total
        params = params | {"cursor": page["next"]}
