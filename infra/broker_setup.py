"""`python -m infra.broker_setup pin FILE | apply`: the deployed broker's security layout, run
in Kubernetes by the broker's init container (`pin`) and by the `stratus-broker-setup` Job
(`apply`), the same layout the emulator applies (`shared.broker.layout`).

`apply` reads every account from a directory of files (name = username, content = password:
the mounted Secret `stratus-mqtt-accounts`), logs in as `stratus-admin` and creates or updates the
service roles and accounts, each pinned to its own client id. It waits for the broker (up to
`--wait` seconds) and is idempotent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from shared.broker import layout

__all__ = ["main", "read_accounts"]

ADMIN = "stratus-admin"


def read_accounts(folder: Path) -> dict[str, str]:
    """username -> password from a mounted Secret (Kubernetes adds `..data` links: skipped)."""
    return {
        path.name: path.read_text().strip()
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.startswith(".")
    }


def _apply(host: str, port: int, folder: Path, wait: float) -> None:
    from shared.broker.dynsec import DynamicSecurity

    accounts = read_accounts(folder)
    deadline = time.monotonic() + wait
    while True:
        try:
            dynsec = DynamicSecurity(host, port, ADMIN, accounts[ADMIN])
            break
        except Exception as exc:  # the broker is not up yet
            if time.monotonic() > deadline:
                raise SystemExit(f"broker {host}:{port} not reachable: {exc}") from None
            time.sleep(2)
    try:
        layout.apply(dynsec, accounts, admin=ADMIN)
    finally:
        dynsec.close()
    print(f"broker layout applied: {len(accounts) - 1} service accounts", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.broker_setup", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    pin = commands.add_parser("pin", help="pin the admin account in a dynamic-security file")
    pin.add_argument("file", type=Path)
    apply = commands.add_parser("apply", help="create the service roles and accounts")
    apply.add_argument("--host", default="stratus-broker")
    apply.add_argument("--port", type=int, default=1883)
    apply.add_argument("--accounts", type=Path, default=Path("/var/run/stratus/mqtt"))
    apply.add_argument("--wait", type=float, default=120.0)
    args = parser.parse_args(argv)
    if args.command == "pin":
        layout.pin_in_file(args.file, ADMIN)
    else:
        _apply(args.host, args.port, args.accounts, args.wait)
    return 0


if __name__ == "__main__":
    sys.exit(main())
