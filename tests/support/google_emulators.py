"""Start Google's own Firestore and Pub/Sub emulators (Cloud SDK, Java) for differential tests.

`google_emulator("firestore")` runs `gcloud beta emulators firestore start` (memory only) or
`gcloud beta emulators pubsub start` on a free port in a process group of its own, waits until it
answers, and stops the whole group (gcloud, its shell wrapper and the JVM) by that group's id.
`missing_reason()` says why they cannot run here (no gcloud, no Java), for `pytest.skip`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from tests.support.waiting import until

__all__ = ["GoogleEmulator", "google_emulator", "missing_reason"]

Kind = Literal["firestore", "pubsub"]
_COMPONENT = {
    "firestore": "platform/cloud-firestore-emulator",
    "pubsub": "platform/pubsub-emulator",
}


@dataclass
class GoogleEmulator:
    """A running Google emulator: `address` is host:port for FIRESTORE_/PUBSUB_EMULATOR_HOST."""

    kind: Kind
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def missing_reason(kind: Kind = "firestore") -> str | None:
    """Why Google's `kind` emulator cannot start on this machine, or None when it can."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return "Google's emulators need the Cloud SDK: `gcloud` is not on PATH"
    if shutil.which("java") is None:
        return "Google's emulators need Java: `java` is not on PATH"
    sdk = Path(os.path.realpath(gcloud)).parent.parent
    for root in (sdk, sdk / "lib" / "google-cloud-sdk", Path("/usr/lib/google-cloud-sdk")):
        if (root / _COMPONENT[kind]).exists():
            return None
    return f"the Cloud SDK component {_COMPONENT[kind]!r} is not installed"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the process group we started (gcloud -> wrapper -> java), by its id."""
    if process.poll() is None or _group_alive(process.pid):
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while _group_alive(process.pid) and time.monotonic() < deadline:
                if process.poll() is None:
                    with suppress(subprocess.TimeoutExpired):
                        process.wait(0.1)
                else:
                    time.sleep(0.05)
            if not _group_alive(process.pid):
                break
    if process.poll() is None:
        process.wait(5)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def google_emulator(kind: Kind, timeout: float = 60.0) -> Iterator[GoogleEmulator]:
    """Google's `kind` emulator on a free port for the duration of the block."""
    reason = missing_reason(kind)
    if reason is not None:
        raise RuntimeError(reason)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix=f"google-{kind}-") as tmp:
        command = ["gcloud", "beta", "emulators", kind, "start", f"--host-port=127.0.0.1:{port}"]
        if kind == "pubsub":
            (Path(tmp) / "data").mkdir()
            command.append(f"--data-dir={tmp}/data")
        log_path = Path(tmp) / "emulator.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stopped as one, by its id
                env={**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
            )
        emulator = GoogleEmulator(kind, port, process, log_path)
        try:
            _wait_ready(emulator, timeout)
            yield emulator
        finally:
            _stop(process)


def _wait_ready(emulator: GoogleEmulator, timeout: float) -> None:
    with httpx.Client(timeout=1.0) as http:

        def answers() -> bool:
            try:
                return http.get(f"http://{emulator.address}/").status_code == 200
            except httpx.HTTPError:
                return False

        ready = until(lambda: emulator.process.poll() is not None or answers(), timeout, 0.1)
    if emulator.process.poll() is not None:
        raise RuntimeError(f"Google's {emulator.kind} emulator exited:\n{emulator.log()}")
    if not ready:
        raise RuntimeError(
            f"Google's {emulator.kind} emulator not ready in {timeout}s:\n{emulator.log()}"
        )
