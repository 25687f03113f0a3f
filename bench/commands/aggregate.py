"""`python -m bench aggregate`: server time of a per-minute aggregate over one day of one-second
readings (`bench.aggregate`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.commands.base import Command, add_target_arguments, env

__all__ = ["COMMAND"]


def _arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    parser.add_argument("--repeat", type=int, default=int(env("STRATUS_BENCH_REPEAT", 30)),
                        help="aggregate requests timed (STRATUS_BENCH_REPEAT)")  # fmt: skip
    parser.add_argument("--per-request", type=int, default=3600,
                        help="readings per ingest request while seeding the day")  # fmt: skip
    parser.add_argument("--out", help="the JSON (default bench/results/aggregate.json)")


def _main(args: argparse.Namespace, command: str) -> int:
    from bench.aggregate import measure
    from bench.runner import RESULTS

    result = measure(args.target, args.username, args.password, repeat=args.repeat,
                     per_request=args.per_request)  # fmt: skip
    result["command"] = command
    out = Path(args.out or RESULTS / "aggregate.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    server = result.get("server_ms") or {}
    print(f"aggregate of {result['stored']:,} readings into {result['intervals']} minutes: "
          f"server p50 {server.get('p50')} ms, p95 {server.get('p95')} ms -> {out}",
          file=sys.stderr)  # fmt: skip
    return 0 if result["stored"] >= result["points"] else 1


COMMAND = Command("aggregate", "server time of a 1-day per-minute aggregate", _arguments, _main)
