"""`python -m emulator.firestore --host H --port P --data-dir DIR --port-file F`: serve Firestore.

Point any official Firestore client at it with FIRESTORE_EMULATOR_HOST=H:P. FIRESTORE_INDEXES names
a `firestore.indexes.json` whose single-field exemptions the numeric index honours;
FIRESTORE_HISTORY_SECONDS (default 3600) how long replaced document versions are kept for reads
at a past read_time.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from emulator.grpc_service import Options, listen, parse_options, stop_requested, write_port_file
from emulator.process import server_collector

from .server import handlers
from .service import Firestore
from .storage import Database, load_exemptions

_log = logging.getLogger("stratus.firestore")


async def serve(options: Options) -> None:
    options.data_dir.mkdir(parents=True, exist_ok=True)
    indexes = os.environ.get("FIRESTORE_INDEXES", "")
    try:
        exempt = load_exemptions(Path(indexes)) if indexes else frozenset()
    except ValueError as exc:
        raise SystemExit(f"firestore: FIRESTORE_INDEXES: {exc}") from None
    history = os.environ.get("FIRESTORE_HISTORY_SECONDS", "3600")
    try:
        retention_us = int(float(history) * 1_000_000)
    except (ValueError, OverflowError):
        raise SystemExit(
            f"firestore: FIRESTORE_HISTORY_SECONDS: not a number of seconds: {history!r}"
        ) from None
    if retention_us < 0:
        raise SystemExit("firestore: FIRESTORE_HISTORY_SECONDS must not be negative")
    db = Database(options.data_dir / "firestore.sqlite3", exempt=exempt, retention_us=retention_us)
    server, port = listen("firestore", handlers(Firestore(db)), options)
    await server.start()
    write_port_file(options, port)
    _log.info("Firestore emulator on %s:%d (data in %s)", options.host, port, options.data_dir)
    await stop_requested().wait()
    _log.info("stopping")
    await server.stop(grace=1.0)
    db.close()


def main() -> None:
    server_collector()
    asyncio.run(serve(parse_options("firestore", __doc__, 8086, ".firestore")))


if __name__ == "__main__":
    main()
