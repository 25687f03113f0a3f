"""Each function worker claims MQTT accounts of its own (API and admin) from the emulator's pool.

The broker ties a session to its account (one connection per account), so the host's worker
processes must not share a login: worker `n` holds the lock file `mqtt-worker-<n>.lock` for
as long as it lives and logs in as `stratus-api-<n>` and `stratus-admin-<n>`. A respawned
worker takes the slot its predecessor left.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import MutableMapping
from pathlib import Path

from shared.broker.layout import worker_accounts

__all__ = ["claim_accounts"]

_held: list[int] = []  # the lock file of this process' slot, open until it exits


def _try_slot(lock_dir: Path, n: int) -> bool:
    fd = os.open(lock_dir / f"mqtt-worker-{n}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    _held.append(fd)
    return True


def claim_accounts(environ: MutableMapping[str, str], wait: float = 10.0) -> int | None:
    """Claim a free slot and put its logins in `environ` (STRATUS_MQTT_API_* and
    STRATUS_MQTT_ADMIN_*); returns the slot, None when the emulator runs no broker.
    Raises RuntimeError when every slot stays taken for `wait` seconds."""
    accounts_file = environ.get("STRATUS_MQTT_ACCOUNTS_FILE", "")
    if not accounts_file or _held:
        return None
    slots = int(environ.get("STRATUS_MQTT_WORKERS", "1"))
    lock_dir = Path(environ["STRATUS_MQTT_LOCK_DIR"])
    deadline = time.monotonic() + wait
    while True:
        for n in range(1, slots + 1):
            if _try_slot(lock_dir, n):
                accounts = json.loads(Path(accounts_file).read_text())
                api, admin = worker_accounts(n)
                environ.update(
                    STRATUS_MQTT_API_USERNAME=api,
                    STRATUS_MQTT_API_PASSWORD=accounts[api],
                    STRATUS_MQTT_ADMIN_USERNAME=admin,
                    STRATUS_MQTT_ADMIN_PASSWORD=accounts[admin],
                )
                return n
        if time.monotonic() > deadline:
            raise RuntimeError(f"all {slots} MQTT worker accounts are taken by live workers")
        time.sleep(0.1)  # a worker that died moments ago still holds its slot
