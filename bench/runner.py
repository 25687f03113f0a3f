"""One benchmark run: a scenario under a profile against a target (with its baseline when asked),
priced and written to its results folder. `python -m bench run` and the suite both call
`run_one(RunConfig(...))`; `RunConfig.command()` is the `python -m bench run` line that repeats it.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["RESULTS", "RunConfig", "RunOutcome", "run_one"]

RESULTS = Path("bench/results")


@dataclass(frozen=True)
class RunConfig:
    """Everything one run needs; the defaults are `python -m bench run`'s."""

    scenario: str = "trivial"  # a registered name or package.module:Class
    target: str = "http://127.0.0.1:8080"
    profile: str | None = None  # default: "rate" with a rate, else "linear"
    scale: float = 1.0
    duration: float | None = None
    vus: float | None = None
    vu_scale: float = 1.0
    rate: float | None = None  # open loop: requests per second
    concurrency: int = 100  # open loop: most requests in flight
    think: float = 0.0
    timeout: float = 30.0
    username: str = "admin"
    password: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    mqtt: str | None = None  # the broker as HOST:PORT (default: the emulator's endpoints.json)
    data_dir: str = ".stratus"
    baseline: bool = False
    server_pids: tuple[int, ...] = ()  # a local target's processes: their CPU feeds the cost
    processes: int = 1
    progress: bool = True
    out: str | None = None  # default: bench/results/<stamp>-<scenario>-<profile>

    @property
    def profile_name(self) -> str:
        return self.profile or ("rate" if self.rate else "linear")

    def command(self) -> str:
        """The `python -m bench run` command line of this run (a password shows as ***)."""
        default = RunConfig()
        argv = ["run", "--target", self.target, "--scenario", self.scenario,
                "--profile", self.profile_name, "--scale", str(self.scale)]  # fmt: skip
        flags: list[tuple[str, Any]] = [
            ("--duration", self.duration), ("--vus", self.vus), ("--rate", self.rate),
            ("--data-dir", self.data_dir), ("--mqtt", self.mqtt),
            ("--processes", self.processes), ("--username", self.username), ("--out", self.out),
        ]  # fmt: skip
        defaults: list[tuple[str, float, float]] = [
            ("--vu-scale", self.vu_scale, default.vu_scale),
            ("--concurrency", self.concurrency, default.concurrency),
            ("--think", self.think, default.think),
            ("--timeout", self.timeout, default.timeout),
        ]
        for name, value, base in defaults:
            if value != base:
                flags.append((name, value))
        for name, value in flags:
            if value is not None:
                argv += [name, str(value)]
        argv += ["--baseline"] if self.baseline else []
        for pid in self.server_pids:
            argv += ["--server-pid", str(pid)]
        argv += [] if self.progress else ["--quiet"]
        for option, setting in self.options.items():
            argv += ["--option", f"{option}={setting}"]
        argv += ["--password", "***"] if self.password else []
        return "python -m bench " + shlex.join(argv)


@dataclass(frozen=True)
class RunOutcome:
    result: dict[str, Any]  # result.json
    folder: Path
    interrupted: bool  # stopped early by Ctrl-C (the results are still written)


def run_one(config: RunConfig) -> RunOutcome:
    """Run, price, compare with the baseline when asked, and write the results folder.

    Raises `bench.registry.UnknownScenario` for an unknown scenario and
    `bench.stratus_api.SetupError` when the target refuses the setup (or has no broker).
    """
    from bench import cost, profiles, report
    from bench.endpoints import broker_address, emulator_endpoints
    from bench.load import LoadConfig
    from bench.parallel import run_processes
    from bench.registry import get

    name = config.profile_name
    profile = profiles.make(
        name, scale=config.scale, vus=config.vus, vu_scale=config.vu_scale,
        duration=config.duration, rate_per_second=config.rate,
    )  # fmt: skip
    scenario = get(config.scenario)
    mqtt = None
    if scenario.transport == "mqtt":
        mqtt = broker_address(config.mqtt, config.data_dir, config.target)
    endpoints = emulator_endpoints(config.data_dir, config.target)
    load_config = LoadConfig(
        config.target, profile, timeout=config.timeout, think=config.think,
        concurrency=config.concurrency, progress=config.progress, username=config.username,
        password=config.password, options=dict(config.options), mqtt=mqtt,
        store=endpoints.get("firestore"), project=str(endpoints.get("project", "")),
    )  # fmt: skip
    described = {
        "target": config.target, "mqtt": mqtt, "profile": name, "points": profile.points,
        "duration_s": profile.duration, "open_loop": profile.open_loop,
        "scale": config.scale, "vus": config.vus, "vu_scale": config.vu_scale,
        "rate": config.rate, "concurrency": config.concurrency, "think": config.think,
        "timeout": config.timeout, "options": load_config.options,
        "processes": config.processes, "username": config.username,
    }  # fmt: skip
    print(f"{scenario.name or config.scenario} / {name}: {profile.duration:.1f} s against "
          f"{config.target}; Ctrl-C stops early and keeps the results",
          file=sys.stderr)  # fmt: skip
    pids = list(config.server_pids)
    cpu_before = cost.cpu_seconds(pids) if pids else 0.0
    loaded = run_processes(scenario, load_config, config.processes)
    cpu = cost.cpu_seconds(pids) - cpu_before if pids else 0.0
    result = report.build(
        loaded, scenario=config.scenario, config=described, command=config.command()
    )
    result["cost"] = _cost(result, cpu, measured=bool(pids))

    if config.baseline and not loaded.interrupted:
        from bench.baseline import run_baseline, summarize

        print(f"baseline for {config.scenario}: the same profile", file=sys.stderr)
        base_name, base_load = run_baseline(scenario, load_config, config.processes)
        base = report.build(base_load, scenario="baseline", config={}, command="")
        result["baseline"] = summarize(base_name, result, base)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = config.out or RESULTS / f"{stamp}-{config.scenario.replace(':', '.')}-{name}"
    folder = report.write(result, out)
    lat = result["latency_ms"]
    print(f"{result['requests']} requests, {result['errors']} errors, goodput "
          f"{100 * result['goodput']:.1f}%, {result['throughput_rps']:.1f} req/s, p50 "
          f"{lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms, p99 {lat['p99']:.2f} ms -> {folder}",
          file=sys.stderr)  # fmt: skip
    e2e = result.get("e2e")
    if e2e:
        print(f"end to end: {e2e[e2e['what']]} of {e2e['published']} readings {e2e['what']}, "
              f"{e2e['lost']} lost, {e2e['per_second']} readings/s", file=sys.stderr)  # fmt: skip
    return RunOutcome(result, Path(folder), loaded.interrupted)


def _cost(result: dict[str, Any], cpu: float, *, measured: bool) -> dict[str, Any]:
    """The run's cost projection from its requests, the per-request estimates and the CPU."""
    from bench import cost

    per, requests = result["costs_per_request"], result["requests"]
    counts = cost.Counts(
        requests=requests, readings=per["readings"] * requests,
        bus_messages=per["bus_messages"] * requests,
        bus_message_bytes=int(per.get("bus_message_bytes", 0)),
        store_reads=per["store_reads"] * requests,
        store_writes=per["store_writes"] * requests, cpu_seconds=cpu,
    )  # fmt: skip
    stored = (result.get("e2e") or {}).get("store")
    if stored:  # measured in the store: what the platform really wrote and published
        counts.store_writes = stored["documents"]
        counts.bus_messages = 4 * stored["messages"]  # raw + normalized: publish and push each
        counts.push_requests = 2 * stored["messages"]  # to the normalizer and to the writer
    projected = cost.project(counts, cost.load_prices())
    projected["cpu_measured"] = measured
    projected["store_measured"] = bool(stored)
    return projected
