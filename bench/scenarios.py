"""Scenarios: what one virtual user does per request, plus the data it needs set up and cleaned.

A scenario is a plug-in: a `Scenario` subclass registered under a name with `@register`, or any
class named on the command line as `package.module:Class`. The engine calls `setup(ctx)` once,
`request(ctx, vu)` in a loop (it returns an HTTP status or the name of what went wrong), then
`teardown(ctx)`. What setup makes goes into `ctx.state`, kept JSON-safe so worker processes can
receive it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from bench.metrics import Outcome

__all__ = ["SCENARIOS", "Context", "Scenario", "get", "register"]


@dataclass
class Context:
    """What a scenario works with: the one HTTP client, the admin login, options, its state."""

    client: httpx.AsyncClient
    target: str
    username: str = "admin"
    password: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    vus: int = 1  # the most VUs (or concurrent arrivals) the run will have
    state: dict[str, Any] = field(default_factory=dict)

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

    async def setup(self, ctx: Context) -> None:
        return None

    async def request(self, ctx: Context, vu: int) -> Outcome:
        raise NotImplementedError

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
        response = await ctx.client.post("/", json={"vu": vu, "hello": "stratus"})
        return response.status_code
