"""`python -m bench coldstart`: cold start and memory of every function (`bench.coldstart`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.commands.base import Command, env

__all__ = ["COMMAND"]


def _arguments(cold: argparse.ArgumentParser) -> None:
    cold.add_argument("--manifest", default=env("STRATUS_MANIFEST", "serverless.yml"))
    cold.add_argument("--function", action="append", default=[], help="only these functions")
    cold.add_argument("--out", help="write the JSON here (default bench/results/coldstart.json)")


def _main(args: argparse.Namespace, command: str) -> int:
    from bench import coldstart
    from bench.runner import RESULTS

    rows = coldstart.measure_all(args.manifest, args.function or None)
    for row in rows:
        print(coldstart.line(row))
    out = Path(args.out or RESULTS / "coldstart.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if all(row.get("error") is None for row in rows) else 1


COMMAND = Command("coldstart", "cold start and memory of every function", _arguments, _main)
