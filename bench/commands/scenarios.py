"""`python -m bench scenarios`: every registered scenario and what it does."""

from __future__ import annotations

import argparse

from bench.commands.base import Command

__all__ = ["COMMAND"]


def _arguments(parser: argparse.ArgumentParser) -> None:
    return None


def _main(args: argparse.Namespace, command: str) -> int:
    from bench.registry import scenarios

    for name, cls in scenarios().items():
        print(f"{name:15s} {cls.description}")
    return 0


COMMAND = Command("scenarios", "list the scenarios", _arguments, _main)
