"""`python -m bench emulators`: our Firestore and Pub/Sub emulators beside Google's
(`bench.emulators`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.commands.base import Command, env

__all__ = ["COMMAND"]


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--service",
        action="append",
        choices=["firestore", "pubsub"],
        help="only these services (default both)",
    )
    parser.add_argument(
        "--emulator",
        action="append",
        choices=["ours", "google"],
        help="only these emulators (default both; Google's needs gcloud and Java)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=float(env("STRATUS_BENCH_SCALE", 1.0)),
        help="work per row: 1.0 = 2,000 commits, 500 queries, 20,000 messages "
        "(STRATUS_BENCH_SCALE)",
    )
    parser.add_argument("--starts", type=int, default=3, help="start-ups timed per emulator")
    parser.add_argument("--out", help="the JSON (default bench/results/emulators.json)")
    parser.add_argument(
        "--markdown", help="also write the section into this file (e.g. BENCHMARKS.md)"
    )


def _main(args: argparse.Namespace, command: str) -> int:
    from bench import emulators
    from bench.runner import RESULTS

    result = emulators.measure(
        tuple(args.service or ("firestore", "pubsub")),
        tuple(args.emulator or ("ours", "google")),
        args.scale,
        args.starts,
    )
    result["command"] = command
    out = Path(args.out or RESULTS / "emulators.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    section = emulators.section(result)
    print("\n".join(section))
    if args.markdown:
        path = Path(args.markdown)
        document = path.read_text() if path.exists() else ""
        path.write_text(emulators.splice(document, section))
    return 0


COMMAND = Command(
    "emulators", "our Firestore and Pub/Sub emulators next to Google's", _arguments, _main
)
