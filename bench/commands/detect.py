"""`python -m bench detect`: detection quality, scoring throughput and rule latency
(`bench.detect`) against a running deployment."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.commands.base import Command, add_target_arguments, env

__all__ = ["COMMAND"]


def _arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    parser.add_argument(
        "--devices",
        type=int,
        default=int(env("STRATUS_BENCH_DETECT_DEVICES", 8)),
        help="throughput: devices with one sensor each (STRATUS_BENCH_DETECT_DEVICES)",
    )
    parser.add_argument(
        "--readings",
        type=int,
        default=int(env("STRATUS_BENCH_DETECT_READINGS", 10000)),
        help="throughput: readings per device, enough that a phase lasts seconds, not the "
        "pipeline latency (STRATUS_BENCH_DETECT_READINGS)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=int(env("STRATUS_BENCH_DETECT_ROUNDS", 3)),
        help="throughput: plain/scored rounds, median and spread (STRATUS_BENCH_DETECT_ROUNDS)",
    )
    parser.add_argument("--samples", type=int, default=20, help="rule latency: alerts opened")
    parser.add_argument("--out", help="the JSON (default bench/results/detect.json)")
    parser.add_argument("--markdown", help="also write the section into this file (BENCHMARKS.md)")


def _main(args: argparse.Namespace, command: str) -> int:
    import httpx

    from bench import detect
    from bench.emulators import splice
    from bench.runner import RESULTS

    answer = httpx.post(
        f"{args.target}/api/users/signin",
        timeout=30,
        json={"username": args.username, "password": args.password},
    )
    if answer.status_code != 200:
        print(f"error: sign-in as {args.username} failed: {answer.status_code}")
        return 2
    result = detect.run(
        args.target,
        answer.json()["token"],
        devices=args.devices,
        readings=args.readings,
        samples=args.samples,
        rounds=args.rounds,
    )
    result["command"] = command
    out = Path(args.out or RESULTS / "detect.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    section = detect.section(result)
    print("\n".join(section))
    if args.markdown:
        path = Path(args.markdown)
        document = path.read_text() if path.exists() else ""
        path.write_text(splice(document, section, detect.HEADING))
    return 0


COMMAND = Command(
    "detect", "anomaly detection quality, scoring throughput, rule latency", _arguments, _main
)
