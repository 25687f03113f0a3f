"""`python -m bench run|suite|report|scenarios|coldstart`: the harness' command line.

Every flag has an environment variable (shown in --help) so CI and cloud runs need no editing.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["main"]

RESULTS = Path("bench/results")


def _env(name: str, default: Any = None) -> Any:
    return os.environ.get(name, default)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run one scenario under one profile")
    run.add_argument(
        "--target",
        default=_env("STRATUS_BENCH_TARGET", "http://127.0.0.1:8080"),
        help="base URL (STRATUS_BENCH_TARGET)",
    )
    run.add_argument(
        "--mqtt",
        default=_env("STRATUS_BENCH_MQTT"),
        help="MQTT scenarios: the broker as HOST:PORT (STRATUS_BENCH_MQTT; default: the "
        "emulator's <data-dir>/endpoints.json when it is the target)",
    )
    run.add_argument(
        "--data-dir",
        default=_env("STRATUS_DATA_DIR", ".stratus"),
        help="the emulator's data directory, for its endpoints.json (STRATUS_DATA_DIR)",
    )
    run.add_argument(
        "--scenario",
        default=_env("STRATUS_BENCH_SCENARIO", "trivial"),
        help="a scenario name or package.module:Class (STRATUS_BENCH_SCENARIO)",
    )
    run.add_argument(
        "--profile",
        choices=["linear", "random", "spike", "sprint", "rate"],
        default=_env("STRATUS_BENCH_PROFILE"),
        help="VU profile, or rate for open loop (default: rate with --rate, else linear)",
    )
    run.add_argument(
        "--scale",
        type=float,
        default=float(_env("STRATUS_BENCH_SCALE", 1.0)),
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
        "--username",
        default=_env("STRATUS_ADMIN_USERNAME", "admin"),
        help="admin user (STRATUS_ADMIN_USERNAME)",
    )
    run.add_argument(
        "--password",
        default=_env("STRATUS_ADMIN_PASSWORD"),
        help="admin password (STRATUS_ADMIN_PASSWORD)",
    )
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

    report = commands.add_parser("report", help="write BENCHMARKS.md from the latest results")
    report.add_argument(
        "--results",
        help="a results folder (default: the newest bench/results/suite-*, else bench/results)",
    )
    report.add_argument("--output", default="BENCHMARKS.md")

    from bench.suite import add_parser

    add_parser(commands, _env)

    commands.add_parser("scenarios", help="list the scenarios")

    cold = commands.add_parser("coldstart", help="cold start and memory of every function")
    cold.add_argument("--manifest", default=_env("STRATUS_MANIFEST", "serverless.yml"))
    cold.add_argument("--function", action="append", default=[], help="only these functions")
    cold.add_argument("--out", help="write the JSON here (default bench/results/coldstart.json)")
    return parser


def _options(pairs: Sequence[str]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--option {pair!r}: expected NAME=VALUE")
        options[name] = value
    return options


def _run(args: argparse.Namespace, command: str) -> int:
    from bench import cost, profiles, report
    from bench.load import LoadConfig
    from bench.parallel import run_processes
    from bench.scenarios import get

    name = args.profile or ("rate" if args.rate else "linear")
    profile = profiles.make(
        name, scale=args.scale, vus=args.vus, vu_scale=args.vu_scale, duration=args.duration,
        rate_per_second=args.rate,
    )  # fmt: skip
    scenario = get(args.scenario)
    mqtt = None
    if scenario.transport == "mqtt":
        from bench.mqtt_scenarios import broker_address
        from bench.stratus_api import SetupError

        try:
            mqtt = broker_address(args.mqtt, args.data_dir, args.target)
        except SetupError as exc:
            raise SystemExit(str(exc)) from None
    config = LoadConfig(
        args.target, profile, timeout=args.timeout, think=args.think,
        concurrency=args.concurrency, progress=not args.quiet, username=args.username,
        password=args.password, options=_options(args.option), mqtt=mqtt,
    )  # fmt: skip
    described = {
        "target": args.target, "mqtt": mqtt, "profile": name, "points": profile.points,
        "duration_s": profile.duration, "open_loop": profile.open_loop,
        "scale": args.scale, "vus": args.vus, "vu_scale": args.vu_scale, "rate": args.rate,
        "concurrency": args.concurrency, "think": args.think, "timeout": args.timeout,
        "options": config.options, "processes": args.processes, "username": args.username,
    }  # fmt: skip
    print(f"{scenario.name or args.scenario} / {name}: {profile.duration:.1f} s against "
          f"{args.target}; Ctrl-C stops early and keeps the results", file=sys.stderr)  # fmt: skip
    cpu_before = cost.cpu_seconds(args.server_pid) if args.server_pid else 0.0
    loaded = run_processes(scenario, config, args.processes)
    cpu = cost.cpu_seconds(args.server_pid) - cpu_before if args.server_pid else 0.0
    result = report.build(loaded, scenario=args.scenario, config=described, command=command)

    per = result["costs_per_request"]
    counts = cost.Counts(
        requests=result["requests"], readings=per["readings"] * result["requests"],
        bus_messages=per["bus_messages"] * result["requests"],
        bus_message_bytes=int(per.get("bus_message_bytes", 0)),
        store_reads=per["store_reads"] * result["requests"],
        store_writes=per["store_writes"] * result["requests"], cpu_seconds=cpu,
    )  # fmt: skip
    result["cost"] = cost.project(counts, cost.load_prices())
    result["cost"]["cpu_measured"] = bool(args.server_pid)

    if args.baseline and not loaded.interrupted:
        from bench.baseline import run_baseline, summarize

        print(f"baseline for {args.scenario}: the same profile", file=sys.stderr)
        base_name, base_load = run_baseline(scenario, config, args.processes)
        base = report.build(base_load, scenario="baseline", config={}, command="")
        result["baseline"] = summarize(base_name, result, base)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or RESULTS / f"{stamp}-{args.scenario.replace(':', '.')}-{name}"
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
    return 130 if loaded.interrupted else 0


def _report(args: argparse.Namespace) -> int:
    import json

    from bench import benchmarks, report

    suites = sorted(RESULTS.glob("suite-*/suite.json"))
    folder = Path(args.results) if args.results else suites[-1].parent if suites else RESULTS
    results = report.latest(folder)
    if not results:
        print(f"no results under {folder}", file=sys.stderr)
        return 1
    extra = {}
    for name in ("coldstart", "suite"):
        path = folder / f"{name}.json"
        extra[name] = json.loads(path.read_text()) if path.exists() else None
    Path(args.output).write_text(benchmarks.render(results, extra["coldstart"], extra["suite"]))
    print(f"{args.output}: {len(results)} scenario runs from {folder}", file=sys.stderr)
    return 0


def _coldstart(args: argparse.Namespace) -> int:
    import json

    from bench import coldstart

    rows = coldstart.measure_all(args.manifest, args.function or None)
    for row in rows:
        print(coldstart.line(row))
    out = Path(args.out or RESULTS / "coldstart.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if all(row.get("error") is None for row in rows) else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    command = "python -m bench " + shlex.join(
        a for a in argv if not (a.startswith("--password") and "=" in a)
    )
    if args.command == "run":
        started = time.monotonic()
        code = _run(args, _hide_password(command))
        print(f"done in {time.monotonic() - started:.1f} s", file=sys.stderr)
        return code
    if args.command == "report":
        return _report(args)
    if args.command == "coldstart":
        return _coldstart(args)
    if args.command == "suite":
        from bench import suite

        return suite.run(args, _hide_password(command))
    from bench.scenarios import SCENARIOS

    for name, cls in sorted(SCENARIOS.items()):
        print(f"{name:15s} {cls.description}")
    return 0


def _hide_password(command: str) -> str:
    parts = shlex.split(command)
    for i, part in enumerate(parts[:-1]):
        if part == "--password":
            parts[i + 1] = "***"
    return shlex.join(parts)
