"""`python -m emulator.pubsub --host H --port P --data-dir DIR --port-file FILE`: serve Pub/Sub."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from emulator.grpc_service import Options, listen, parse_options, stop_requested, write_port_file
from emulator.process import server_collector
from emulator.pubsub.broker import Broker
from emulator.pubsub.push import Pusher
from emulator.pubsub.server import handlers

_log = logging.getLogger("stratus.pubsub")

SWEEP_EVERY = 1.0  # seconds between retention / dead-letter sweeps


async def serve(options: Options) -> None:
    options.data_dir.mkdir(parents=True, exist_ok=True)
    broker = Broker(options.data_dir)
    pusher = Pusher(broker)
    server, port = listen("pubsub", handlers(broker), options)
    await server.start()
    pusher.start()
    write_port_file(options, port)
    _log.info("Pub/Sub emulator on %s:%d (data in %s)", options.host, port, options.data_dir)

    stop = stop_requested()
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
    server_collector()
    asyncio.run(serve(parse_options("pubsub", __doc__, 8085, ".pubsub")))


if __name__ == "__main__":
    main()
