"""The load engine: closed-loop virtual users following a profile, or an open-loop constant
arrival rate, over keep-alive HTTP/1.1 (bench.http); live progress and a clean stop on Ctrl-C.

Closed loop: every 100 ms the number of VUs is set to the profile's value; each VU sends its next
request as soon as the last one answered (plus an optional think time). Open loop: requests start
at scheduled times (k / rate); latency counts from the scheduled time, so a slow target cannot
hide its queueing (no coordinated omission); when every slot is busy an arrival is dropped and
counted, one that starts more than `late_after` behind schedule is counted as late.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from bench.http import LoadClient
from bench.metrics import Outcome, Recorder
from bench.profiles import Profile
from bench.scenario import Context, Scenario

__all__ = ["LoadConfig", "LoadResult", "open_context", "run", "run_load"]


@dataclass
class LoadConfig:
    target: str
    profile: Profile
    timeout: float = 30.0  # per request
    think: float = 0.0  # closed loop: pause between a VU's requests
    concurrency: int = 100  # open loop: most requests in flight
    late_after: float = 0.010  # open loop: seconds behind schedule that count as late
    tick: float = 0.1
    grace: float = 10.0  # at the end: how long to let requests in flight finish
    progress: bool = True
    username: str = "admin"
    password: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    mqtt: str | None = None  # the broker as host:port, for MQTT scenarios
    store: str | None = None  # the emulator's Firestore (host:port), for store figures
    project: str = ""
    worker: int = 0  # this process' index when several share the load
    workers: int = 1

    @property
    def max_vus(self) -> int:
        peak = round(self.profile.peak)
        return self.concurrency if self.profile.open_loop else max(peak, 1)


@dataclass
class LoadResult:
    recorder: Recorder
    started_at: float  # wall clock (epoch seconds) of t = 0
    elapsed: float
    interrupted: bool
    vus: list[int]  # VUs (closed loop) or requests in flight (open loop), sampled each second
    state: dict[str, Any]
    costs: dict[str, int]
    e2e: dict[str, Any] | None = None  # the scenario's end-to-end figures (`verify`)


class _Clock:
    """Seconds since a start given on the wall clock (so several processes can share it)."""

    def __init__(self, start_wall: float) -> None:
        self.start_wall = start_wall
        self._zero = time.perf_counter() + (start_wall - time.time())

    def __call__(self) -> float:
        return time.perf_counter() - self._zero


async def _call(scenario: Scenario, ctx: Context, vu: int) -> Outcome:
    try:
        return await scenario.request(ctx, vu)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # every failure is an outcome, named by its class
        return type(exc).__name__


class _Run:
    def __init__(self, scenario: Scenario, ctx: Context, config: LoadConfig, stop: asyncio.Event):
        self.scenario, self.ctx, self.config, self.stop = scenario, ctx, config, stop
        self.recorder = Recorder()
        self.vus: list[int] = []  # the most VUs (or requests in flight) in each second
        self._active = self._peak = 0

    @property
    def active(self) -> int:
        return self._active

    @active.setter
    def active(self, value: int) -> None:
        self._active = value
        self._peak = max(self._peak, value)

    async def closed_loop(self, clock: _Clock) -> None:
        flags: list[asyncio.Event] = []
        tasks: set[asyncio.Task[None]] = set()

        async def user(index: int, retire: asyncio.Event) -> None:
            while not retire.is_set():
                began = clock()
                outcome = await _call(self.scenario, self.ctx, index)
                done = clock()
                self.recorder.record(outcome, done - began, done)
                if self.config.think:
                    await asyncio.sleep(self.config.think)

        profile = self.config.profile
        while not self.stop.is_set():
            now = clock()
            if now >= profile.duration:
                break
            target = profile.vus_at(now)
            while len(flags) < target:
                flags.append(asyncio.Event())
                task = asyncio.create_task(user(len(flags) - 1, flags[-1]))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            while len(flags) > target:
                flags.pop().set()
            self.active = len(flags)
            await self._sleep(self.config.tick)
        for flag in flags:
            flag.set()
        self.active = 0
        await self._drain(tasks)

    async def open_loop(self, clock: _Clock) -> None:
        profile, config = self.config.profile, self.config
        rate = profile.value_at(0)
        interval = 1.0 / rate if rate > 0 else float("inf")
        tasks: set[asyncio.Task[None]] = set()

        async def arrival(scheduled: float, slot: int) -> None:
            outcome = await _call(self.scenario, self.ctx, slot)
            done = clock()
            self.recorder.record(outcome, done - scheduled, done)

        k = 0
        while not self.stop.is_set():
            now = clock()
            if now >= profile.duration:
                break
            while k * interval <= now and k * interval < profile.duration:
                scheduled = k * interval
                k += 1
                if len(tasks) >= config.concurrency:
                    self.recorder.dropped += 1
                    continue
                if now - scheduled > config.late_after:
                    self.recorder.late += 1
                task = asyncio.create_task(arrival(scheduled, k % config.concurrency))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            self.active = len(tasks)
            wait = k * interval - clock()
            await self._sleep(min(max(wait, 0.0), config.tick))
        await self._drain(tasks)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)

    async def _drain(self, tasks: set[asyncio.Task[None]]) -> None:
        if tasks:
            _, pending = await asyncio.wait(set(tasks), timeout=self.config.grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def progress(self, clock: _Clock, out: TextIO) -> None:
        tty = out.isatty()
        while True:
            await asyncio.sleep(1.0 - (clock() % 1.0))
            now = clock()
            self.vus.append(self._peak)
            self._peak = self._active
            if not self.config.progress:
                continue
            last = self.recorder.last_second(now) or {}
            p95 = last.get("p95_ms")
            line = (
                f"{now:7.1f}s  VUs {self.active:5d}  requests {self.recorder.requests:8d}  "
                f"errors {self.recorder.errors:6d}  rate {last.get('requests', 0):6d}/s  "
                f"p95 {'-' if p95 is None else f'{p95:.1f}'} ms"
            )
            out.write(("\r" + line) if tty else line + "\n")
            out.flush()


async def _measure(load: _Run, clock: _Clock, out: TextIO) -> float:
    while clock() < 0 and not load.stop.is_set():
        await load._sleep(min(-clock(), 0.1))
    ticker = asyncio.create_task(load.progress(clock, out))
    try:
        if load.config.profile.open_loop:
            await load.open_loop(clock)
        else:
            await load.closed_loop(clock)
    finally:
        ticker.cancel()
        await asyncio.gather(ticker, return_exceptions=True)
        if load.config.progress and out.isatty():
            out.write("\n")
    return max(clock(), 0.0)


def _client(config: LoadConfig) -> httpx.AsyncClient:
    size = config.max_vus
    return httpx.AsyncClient(
        base_url=config.target,
        http1=True,
        http2=False,
        timeout=config.timeout,
        limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
    )


async def run(
    scenario: Scenario,
    config: LoadConfig,
    *,
    stop: asyncio.Event | None = None,
    state: dict[str, Any] | None = None,
    start_wall: float | None = None,
    out: TextIO = sys.stderr,
) -> LoadResult:
    """Set up (unless `state` is given by a parent process), run the load, tear down (likewise)."""
    stop = stop or asyncio.Event()
    async with open_context(config, state) as ctx:
        load = _Run(scenario, ctx, config, stop)
        e2e = None
        try:
            if state is None:
                await scenario.setup(ctx)
            try:
                await scenario.open(ctx)
                clock = _Clock(start_wall or time.time())
                elapsed = await _measure(load, clock, out)
            finally:
                await scenario.close(ctx)
            if state is None:
                e2e = await scenario.verify(ctx, load.recorder, clock.start_wall)
        finally:
            if state is None:
                await scenario.teardown(ctx)
        return LoadResult(
            load.recorder, clock.start_wall, elapsed, stop.is_set(), load.vus, ctx.state,
            scenario.costs(ctx), e2e,
        )  # fmt: skip


def _load_client(config: LoadConfig) -> LoadClient:
    return LoadClient(config.target, connections=config.max_vus, timeout=config.timeout)


@contextlib.asynccontextmanager
async def open_context(
    config: LoadConfig, state: dict[str, Any] | None = None
) -> AsyncIterator[Context]:
    """The scenario's context for `config`, its HTTP clients open (state: a parent process'
    setup, else empty)."""
    async with _client(config) as client, _load_client(config) as http:
        yield Context(
            client, http, config.target, config.username, config.password,
            dict(config.options), config.max_vus, dict(state) if state is not None else {},
            mqtt=config.mqtt, timeout=config.timeout, worker=config.worker,
            workers=config.workers, store=config.store, project=config.project,
        )  # fmt: skip


def run_load(
    scenario: Scenario, config: LoadConfig, on_stop: Callable[[], None] | None = None
) -> LoadResult:
    """`run` in a fresh event loop; the first Ctrl-C stops the load cleanly (results are kept),
    a second one interrupts at once."""

    async def main() -> LoadResult:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def interrupted() -> None:
            stop.set()
            if on_stop:
                on_stop()
            loop.remove_signal_handler(signal.SIGINT)
            signal.signal(signal.SIGINT, signal.default_int_handler)

        installed = False
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, interrupted)
            installed = True
        try:
            return await run(scenario, config, stop=stop)
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGINT)

    return asyncio.run(main())
