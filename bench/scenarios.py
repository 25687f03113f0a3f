"""The HTTP scenarios: the trivial baseline, the management API calls of the TUM study (sign-in,
device list, sensor create and get), HTTP ingest (single readings and batches) and the query API
(a range, aggregated). `python -m bench scenarios` lists them; `bench.registry` says how to add one.
"""

from __future__ import annotations

import itertools
import time

from bench import stratus_api as api
from bench.metrics import Outcome
from bench.registry import register
from bench.scenario import AdminScenario, Context, Scenario
from bench.stored import StoredReadings

__all__ = [
    "DeviceList", "IngestBatch", "IngestSingle", "QueryAgg", "QueryRange", "SensorCreate",
    "SensorGet", "Signin", "Trivial",
]  # fmt: skip


@register
class Trivial(Scenario):
    """POST / with a small JSON body: the baseline against a trivial echo function."""

    name = "trivial"
    description = "POST / with a small JSON body (baseline)"

    async def request(self, ctx: Context, vu: int) -> Outcome:
        return (await ctx.http.post("/", json={"vu": vu, "hello": "stratus"})).status


@register
class Signin(Scenario):
    """POST /api/users/signin with the admin credentials."""

    name = "signin"
    description = "POST /api/users/signin"
    # the user name index, the user, and the two failure budgets' current and previous windows
    # read before the password and again before the answer (a success writes nothing)
    store_reads_per_request = 10

    async def request(self, ctx: Context, vu: int) -> Outcome:
        body = {"username": ctx.username, "password": ctx.password}
        return (await ctx.http.post("/api/users/signin", json=body)).status


@register
class DeviceList(AdminScenario):
    """GET /api/devices/ as the admin (one device exists)."""

    name = "device-list"
    description = "GET /api/devices/"
    devices = 1
    store_reads_per_request = 1

    async def request(self, ctx: Context, vu: int) -> Outcome:
        return (await ctx.http.get("/api/devices/", headers=self.admin_headers(ctx))).status


@register
class SensorCreate(AdminScenario):
    """POST /api/devices/{id}/sensors/ with a fresh name each time; teardown deletes them."""

    name = "sensor-create"
    description = "POST /api/devices/{id}/sensors/"
    devices = 1
    sensors_per_device = 0
    store_reads_per_request = 1
    store_writes_per_request = 1

    def __init__(self) -> None:
        self.created: list[tuple[str, str]] = []
        self._sequence = itertools.count()

    async def request(self, ctx: Context, vu: int) -> Outcome:
        device = self.device(ctx, vu)["id"]
        name = f"bench-{vu}-{next(self._sequence)}"
        mapping = ctx.option("mapping", api.DEFAULT_MAPPING)
        answer = await ctx.http.post(
            f"/api/devices/{device}/sensors/",
            json=api.sensor_body(name, mapping),
            headers=self.admin_headers(ctx),
        )
        if answer.is_success:
            self.created.append((device, str(answer.json()["id"])))
        return answer.status

    async def teardown(self, ctx: Context) -> None:
        token = ctx.state.get("admin_token")
        if token:
            await api.each(
                self.created,
                lambda ds: api.delete(ctx.client, token, f"/api/devices/{ds[0]}/sensors/{ds[1]}"),
            )
        await super().teardown(ctx)


@register
class SensorGet(AdminScenario):
    """GET /api/devices/{id}/sensors/{sid}."""

    name = "sensor-get"
    description = "GET /api/devices/{id}/sensors/{sid}"
    devices = 1
    store_reads_per_request = 1

    async def request(self, ctx: Context, vu: int) -> Outcome:
        device = self.device(ctx, vu)
        path = f"/api/devices/{device['id']}/sensors/{device['sensors'][0]}"
        return (await ctx.http.get(path, headers=self.admin_headers(ctx))).status


@register
class IngestSingle(StoredReadings, AdminScenario):
    """POST /ingest with a device token: `batch` readings per request (options: batch, devices,
    time_format, e2e_wait, e2e_idle). Devices are shared round-robin by the VUs; after the load
    the accepted readings are counted back through the query API (the end-to-end figure)."""

    name = "ingest-single"
    description = "POST /ingest, one reading per request"
    devices = 10
    batch = 1
    # ingest publishes to telemetry-raw, the normalizer republishes: 2 publishes, 2 deliveries
    bus_messages_per_request = 4

    async def request(self, ctx: Context, vu: int) -> Outcome:
        device = self.device(ctx, vu)
        body = api.readings(
            device["sensors"][0], ctx.option("batch", self.batch), ctx.option("time_format", "ns")
        )
        answer = await ctx.http.post("/ingest", json=body, headers=api.bearer(device["token"]))
        return answer.status

    def costs(self, ctx: Context) -> dict[str, int]:
        batch = ctx.option("batch", self.batch)
        return super().costs(ctx) | {"readings": batch, "store_writes": batch}


@register
class IngestBatch(IngestSingle):
    """POST /ingest with 100 readings per request (`--option batch=N`)."""

    name = "ingest-batch"
    description = "POST /ingest, a batch of readings per request"
    batch = 100


@register
class QueryRange(AdminScenario):
    """GET /api/devices/{d}/sensors/{s}/data over the last hour, after seeding readings
    (options: seed, time_format)."""

    name = "query-range"
    description = "GET .../data?from=..&to=.. (one hour)"
    devices = 1
    store_reads_per_request = 1

    async def setup(self, ctx: Context) -> None:
        await super().setup(ctx)
        device = ctx.state["devices"][0]
        hour = 3600 * 10**9
        now = time.time_ns()
        seed = ctx.option("seed", 1000)
        step = hour // max(seed, 1)
        fmt = ctx.option("time_format", "ns")
        for first in range(0, seed, 500):
            body = api.readings(
                device["sensors"][0], min(500, seed - first), fmt, now - hour + first * step, step
            )
            answer = await ctx.client.post(
                "/ingest", json=body, headers=api.bearer(device["token"])
            )
            if not answer.is_success:
                raise api.SetupError(f"seeding readings: {answer.status_code} {answer.text[:300]}")
        ctx.state["window"] = [api.timestamp(now - hour, fmt), api.timestamp(now + hour, fmt)]

    async def request(self, ctx: Context, vu: int) -> Outcome:
        device = self.device(ctx, vu)
        start, end = ctx.state["window"]
        path = f"/api/devices/{device['id']}/sensors/{device['sensors'][0]}/data"
        params = {"from": start, "to": end} | self._params()
        return (await ctx.http.get(path, params=params, headers=self.admin_headers(ctx))).status

    def _params(self) -> dict[str, str]:
        return {}


@register
class QueryAgg(QueryRange):
    """The same range, aggregated: agg=mean, every=1m."""

    name = "query-agg"
    description = "GET .../data?from=..&to=..&agg=mean&every=1m"

    def _params(self) -> dict[str, str]:
        return {"agg": "mean", "every": "1m"}
