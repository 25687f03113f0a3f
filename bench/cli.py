"""`python -m bench run|suite|report|scenarios|coldstart|emulators`: the harness' command line.

Every subcommand is a module of `bench/commands/` that defines `COMMAND` (its name, help, flags
and `main`); to add one, write that module and list it in `COMMANDS`. Every flag has an
environment variable (shown in --help) so CI and cloud runs need no editing.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from bench.commands import (
    aggregate,
    chaos,
    coldstart,
    detect,
    emulators,
    report,
    run,
    scenarios,
    suite,
)
from bench.commands.base import Command

__all__ = ["COMMANDS", "main"]

# the subcommands, in the order --help lists them
COMMANDS: tuple[Command, ...] = (
    run.COMMAND,
    report.COMMAND,
    suite.COMMAND,
    scenarios.COMMAND,
    coldstart.COMMAND,
    emulators.COMMAND,
    detect.COMMAND,
    aggregate.COMMAND,
    chaos.COMMAND,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        # no abbreviated flags: a password given as --pass would escape the *** in the results
        sub = commands.add_parser(command.name, help=command.help, allow_abbrev=False)
        command.arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    chosen = next(c for c in COMMANDS if c.name == args.command)
    return chosen.main(args, _typed(argv))


def _typed(argv: list[str]) -> str:
    """The command line as typed, any password replaced by ***."""
    shown = []
    hide = False
    for arg in argv:
        if hide:
            shown.append("***")
        elif arg.startswith("--password="):
            shown.append("--password=***")
        else:
            shown.append(arg)
        hide = arg == "--password"
    return "python -m bench " + shlex.join(shown)
