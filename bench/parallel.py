"""Run the load from one process, or from several worker processes that share the start time and
the scenario's setup, their histograms merged (HdrHistogram encode/decode) into one result."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import multiprocessing
import signal
import time
from typing import Any

from bench.load import LoadConfig, LoadResult, open_context, run, run_load
from bench.metrics import Recorder
from bench.scenario import Scenario

__all__ = ["run_processes"]


def run_processes(scenario: Scenario, config: LoadConfig, processes: int = 1) -> LoadResult:
    if processes <= 1:
        return run_load(scenario, config)
    return asyncio.run(_parent(scenario, config, processes))


def _share(config: LoadConfig, processes: int) -> LoadConfig:
    """One worker's part of the load: 1/processes of the VUs, or of the rate."""
    share = 1.0 / processes
    profile = config.profile.scaled(1.0, share)
    concurrency = max(1, config.concurrency // processes)
    return dataclasses.replace(config, profile=profile, concurrency=concurrency, progress=False)


def _worker(scenario: Scenario, config: LoadConfig, state: dict[str, Any], start: float,
            queue: Any) -> None:  # fmt: skip
    async def main() -> LoadResult:
        stop = asyncio.Event()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
        return await run(
            scenario, config, stop=stop, state=state, start_wall=start, out=io.StringIO()
        )

    result = asyncio.run(main())
    queue.put((result.recorder.to_state(), result.elapsed, result.vus, result.interrupted))


async def _parent(scenario: Scenario, config: LoadConfig, processes: int) -> LoadResult:
    async with open_context(config) as ctx:
        await scenario.setup(ctx)
        try:
            start = time.time() + 3.0  # the workers' imports and clients are ready by then
            spawn = multiprocessing.get_context("spawn")
            queue = spawn.Queue()
            share = _share(config, processes)
            parts_config = [
                dataclasses.replace(share, worker=i, workers=processes) for i in range(processes)
            ]
            workers = [
                spawn.Process(target=_worker, args=(scenario, part, ctx.state, start, queue))
                for part in parts_config
            ]
            for worker in workers:
                worker.start()
            loop = asyncio.get_running_loop()
            with contextlib.suppress(NotImplementedError, RuntimeError):
                # Ctrl-C reaches the workers too: each stops cleanly and reports
                loop.add_signal_handler(signal.SIGINT, lambda: None)
            parts = [await loop.run_in_executor(None, queue.get) for _ in workers]
            for worker in workers:
                worker.join(10)
            recorder = Recorder()
            for state, *_ in parts:
                recorder.merge(state)
            e2e = await scenario.verify(ctx, recorder, start)
        finally:
            await scenario.teardown(ctx)
    longest = max(len(part[2]) for part in parts)
    vus = [sum(p[2][i] for p in parts if i < len(p[2])) for i in range(longest)]
    elapsed = max(part[1] for part in parts)
    interrupted = any(part[3] for part in parts)
    return LoadResult(
        recorder, start, elapsed, interrupted, vus, ctx.state, scenario.costs(ctx), e2e
    )
