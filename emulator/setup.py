"""`python -m emulator.setup`: the start-up steps that talk gRPC, run in a child process.

The emulator's main process forks every component; a process that has used a gRPC channel can
crash the children it forks (grpc/grpc#43055: `epoll_wait error: Bad file descriptor`, exit
-6). So the main process never imports gRPC: seeding the store (first organisation and admin),
creating the bus' topics and subscriptions, and bringing the broker's device logins up to date
happen here, with the official clients.
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
    resync_device_logins(Path(args.data_dir), args.project)
    return 0


TOKEN_FORMAT = "low-s"  # device tokens are signed low-S and refused otherwise (shared/jws.py)


def resync_device_logins(data_dir: Path, project: str) -> int:
    """Once per data directory and token format: register every device's current token as its
    MQTT password again. A token signed before low-S signatures is a different string now, and
    the broker would refuse the device with the token the API hands out. Returns how many."""
    from shared.auth import issue_device_token
    from shared.broker import BrokerSettings
    from shared.broker.mosquitto import MosquittoAdmin
    from shared.provisioning import sync_login
    from shared.store import Query
    from shared.store.firestore import FirestoreStore

    marker = data_dir / "keys" / "device-logins"
    broker = BrokerSettings.from_env(os.environ)
    if broker is None or (marker.exists() and marker.read_text().strip() == TOKEN_FORMAT):
        return 0
    store = FirestoreStore(project)
    admin = MosquittoAdmin(broker.host, broker.port, broker.admin_username, broker.admin_password)
    count, after = 0, None
    try:
        while True:
            page = store.query(Query("devices", group=True, limit=500, after=after))
            for document in page.documents:
                parts = document.path.split("/")  # orgs/{org}/devices/{id}
                if len(parts) == 4 and parts[0] == "orgs":
                    sync_login(store, admin, parts[1], document, issue_device_token)
                    count += 1
            if page.next is None:
                break
            after = page.next
    finally:
        admin.close()
    marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    marker.write_text(TOKEN_FORMAT + "\n")
    return count


if __name__ == "__main__":
    sys.exit(main())
