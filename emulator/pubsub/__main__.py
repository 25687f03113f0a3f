"""`python -m emulator.pubsub --host H --port P --data-dir DIR --port-file FILE`: serve Pub/Sub."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
from pathlib import Path

import grpc

from emulator.pubsub.broker import Broker
from emulator.pubsub.push import Pusher
from emulator.pubsub.server import handlers

_log = logging.getLogger("stratus.pubsub")

SWEEP_EVERY = 1.0  # seconds between retention / dead-letter sweeps


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


async def serve(host: str, port: int, data_dir: Path, port_file: Path | None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    broker = Broker(data_dir)
    pusher = Pusher(broker)
    server = grpc.aio.server(
        options=[("grpc.max_receive_message_length", 20 * 1024 * 1024)],
    )
    server.add_generic_rpc_handlers(handlers(broker))
    actual = server.add_insecure_port(f"{host}:{port}")
    if actual == 0:
        raise SystemExit(f"pubsub: cannot listen on {host}:{port}")
    await server.start()
    pusher.start()
    if port_file is not None:
        _write_atomically(port_file, json.dumps({"host": host, "port": actual}))
    _log.info("Pub/Sub emulator listening on %s:%d (data in %s)", host, actual, data_dir)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        try:
            broker.sweep()
        except Exception:
            _log.exception("sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SWEEP_EVERY)
    _log.info("stopping")
    await pusher.stop()
    await server.stop(grace=1.0)
    broker.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator.pubsub", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("PUBSUB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PUBSUB_PORT", "8085")))
    parser.add_argument("--data-dir", default=os.environ.get("PUBSUB_DATA_DIR", ".pubsub"))
    parser.add_argument("--port-file", default=None, help="write {host, port} here once listening")
    parser.add_argument("--log-level", default=os.environ.get("PUBSUB_LOG_LEVEL", "INFO"))
    args = parser.parse_args()
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    port_file = Path(args.port_file) if args.port_file else None
    asyncio.run(serve(args.host, args.port, Path(args.data_dir), port_file))


if __name__ == "__main__":
    main()
