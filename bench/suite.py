"""`python -m bench suite`: every scenario, briefly, against a running emulator (ingest, MQTT and
query with their baselines), cold start and memory per function, then BENCHMARKS.md: the one
command that regenerates the report.

It reads the emulator's `<data-dir>/endpoints.json` for the broker, the emulator's process (its
CPU seconds feed the cost projection) and the store and bus addresses the cold-start processes
need; a run that fails is reported in BENCHMARKS.md and the others go on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import profiles

__all__ = ["PLAN", "add_parser", "plan_seconds", "run"]

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
    ("ingest-batch", "linear", False, ("batch=10",)),
    ("ingest-batch", "linear", True, ("batch=100",)),
    ("ingest-batch", "linear", False, ("batch=1000",)),
    ("mqtt-qos0", "linear", True, ()),
    ("mqtt-qos1", "linear", True, ()),
    ("query-range", "linear", True, ()),
    ("query-agg", "linear", True, ()),
]


def add_parser(commands: Any, env: Any) -> None:
    suite = commands.add_parser("suite", help="the whole set briefly, then BENCHMARKS.md")
    suite.add_argument("--target", default=env("STRATUS_BENCH_TARGET", "http://127.0.0.1:8080"))
    suite.add_argument("--data-dir", default=env("STRATUS_DATA_DIR", ".stratus"),
                       help="the emulator's data directory (STRATUS_DATA_DIR)")  # fmt: skip
    suite.add_argument("--mqtt", default=env("STRATUS_BENCH_MQTT"), help="broker HOST:PORT")
    suite.add_argument("--scale", type=float, default=float(env("STRATUS_BENCH_SCALE", 0.05)),
                       help="time scale of every profile (0.05: 90 s per linear run)")  # fmt: skip
    suite.add_argument("--vus", type=float, help="peak VUs of every run (default the study's 100)")
    suite.add_argument("--profile", help="one profile for every scenario instead of the plan's")
    suite.add_argument("--only", action="append", default=[], help="only these scenarios")
    suite.add_argument("--no-baseline", action="store_true", help="skip the baselines")
    suite.add_argument("--no-coldstart", action="store_true", help="skip the cold starts")
    suite.add_argument("--option", action="append", default=[], metavar="NAME=VALUE")
    suite.add_argument("--processes", type=int, default=1)
    suite.add_argument("--username", default=env("STRATUS_ADMIN_USERNAME", "admin"))
    suite.add_argument("--password", default=env("STRATUS_ADMIN_PASSWORD"),
                       help="the admin password (STRATUS_ADMIN_PASSWORD)")  # fmt: skip
    suite.add_argument("--results", help="folder (default bench/results/suite-<stamp>)")
    suite.add_argument("--output", default="BENCHMARKS.md")
    suite.add_argument("--progress", action="store_true", help="live progress of every run")


def _plan(args: argparse.Namespace) -> list[Planned]:
    chosen = [p for p in PLAN if not args.only or p[0] in args.only]
    unknown = set(args.only) - {p[0] for p in PLAN}
    if unknown:
        raise SystemExit(f"--only: unknown scenarios {sorted(unknown)}")
    return [(s, args.profile or p, b and not args.no_baseline, o) for s, p, b, o in chosen]


def plan_seconds(plan: list[Planned], scale: float) -> float:
    """Seconds of load the plan takes (baselines run the same profile again)."""
    return sum(profiles.make(p, scale=scale).duration * (2 if b else 1) for _, p, b, _ in plan)


def _endpoints(data_dir: str, target: str) -> dict[str, Any]:
    path = Path(data_dir) / "endpoints.json"
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    same = str(found.get("base_url", "")).rstrip("/") == target.rstrip("/")
    return found if same else {}


@contextmanager
def _emulator_env(endpoints: dict[str, Any]) -> Any:
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


def run(args: argparse.Namespace, command: str) -> int:
    from bench import benchmarks, coldstart, report
    from bench.cli import RESULTS, main

    plan = _plan(args)
    endpoints = _endpoints(args.data_dir, args.target)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.results or RESULTS / f"suite-{stamp}")
    out.mkdir(parents=True, exist_ok=True)
    minutes = plan_seconds(plan, args.scale) / 60
    print(f"suite: {len(plan)} runs, about {minutes:.1f} min of load plus setup -> {out}",
          file=sys.stderr)  # fmt: skip
    failures: dict[str, str] = {}
    started = datetime.now(UTC).isoformat()
    for scenario, profile, baseline, options in plan:
        folder = "-".join([scenario, *(o.replace("=", "") for o in options), profile])
        argv = ["run", "--target", args.target, "--scenario", scenario, "--profile", profile,
                "--scale", str(args.scale), "--data-dir", args.data_dir,
                "--processes", str(args.processes), "--username", args.username,
                "--out", str(out / folder)]  # fmt: skip
        argv += ["--vus", str(args.vus)] if args.vus else []
        argv += ["--mqtt", args.mqtt] if args.mqtt else []
        argv += ["--baseline"] if baseline else []
        argv += ["--server-pid", str(endpoints["pid"])] if endpoints.get("pid") else []
        argv += [] if args.progress else ["--quiet"]
        for option in (*options, *args.option):
            argv += ["--option", option]
        if args.password:
            argv += ["--password", args.password]
        try:
            code = main(argv)
            if code:
                failures[folder] = f"exit status {code}"
        except SystemExit as exc:
            failures[folder] = str(exc.code)
        except Exception as exc:  # one failed run must not lose the others
            failures[folder] = f"{type(exc).__name__}: {exc}"[:300]
        if folder in failures:
            print(f"suite: {folder} failed: {failures[folder]}", file=sys.stderr)
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
    Path(args.output).write_text(benchmarks.render(results, cold, suite))
    print(f"{args.output}: {len(results)} runs, {len(failures)} failed ({out})", file=sys.stderr)
    return 1 if failures else 0
