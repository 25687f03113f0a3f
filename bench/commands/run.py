"""`python -m bench run`: one scenario under one profile (`bench.runner.run_one`)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.commands.base import Command, add_target_arguments, env

if TYPE_CHECKING:
    from bench.runner import RunConfig

__all__ = ["COMMAND", "parse_options", "run_config"]


def _arguments(run: argparse.ArgumentParser) -> None:
    add_target_arguments(run)
    run.add_argument(
        "--scenario",
        default=env("STRATUS_BENCH_SCENARIO", "trivial"),
        help="a scenario name or package.module:Class (STRATUS_BENCH_SCENARIO)",
    )
    run.add_argument(
        "--profile",
        choices=["linear", "random", "spike", "sprint", "rate"],
        default=env("STRATUS_BENCH_PROFILE"),
        help="VU profile, or rate for open loop (default: rate with --rate, else linear)",
    )
    run.add_argument(
        "--scale",
        type=float,
        default=float(env("STRATUS_BENCH_SCALE", 1.0)),
        help="time scale: 0.05 turns 30 minutes into 90 s (STRATUS_BENCH_SCALE)",
    )
    run.add_argument("--duration", type=float, help="total seconds (overrides --scale)")
    run.add_argument("--vus", type=float, help="peak VUs (default: the study's, 100)")
    run.add_argument("--vu-scale", type=float, default=1.0, help="multiply the profile's VUs")
    run.add_argument("--rate", type=float, help="open loop: requests per second")
    run.add_argument(
        "--concurrency",
        type=int,
        default=100,
        help="open loop: most requests in flight (more arrivals are dropped)",
    )
    run.add_argument(
        "--think", type=float, default=0.0, help="closed loop: seconds between requests"
    )
    run.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    run.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="scenario option, e.g. batch=100, devices=10, time_format=rfc3339",
    )
    run.add_argument("--out", help="results folder (default bench/results/<stamp>-<scenario>)")
    run.add_argument(
        "--baseline",
        action="store_true",
        help="also run the same profile against a functions-framework echo function",
    )
    run.add_argument(
        "--server-pid",
        type=int,
        action="append",
        default=[],
        help="a local target's process: its CPU seconds (with children) feed the cost",
    )
    run.add_argument("--processes", type=int, default=1, help="load generator processes")
    run.add_argument("--quiet", action="store_true", help="no live progress line")


def parse_options(pairs: Sequence[str]) -> dict[str, str]:
    """`--option NAME=VALUE` flags as a dict."""
    options = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--option {pair!r}: expected NAME=VALUE")
        options[name] = value
    return options


def run_config(args: argparse.Namespace) -> RunConfig:
    """The run the parsed flags describe."""
    from bench.runner import RunConfig

    return RunConfig(
        scenario=args.scenario, target=args.target, profile=args.profile, scale=args.scale,
        duration=args.duration, vus=args.vus, vu_scale=args.vu_scale, rate=args.rate,
        concurrency=args.concurrency, think=args.think, timeout=args.timeout,
        username=args.username, password=args.password, options=parse_options(args.option),
        mqtt=args.mqtt, data_dir=args.data_dir, baseline=args.baseline,
        server_pids=tuple(args.server_pid), processes=args.processes,
        progress=not args.quiet, out=args.out,
    )  # fmt: skip


def _main(args: argparse.Namespace, command: str) -> int:
    from bench.registry import UnknownScenario
    from bench.runner import run_one
    from bench.stratus_api import SetupError

    started = time.monotonic()
    try:
        outcome = run_one(run_config(args))
    except (SetupError, UnknownScenario) as exc:
        raise SystemExit(str(exc)) from None
    print(f"done in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 130 if outcome.interrupted else 0


COMMAND = Command("run", "run one scenario under one profile", _arguments, _main)
