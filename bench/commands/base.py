"""What every subcommand module defines (`COMMAND = Command(...)`) and the flags several share.

Every flag has an environment variable (shown in --help) so CI and cloud runs need no editing.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Command", "add_target_arguments", "env"]


@dataclass(frozen=True)
class Command:
    """A subcommand: `arguments(parser)` adds its flags, `main(args, command)` runs it and returns
    the exit status (`command` is the command line as typed, any password shown as ***)."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    main: Callable[[argparse.Namespace, str], int]


def env(name: str, default: Any = None) -> Any:
    return os.environ.get(name, default)


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """The deployment under load: --target, --mqtt, --data-dir, --username, --password."""
    parser.add_argument(
        "--target",
        default=env("STRATUS_BENCH_TARGET", "http://127.0.0.1:8080"),
        help="base URL (STRATUS_BENCH_TARGET)",
    )
    parser.add_argument(
        "--mqtt",
        default=env("STRATUS_BENCH_MQTT"),
        help="MQTT scenarios: the broker as HOST:PORT (STRATUS_BENCH_MQTT; default: the "
        "emulator's <data-dir>/endpoints.json when it is the target)",
    )
    parser.add_argument(
        "--data-dir",
        default=env("STRATUS_DATA_DIR", ".stratus"),
        help="the emulator's data directory, for its endpoints.json (STRATUS_DATA_DIR)",
    )
    parser.add_argument(
        "--username",
        default=env("STRATUS_ADMIN_USERNAME", "admin"),
        help="admin user (STRATUS_ADMIN_USERNAME)",
    )
    parser.add_argument(
        "--password",
        default=env("STRATUS_ADMIN_PASSWORD"),
        help="admin password (STRATUS_ADMIN_PASSWORD)",
    )
