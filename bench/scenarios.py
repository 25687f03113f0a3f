"""Scenarios: what one virtual user does per request, plus the data it needs set up and cleaned.

A scenario is a plug-in: a `Scenario` subclass registered under a name with `@register`, or any
class named on the command line as `package.module:Class`. The engine calls `setup(ctx)` once,
`open(ctx)` in every load process before the clock starts (connections), `request(ctx, vu)` in a
loop (it returns an HTTP status or the name of what went wrong), `close(ctx)` in every process,
`verify(ctx, recorder, started_at)` once (end-to-end figures for the results), then
`teardown(ctx)`. What setup makes goes into `ctx.state`, kept JSON-safe so worker processes can
receive it.
"""

from __future__ import annotations

import importlib
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from bench import stratus_api as api
from bench.http import LoadClient
from bench.metrics import Outcome, Recorder
from bench.stored import StoredReadings

__all__ = ["SCENARIOS", "Context", "Scenario", "get", "register"]


@dataclass
class Context:
    """What a scenario works with: the HTTP clients, the admin login, options, its state.

    `client` (httpx) serves setup, verification and teardown; `http` serves the measured requests.
    """

    client: httpx.AsyncClient
    http: LoadClient
    target: str
    username: str = "admin"
    password: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    vus: int = 1  # the most VUs (or concurrent arrivals) the run will have
    state: dict[str, Any] = field(default_factory=dict)
    mqtt: str | None = None  # the broker as host:port, for MQTT scenarios
    timeout: float = 30.0  # per request, seconds
    worker: int = 0  # this load generator process (0 .. workers - 1)
    workers: int = 1

    def option(self, name: str, default: Any) -> Any:
        """`--option name=value`, converted to the type of `default`."""
        raw = self.options.get(name)
        return default if raw is None else type(default)(raw)


class Scenario:
    """Base class: override `request`, and `setup`/`teardown` when the scenario needs data."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # What one request costs the platform: estimates the cost model multiplies by the requests.
    readings_per_request: ClassVar[int] = 0
    bus_messages_per_request: ClassVar[int] = 0
    store_reads_per_request: ClassVar[int] = 0
    store_writes_per_request: ClassVar[int] = 0

    # "http" or "mqtt": what the requests travel over; `--baseline` runs the same load against
    # a functions-framework echo (http) or a plain Mosquitto with a plain subscriber (mqtt)
    transport: ClassVar[str] = "http"

    async def setup(self, ctx: Context) -> None:
        return None

    async def open(self, ctx: Context) -> None:
        """Per load process, before the clock starts: open what requests need (connections)."""
        return None

    async def request(self, ctx: Context, vu: int) -> Outcome:
        raise NotImplementedError

    async def close(self, ctx: Context) -> None:
        """Per load process, after the load: close what `open` opened."""
        return None

    async def verify(
        self, ctx: Context, recorder: Recorder, started_at: float
    ) -> dict[str, Any] | None:
        """Once, after the load and before teardown: end-to-end figures (result["e2e"])."""
        return None

    async def teardown(self, ctx: Context) -> None:
        return None

    def costs(self, ctx: Context) -> dict[str, int]:
        """Per-request estimates for the cost model (scenarios with options may override)."""
        return {
            "readings": self.readings_per_request,
            "bus_messages": self.bus_messages_per_request,
            "store_reads": self.store_reads_per_request,
            "store_writes": self.store_writes_per_request,
        }


SCENARIOS: dict[str, type[Scenario]] = {}


def register(cls: type[Scenario]) -> type[Scenario]:
    """Class decorator: make a scenario available by its `name`."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    SCENARIOS[cls.name] = cls
    return cls


def get(name: str) -> Scenario:
    """A registered scenario by name, or a plug-in class given as `package.module:Class`."""
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, Scenario)):
            raise ValueError(f"{name}: not a Scenario subclass")
        return cls()
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
    return SCENARIOS[name]()


@register
class Trivial(Scenario):
    """POST / with a small JSON body: the baseline against a trivial echo function."""

    name = "trivial"
    description = "POST / with a small JSON body (baseline)"

    async def request(self, ctx: Context, vu: int) -> Outcome:
        return (await ctx.http.post("/", json={"vu": vu, "hello": "stratus"})).status


class _Admin(Scenario):
    """Scenarios that sign in as the admin during setup and may create devices and sensors."""

    devices = 0  # devices to create, each with one sensor and its device token
    sensors_per_device = 1

    async def setup(self, ctx: Context) -> None:
        token = await api.signin(ctx.client, ctx.username, ctx.password)
        ctx.state["admin_token"] = token
        ctx.state["devices"] = []
        run = uuid.uuid4().hex[:8]
        count = ctx.option("devices", self.devices)

        async def make(n: int) -> dict[str, Any]:
            device = await api.create_device(ctx.client, token, f"bench-{run}-{n}")
            ctx.state["devices"].append({"id": device, "sensors": []})
            sensors = [
                await api.new_sensor(ctx.client, token, device, f"bench-{run}-{n}-{s}")
                for s in range(self.sensors_per_device)
            ]
            key = await api.device_key(ctx.client, token, device)
            return {"id": device, "sensors": sensors, "token": key}

        ctx.state["devices"] = await api.each(range(count), make)

    async def teardown(self, ctx: Context) -> None:
        token = ctx.state.get("admin_token")
        if not token:
            return
        await api.each(
            ctx.state.get("devices", []),
            lambda d: api.delete(ctx.client, token, f"/api/devices/{d['id']}"),
        )

    def _admin(self, ctx: Context) -> dict[str, str]:
        return api.bearer(ctx.state["admin_token"])

    def _device(self, ctx: Context, vu: int) -> dict[str, Any]:
        devices = ctx.state["devices"]
        return devices[vu % len(devices)]  # type: ignore[no-any-return]


@register
class Signin(Scenario):
    """POST /api/users/signin with the admin credentials."""

    name = "signin"
    description = "POST /api/users/signin"
    store_reads_per_request = 1

    async def request(self, ctx: Context, vu: int) -> Outcome:
        body = {"username": ctx.username, "password": ctx.password}
        return (await ctx.http.post("/api/users/signin", json=body)).status


@register
class DeviceList(_Admin):
    """GET /api/devices/ as the admin (one device exists)."""

    name = "device-list"
    description = "GET /api/devices/"
    devices = 1
    store_reads_per_request = 1

    async def request(self, ctx: Context, vu: int) -> Outcome:
        return (await ctx.http.get("/api/devices/", headers=self._admin(ctx))).status


@register
class SensorCreate(_Admin):
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
        device = self._device(ctx, vu)["id"]
        name = f"bench-{vu}-{next(self._sequence)}"
        mapping = ctx.option("mapping", api.DEFAULT_MAPPING)
        answer = await ctx.http.post(
            f"/api/devices/{device}/sensors/",
            json=api.sensor_body(name, mapping),
            headers=self._admin(ctx),
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
class SensorGet(_Admin):
    """GET /api/devices/{id}/sensors/{sid}."""

    name = "sensor-get"
    description = "GET /api/devices/{id}/sensors/{sid}"
    devices = 1
    store_reads_per_request = 1

    async def request(self, ctx: Context, vu: int) -> Outcome:
        device = self._device(ctx, vu)
        path = f"/api/devices/{device['id']}/sensors/{device['sensors'][0]}"
        return (await ctx.http.get(path, headers=self._admin(ctx))).status


@register
class IngestSingle(StoredReadings, _Admin):
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
        device = self._device(ctx, vu)
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
class QueryRange(_Admin):
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
        device = self._device(ctx, vu)
        start, end = ctx.state["window"]
        path = f"/api/devices/{device['id']}/sensors/{device['sensors'][0]}/data"
        params = {"from": start, "to": end} | self._params()
        return (await ctx.http.get(path, params=params, headers=self._admin(ctx))).status

    def _params(self) -> dict[str, str]:
        return {}


@register
class QueryAgg(QueryRange):
    """The same range, aggregated: agg=mean, every=1m."""

    name = "query-agg"
    description = "GET .../data?from=..&to=..&agg=mean&every=1m"

    def _params(self) -> dict[str, str]:
        return {"agg": "mean", "every": "1m"}


# the MQTT scenarios register themselves (they build on the classes above)
from bench import mqtt_scenarios as _mqtt_scenarios  # noqa: E402, F401
