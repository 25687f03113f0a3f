"""What the emulator's standalone gRPC services (firestore, pubsub) share: their command line, the
listening socket, the port file and a clean stop on SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

__all__ = ["Options", "listen", "parse_options", "stop_requested", "write_port_file"]

MAX_MESSAGE = 32 * 1024 * 1024


@dataclass(frozen=True)
class Options:
    host: str
    port: int
    data_dir: Path
    port_file: Path | None


def parse_options(service: str, description: str | None, port: int, data_dir: str) -> Options:
    """`--host --port --data-dir --port-file --log-level`, each defaulting to <SERVICE>_<NAME>
    from the environment; also sets up logging to stderr."""
    prefix = service.upper()
    env = os.environ.get
    parser = argparse.ArgumentParser(prog=f"python -m emulator.{service}", description=description)
    parser.add_argument("--host", default=env(f"{prefix}_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(env(f"{prefix}_PORT", str(port))), help="0 picks one"
    )
    parser.add_argument("--data-dir", default=env(f"{prefix}_DATA_DIR", data_dir))
    parser.add_argument("--port-file", default=None, help="write {host, port} here once listening")
    parser.add_argument("--log-level", default=env(f"{prefix}_LOG_LEVEL", "INFO"))
    args = parser.parse_args()
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    port_file = Path(args.port_file) if args.port_file else None
    return Options(args.host, args.port, Path(args.data_dir), port_file)


def listen(
    service: str, handlers: Sequence[grpc.GenericRpcHandler], options: Options
) -> tuple[grpc.aio.Server, int]:
    """A grpc.aio server with the handlers, bound to the options' address; exits with one line
    naming the address when it cannot listen."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.so_reuseport", 0),  # a port in use is an error, not a shared port
        ],
    )
    server.add_generic_rpc_handlers(handlers)
    try:
        actual = server.add_insecure_port(f"{options.host}:{options.port}")
    except RuntimeError:
        actual = 0
    if actual == 0:
        raise SystemExit(f"{service}: cannot listen on {options.host}:{options.port} (in use?)")
    return server, actual


def write_port_file(options: Options, port: int) -> None:
    """Tell whoever started us where we listen: `{"host", "port"}`, written atomically."""
    if options.port_file is None:
        return
    tmp = options.port_file.with_name(options.port_file.name + ".tmp")
    tmp.write_text(json.dumps({"host": options.host, "port": port}))
    os.replace(tmp, options.port_file)


def stop_requested() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (call from inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
