"""What every scenario builds on: the `Context` it works with, the `Scenario` base class and
`AdminScenario`, the base of scenarios that sign in as the admin and create devices.

A scenario says what one virtual user does per request, plus the data it needs set up and
cleaned. The engine calls `setup(ctx)` once, `open(ctx)` in every load process before the clock
starts (connections), `request(ctx, vu)` in a loop (it returns an HTTP status or the name of what
went wrong), `close(ctx)` in every process, `verify(ctx, recorder, started_at)` once (end-to-end
figures for the results), then `teardown(ctx)`. What setup makes goes into `ctx.state`, kept
JSON-safe so worker processes can receive it. `bench.registry` makes a scenario runnable by name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from bench import stratus_api as api
from bench.http import LoadClient
from bench.metrics import Outcome, Recorder

__all__ = ["AdminScenario", "Context", "Scenario"]


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
    store: str | None = None  # the emulator's Firestore (host:port) when it is the target
    project: str = ""

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


class AdminScenario(Scenario):
    """Signs in as the admin during setup and creates `devices` devices (option `devices`), each
    with `sensors_per_device` sensors and its device token; teardown deletes them."""

    devices = 0  # devices to create, each with its sensors and its device token
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

    def admin_headers(self, ctx: Context) -> dict[str, str]:
        """The admin's authorization header."""
        return api.bearer(ctx.state["admin_token"])

    def device(self, ctx: Context, vu: int) -> dict[str, Any]:
        """The device this VU uses (VUs share the devices round-robin)."""
        devices: list[dict[str, Any]] = ctx.state["devices"]
        return devices[vu % len(devices)]
