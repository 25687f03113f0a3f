"""`python -m bench suite`: every scenario, briefly, against a running emulator (ingest, MQTT and
query with their baselines), cold start and memory per function, then BENCHMARKS.md: the one
command that regenerates the report.

It reads the emulator's `<data-dir>/endpoints.json` for the broker, the emulator's process (its
CPU seconds feed the cost projection) and the store and bus addresses the cold-start processes
need; a run that fails is reported in BENCHMARKS.md and the others go on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import profiles
from bench.commands.base import Command, add_target_arguments, env

__all__ = ["COMMAND", "PLAN", "Planned", "plan_seconds"]

# (scenario, profile, with baseline, scenario options): the study's shapes (the gateway and API
# under a linear ramp, sensor creation as a sprint), baselines for the data paths, and HTTP
# ingest with batches of 1, 10, 100 and 1000 readings (one baseline is enough for the batches)
Planned = tuple[str, str, bool, tuple[str, ...]]
PLAN: list[Planned] = [
    ("signin", "linear", False, ()),
    ("device-list", "linear", False, ()),
    ("sensor-create", "sprint", False, ()),
    ("sensor-get", "linear", False, ()),
    ("ingest-single", "linear", True, ()),
    ("ingest-single", "rate", False, ("rate=200",)),  # open loop: latency at 200 req/s
    ("ingest-batch", "linear", False, ("batch=10",)),
    ("ingest-batch", "linear", True, ("batch=100",)),
    ("ingest-batch", "linear", False, ("batch=1000",)),
    ("mqtt-qos0", "linear", True, ()),
    ("mqtt-qos1", "linear", True, ()),
    ("query-range", "linear", True, ()),
    ("query-agg", "linear", True, ()),
]


def _arguments(suite: argparse.ArgumentParser) -> None:
    add_target_arguments(suite)
    suite.add_argument("--scale", type=float, default=float(env("STRATUS_BENCH_SCALE", 0.05)),
                       help="time scale of every profile (0.05: 90 s per linear run)")  # fmt: skip
    suite.add_argument("--vus", type=float, help="peak VUs of every run (default the study's 100)")
    suite.add_argument("--profile", help="one profile for every scenario instead of the plan's")
    suite.add_argument("--only", action="append", default=[], help="only these scenarios")
    suite.add_argument("--no-baseline", action="store_true", help="skip the baselines")
    suite.add_argument("--no-coldstart", action="store_true", help="skip the cold starts")
    suite.add_argument("--no-aggregate", action="store_true",
                       help="skip the 1-day aggregate timing (bench aggregate)")  # fmt: skip
    suite.add_argument("--option", action="append", default=[], metavar="NAME=VALUE")
    suite.add_argument("--processes", type=int, default=1)
    suite.add_argument("--results", help="folder (default bench/results/suite-<stamp>)")
    suite.add_argument("--output", default="BENCHMARKS.md")
    suite.add_argument("--progress", action="store_true", help="live progress of every run")


def _plan(args: argparse.Namespace) -> list[Planned]:
    chosen = [p for p in PLAN if not args.only or p[0] in args.only]
    unknown = set(args.only) - {p[0] for p in PLAN} - {"aggregate"}
    if unknown:
        raise SystemExit(f"--only: unknown scenarios {sorted(unknown)}")
    return [(s, args.profile or p, b and not args.no_baseline, o) for s, p, b, o in chosen]


def plan_seconds(plan: list[Planned], scale: float) -> float:
    """Seconds of load the plan takes (baselines run the same profile again)."""
    return sum(profiles.make(p, scale=scale).duration * (2 if b else 1) for _, p, b, _ in plan)


@contextmanager
def _emulator_env(endpoints: dict[str, Any]) -> Iterator[None]:
    """The store and bus addresses in the environment while the cold starts run."""
    names = {"FIRESTORE_EMULATOR_HOST": endpoints.get("firestore"),
             "PUBSUB_EMULATOR_HOST": endpoints.get("pubsub"),
             "GOOGLE_CLOUD_PROJECT": endpoints.get("project"),
             "STRATUS_PROJECT": endpoints.get("project")}  # fmt: skip
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update({k: str(v) for k, v in names.items() if v})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _emulators(out: Path) -> dict[str, Any] | None:
    """The latest `python -m bench emulators` result, if any (its section is kept)."""
    from bench.runner import RESULTS

    for path in (out / "emulators.json", RESULTS / "emulators.json"):
        if path.exists():
            found: dict[str, Any] = json.loads(path.read_text())
            return found
    return None


def _main(args: argparse.Namespace, command: str) -> int:
    from bench import benchmarks, coldstart, report
    from bench.commands.run import parse_options
    from bench.endpoints import emulator_endpoints
    from bench.runner import RESULTS, RunConfig, run_one

    plan = _plan(args)
    extra_options = parse_options(args.option)
    endpoints = emulator_endpoints(args.data_dir, args.target)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.results or RESULTS / f"suite-{stamp}")
    out.mkdir(parents=True, exist_ok=True)
    minutes = plan_seconds(plan, args.scale) / 60
    print(f"suite: {len(plan)} runs, about {minutes:.1f} min of load plus setup -> {out}",
          file=sys.stderr)  # fmt: skip
    base = RunConfig(
        target=args.target, scale=args.scale, vus=args.vus, username=args.username,
        password=args.password, mqtt=args.mqtt, data_dir=args.data_dir,
        server_pids=(int(endpoints["pid"]),) if endpoints.get("pid") else (),
        processes=args.processes, progress=args.progress,
    )  # fmt: skip
    failures: dict[str, str] = {}
    started = datetime.now(UTC).isoformat()
    for scenario, profile, baseline, options in plan:
        folder = "-".join([scenario, *(o.replace("=", "") for o in options), profile])
        chosen = parse_options(options) | extra_options
        rate = float(chosen.pop("rate")) if "rate" in chosen else None  # the open loop's
        config = dataclasses.replace(
            base, scenario=scenario, profile=profile, baseline=baseline, out=str(out / folder),
            options=chosen, rate=rate,
        )  # fmt: skip
        try:
            if run_one(config).interrupted:
                failures[folder] = "interrupted"
        except Exception as exc:  # one failed run must not lose the others
            failures[folder] = f"{type(exc).__name__}: {exc}"[:300]
        if folder in failures:
            print(f"suite: {folder} failed: {failures[folder]}", file=sys.stderr)
    aggregated = None
    if not args.no_aggregate and (not args.only or "aggregate" in args.only):
        from bench.aggregate import measure

        try:
            aggregated = measure(args.target, args.username, args.password)
            (out / "aggregate.json").write_text(json.dumps(aggregated, indent=1) + "\n")
        except Exception as exc:  # the other figures stand without it
            failures["aggregate"] = f"{type(exc).__name__}: {exc}"[:300]
    cold = None
    if not args.no_coldstart:
        with _emulator_env(endpoints):
            cold = coldstart.measure_all()
        (out / "coldstart.json").write_text(json.dumps(cold, indent=1) + "\n")
    suite = {"command": command, "started_at": started, "target": args.target,
             "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
             "plan": plan, "failures": failures}  # fmt: skip
    (out / "suite.json").write_text(json.dumps(suite, indent=1) + "\n")
    results = report.latest(out)
    output = Path(args.output)
    before = output.read_text() if output.exists() else ""
    document = benchmarks.render(results, cold, suite, _emulators(out), aggregated)
    output.write_text(benchmarks.keep_sections(before, document))
    print(f"{args.output}: {len(results)} runs, {len(failures)} failed ({out})", file=sys.stderr)
    return 1 if failures else 0


COMMAND = Command("suite", "the whole set briefly, then BENCHMARKS.md", _arguments, _main)
