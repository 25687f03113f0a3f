"""`python -m emulator reset-admin-password`: give a user of the local platform a new password.

For an operator who lost the admin password printed at the first start. Works whether the
emulator runs (through its Firestore endpoint) or not (a Firestore emulator of its own on the
same data directory, stopped afterwards). The new password is STRATUS_ADMIN_PASSWORD when set,
else generated and printed once; the user's older tokens stop working (its token version moves).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["main", "reset_password"]


def _running_firestore(data_dir: Path) -> str | None:
    """The Firestore address of an emulator running on `data_dir`, if one is."""
    endpoints = data_dir / "endpoints.json"
    try:
        found = json.loads(endpoints.read_text())
        os.kill(int(found["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return str(found["firestore"])


@contextmanager
def _firestore(data_dir: Path) -> Iterator[str]:
    """The address of the data directory's store: the running emulator's, or a temporary one."""
    address = _running_firestore(data_dir)
    if address is not None:
        yield address
        return
    port_file = data_dir / "run" / "reset-firestore.port"
    port_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    port_file.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator.firestore", "--host", "127.0.0.1", "--port", "0",
         "--data-dir", str(data_dir), "--port-file", str(port_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"error: could not open the store in {data_dir}")
            time.sleep(0.05)
        yield f"127.0.0.1:{json.loads(port_file.read_text())['port']}"
    finally:
        process.terminate()
        process.wait(10)
        port_file.unlink(missing_ok=True)


def reset_password(store: object, username: str, password: str) -> str:
    """Set `username`'s password in `store` (a Store); returns the user's organisation.
    SystemExit with one line when there is no such user or the password breaks the policy."""
    from functions.users.model import UserChanges
    from functions.users.service import Users
    from shared.auth import Principal, check_policy
    from shared.errors import ValidationError

    try:
        check_policy(password)
    except ValidationError as exc:
        raise SystemExit(f"error: STRATUS_ADMIN_PASSWORD: {exc.message}") from None
    index = store.get(f"usernames/{username}")  # type: ignore[attr-defined]
    if index is None:
        raise SystemExit(f"error: no user {username!r} in this data directory")
    org, user = str(index.data["org"]), str(index.data["user"])
    operator = Principal("user", "emulator-operator", org, "admin", 0)  # not the user itself
    Users(store).update(operator, user, UserChanges(password=password))  # type: ignore[arg-type]
    return org


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator reset-admin-password",
        description="Give a user of the local platform a new password (default user: admin).",
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("STRATUS_DATA_DIR", ".stratus"),
        help="the emulator's data directory [STRATUS_DATA_DIR]",
    )
    parser.add_argument("--username", default="admin", help="whose password (default: admin)")
    parser.add_argument(
        "--project",
        default=os.environ.get("STRATUS_PROJECT", "stratus-local"),
        help="the emulator's project [STRATUS_PROJECT]",
    )
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    if not (data_dir / "firestore.sqlite3").exists():
        print(f"error: {data_dir} holds no Stratus data (see --data-dir)", file=sys.stderr)
        return 2
    given = os.environ.get("STRATUS_ADMIN_PASSWORD") or None
    password = given or secrets.token_urlsafe(18)
    os.umask(0o077)
    with _firestore(data_dir) as address:
        os.environ["FIRESTORE_EMULATOR_HOST"] = address
        from shared.store.firestore import FirestoreStore

        try:
            org = reset_password(FirestoreStore(args.project), args.username, password)
        except SystemExit as exc:
            print(exc, file=sys.stderr)
            return 2
    shown = "(from STRATUS_ADMIN_PASSWORD)" if given else f"{password} (shown only this once)"
    print(f"stratus: user '{args.username}' of organisation {org} has a new password {shown}; "
          "its older tokens no longer work")  # fmt: skip
    return 0
