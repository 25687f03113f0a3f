"""`python -m gateways.websocket`: WebSocket ingest, wired from the environment.

Devices authenticate with their token on the upgrade request; frames are checked and published by
the HTTP ingest core (`shared.telemetry.ingest.Ingest`, transport "websocket") on the bus of
`shared.clients.bus()`. SIGTERM or Ctrl-C closes the listener and the open connections, then
flushes the bus client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from gateways.websocket.server import Gateway
from shared import clients, logs
from shared.auth import Authenticator
from shared.auth.config import auth_config
from shared.directory import version_lookup
from shared.settings import settings
from shared.telemetry.ingest import Ingest
from shared.telemetry.sensors import cached_store_directory


def _options() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m gateways.websocket")
    parser.add_argument("--host", default=env("STRATUS_WS_HOST", "0.0.0.0"))
    default_port = env("STRATUS_WS_PORT") or env("PORT") or "8765"
    parser.add_argument("--port", type=int, default=int(default_port), help="0 picks one")
    return parser.parse_args()


async def _serve(gateway: Gateway) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await gateway.start()
    print(f"websocket gateway listening on ws://{gateway.host}:{gateway.port}", flush=True)
    await stop.wait()
    await gateway.stop()


def main() -> int:
    options = _options()
    logs.configure(settings().log_level, "websocket")
    bus = clients.bus()
    ingest = Ingest(
        bus,
        Authenticator(version_lookup(clients.store)),
        cached_store_directory(clients.store, min_age=0),
        transport="websocket",
    )
    gateway = Gateway(
        ingest,  # type: ignore[arg-type]
        options.host,
        options.port,
        settings().max_body_bytes,
        token_cache_seconds=auth_config().cache_seconds,
    )
    try:
        asyncio.run(_serve(gateway))
    finally:
        bus.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
