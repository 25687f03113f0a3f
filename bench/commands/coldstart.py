"""`python -m bench coldstart`: cold start and memory of every function, from the source tree
(`bench.coldstart`) or as deployed artefacts (`--target cloudrun|openwhisk`,
`bench.coldstart_artefacts`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.commands.base import Command, env

__all__ = ["COMMAND"]


def _arguments(cold: argparse.ArgumentParser) -> None:
    cold.add_argument("--manifest", default=env("STRATUS_MANIFEST", "serverless.yml"))
    cold.add_argument("--function", action="append", default=[], help="only these functions")
    cold.add_argument(
        "--target",
        choices=["source", "cloudrun", "openwhisk"],
        default=env("STRATUS_COLDSTART_TARGET", "source"),
        help="source: import from the tree (default); cloudrun/openwhisk: the built artefacts, "
        "started as each platform starts them",
    )
    cold.add_argument("--out", help="write the JSON here (default bench/results/coldstart*.json)")
    cold.add_argument(
        "--markdown",
        help="artefact targets: also write their section into this file (e.g. BENCHMARKS.md), "
        "with the other target's last results",
    )


def _main(args: argparse.Namespace, command: str) -> int:
    from bench.runner import RESULTS

    if args.target == "source":
        from bench import coldstart

        rows = coldstart.measure_all(args.manifest, args.function or None)
        show = coldstart.line
        out = Path(args.out or RESULTS / "coldstart.json")
    else:
        from bench import coldstart_artefacts

        rows = coldstart_artefacts.measure(args.target, args.manifest, args.function or None)
        show = coldstart_artefacts.line
        out = Path(args.out or RESULTS / f"coldstart-{args.target}.json")
    for row in rows:
        print(show(row))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
    if args.markdown and args.target != "source":
        from bench import coldstart_artefacts
        from bench.emulators import splice

        both = {}
        for target in ("cloudrun", "openwhisk"):
            path = RESULTS / f"coldstart-{target}.json"
            both[target] = (
                rows
                if target == args.target
                else (json.loads(path.read_text()) if path.exists() else [])
            )
        document = Path(args.markdown)
        lines = coldstart_artefacts.markdown(both)
        document.write_text(splice(document.read_text(), lines, coldstart_artefacts.HEADING))
    return 0 if all(row.get("error") is None for row in rows) else 1


COMMAND = Command("coldstart", "cold start and memory of every function", _arguments, _main)
