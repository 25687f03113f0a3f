"""`python -m emulator.setup`: the start-up steps that talk gRPC, run in a child process.

The emulator's main process forks every component; a process that has used a gRPC channel can
crash the children it forks (grpc/grpc#43055: `epoll_wait error: Bad file descriptor`, exit
-6). So the main process never imports gRPC: seeding the store (first organisation and admin)
and creating the bus' topics and subscriptions happen here, with the official clients.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.setup", description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--base-url", required=True, help="where the host serves pushes")
    args = parser.parse_args(argv)
    from emulator import bootstrap
    from emulator.bus_setup import ensure_bus
    from shared.manifest import load

    bootstrap.seed(Path(args.data_dir), dict(os.environ))
    token = os.environ.get("STRATUS_PUSH_TOKEN", "")
    ensure_bus(load(Path(args.manifest)), args.project, args.base_url, token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
