"""`python -m bench report`: BENCHMARKS.md again from the newest suite (or a results folder)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.commands.base import Command

__all__ = ["COMMAND"]


def _arguments(report: argparse.ArgumentParser) -> None:
    report.add_argument(
        "--results",
        help="a results folder (default: the newest bench/results/suite-*, else bench/results)",
    )
    report.add_argument("--output", default="BENCHMARKS.md")


def _main(args: argparse.Namespace, command: str) -> int:
    from bench import benchmarks, report
    from bench.runner import RESULTS

    suites = sorted(RESULTS.glob("suite-*/suite.json"))
    folder = Path(args.results) if args.results else suites[-1].parent if suites else RESULTS
    results = report.latest(folder)
    if not results:
        print(f"no results under {folder}", file=sys.stderr)
        return 1
    extra = {}
    for name in ("coldstart", "suite", "aggregate"):
        path = folder / f"{name}.json"
        extra[name] = json.loads(path.read_text()) if path.exists() else None
    # `python -m bench emulators` writes its own result (next to the suites unless told otherwise)
    emulators = folder / "emulators.json"
    emulators = emulators if emulators.exists() else RESULTS / "emulators.json"
    extra["emulators"] = json.loads(emulators.read_text()) if emulators.exists() else None
    document = benchmarks.render(
        results, extra["coldstart"], extra["suite"], extra["emulators"], extra["aggregate"]
    )
    output = Path(args.output)
    before = output.read_text() if output.exists() else ""
    output.write_text(benchmarks.keep_sections(before, document))
    print(f"{args.output}: {len(results)} scenario runs from {folder}", file=sys.stderr)
    return 0


COMMAND = Command("report", "write BENCHMARKS.md from the latest results", _arguments, _main)
