"""`python -m emulator.host --host H --port P --workers N`: serve the manifest's functions."""

from __future__ import annotations

import argparse
import os

from granian.constants import Interfaces
from granian.server import Server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator.host", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--manifest", default=os.environ.get("STRATUS_MANIFEST", "serverless.yml"))
    args = parser.parse_args()
    os.environ["STRATUS_MANIFEST"] = os.path.abspath(args.manifest)
    Server(
        "emulator.host.app:create_app",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        factory=True,
        log_access=False,
        respawn_failed_workers=True,
    ).serve()


if __name__ == "__main__":
    main()
