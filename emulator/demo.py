"""The demo fleet of `python -m emulator --demo`: a supervised child (`python -m emulator.demo`)
that acts as the first organisation's admin and runs `stratus_sdk.simulate`'s fleet against the
platform: devices registered and bootstrapped like real ones, sending over HTTP and MQTT.

The child needs no password: it holds the emulator's signing key (`<data-dir>/keys`) and issues
itself a token of the seeded admin (`emulator/bootstrap.py`). The fleet's keys and buffers live
in `<data-dir>/demo/`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from emulator.supervisor import Component

__all__ = ["admin_token", "demo_component", "main"]


def demo_component(
    base_url: str, data_dir: Path, env: dict[str, str], *, devices: int, interval: float
) -> Component:
    """The supervised demo child; ready once every device is bootstrapped and sent once."""
    ready = data_dir / "run" / "demo.ready"
    return Component(
        "demo",
        [sys.executable, "-m", "emulator.demo", "--base-url", base_url, "--data-dir",
         str(data_dir), "--devices", str(devices), "--interval", str(interval),
         "--ready-file", str(ready)],
        env=dict(env),
        before_start=lambda: ready.unlink(missing_ok=True),
        ready=ready.exists,
        timeout=120.0,
        tier=2,  # a client of the API: stopped with the gateways, while it can still flush
    )  # fmt: skip


def admin_token() -> str:
    """A token of the seeded admin, issued with the signing key this process was given."""
    from emulator.bootstrap import ADMIN, MARKER
    from shared.auth import issue_user_token
    from shared.settings import settings
    from shared.store.firestore import FirestoreStore

    store = FirestoreStore(settings().project)
    marker = store.get(MARKER)
    index = store.get(f"usernames/{ADMIN}")
    if marker is None or index is None:
        raise SystemExit("demo: the store has no seeded organisation and admin yet")
    org, user = str(index.data["org"]), str(index.data["user"])
    document = store.get(f"orgs/{org}/users/{user}")
    if document is None or document.data.get("role") != "admin":
        raise SystemExit(f"demo: user '{ADMIN}' is gone or no longer an admin")
    return issue_user_token(user, org, "admin", int(document.data.get("token_version", 0)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.demo", description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--devices", type=int, default=24)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args(argv)
    from stratus_sdk.simulate.__main__ import main as simulate

    from emulator.process import die_with_parent

    die_with_parent()
    options = [
        "--target", args.base_url, "--devices", str(args.devices), "--interval",
        str(args.interval), "--data-dir", str(Path(args.data_dir) / "demo"), "--ready-file",
        args.ready_file,
    ]  # fmt: skip
    while True:  # a failing demo must not crash-loop the supervisor into stopping the platform
        try:
            code: int = simulate([*options, "--token", admin_token()])
            return code
        except (Exception, SystemExit) as exc:
            if isinstance(exc, SystemExit) and exc.code in (0, None):
                return 0
            print(f"demo: {type(exc).__name__}: {exc}; starting again in 10 s", flush=True)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the failed fleet's handler is gone
            time.sleep(10)


if __name__ == "__main__":
    sys.exit(main())
