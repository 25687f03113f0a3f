"""`python -m emulator.firestore --host H --port P --data-dir DIR --port-file F`: serve Firestore.

Point any official Firestore client at it with FIRESTORE_EMULATOR_HOST=H:P.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
from pathlib import Path

import grpc

from .server import handlers
from .service import Firestore
from .storage import Database

_log = logging.getLogger("stratus.firestore")

MAX_MESSAGE = 32 * 1024 * 1024


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


async def serve(host: str, port: int, data_dir: Path, port_file: Path | None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(data_dir / "firestore.sqlite3")
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
        ],
    )
    server.add_generic_rpc_handlers(handlers(Firestore(db)))
    try:
        actual = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        actual = 0
    if actual == 0:
        raise SystemExit(f"firestore: cannot listen on {host}:{port} (port in use?)")
    await server.start()
    if port_file is not None:
        _write_atomically(port_file, json.dumps({"host": host, "port": actual}))
    _log.info("Firestore emulator listening on %s:%d (data in %s)", host, actual, data_dir)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    _log.info("stopping")
    await server.stop(grace=1.0)
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator.firestore", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("FIRESTORE_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("FIRESTORE_PORT", "8086")),
        help="0 picks a free port",
    )
    parser.add_argument("--data-dir", default=os.environ.get("FIRESTORE_DATA_DIR", ".firestore"))
    parser.add_argument("--port-file", default=None, help="write {host, port} here once listening")
    parser.add_argument("--log-level", default=os.environ.get("FIRESTORE_LOG_LEVEL", "INFO"))
    args = parser.parse_args()
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    port_file = Path(args.port_file) if args.port_file else None
    asyncio.run(serve(args.host, args.port, Path(args.data_dir), port_file))


if __name__ == "__main__":
    main()
