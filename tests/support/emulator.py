"""Run the real emulator (`python -m emulator`) as a subprocess for end-to-end tests."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.waiting import until

__all__ = ["RunningEmulator", "alive", "children_of", "start_emulator"]

ROOT = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> list[int]:
    """The ids of the processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class RunningEmulator:
    """A live emulator: its addresses, admin credentials, and process control for tests."""

    data_dir: Path
    env: dict[str, str]
    args: list[str]
    process: subprocess.Popen[bytes] | None = None
    endpoints: dict[str, Any] = field(default_factory=dict)
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return str(self.endpoints["base_url"])

    @property
    def firestore(self) -> str:
        return str(self.endpoints["firestore"])

    @property
    def pubsub(self) -> str:
        return str(self.endpoints["pubsub"])

    @property
    def project(self) -> str:
        return str(self.endpoints["project"])

    @property
    def admin_password(self) -> str:
        return self.env["STRATUS_ADMIN_PASSWORD"]

    def client_env(self) -> dict[str, str]:
        """Variables that point official Google clients at this emulator."""
        return {
            "FIRESTORE_EMULATOR_HOST": self.firestore,
            "PUBSUB_EMULATOR_HOST": self.pubsub,
            "GOOGLE_CLOUD_PROJECT": self.project,
            "STRATUS_PROJECT": self.project,
        }

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def start(self, timeout: float = 60.0) -> None:
        endpoints_file = self.data_dir / "endpoints.json"
        endpoints_file.unlink(missing_ok=True)
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-emulator.log"
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "emulator", *self.args],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = self.process
        if not until(lambda: process.poll() is not None or self._healthy(endpoints_file), timeout):
            self.kill()
            raise RuntimeError(f"emulator not ready after {timeout}s:\n{self.log()}")
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited early:\n{self.log()}")

    def _healthy(self, endpoints_file: Path) -> bool:
        if not endpoints_file.exists():
            return False
        self.endpoints = json.loads(endpoints_file.read_text())
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 20.0) -> int:
        """Graceful stop (SIGTERM); returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """kill -9 of the emulator; returns once its children died with it (their parent-death
        signal), so their ports and data files are free."""
        if self.process is not None and self.process.poll() is None:
            children = children_of(self.process.pid)
            self.process.kill()
            self.process.wait(10)
            if not until(lambda: not any(map(alive, children)), timeout=10):
                raise RuntimeError(f"children {list(filter(alive, children))} outlived kill -9")

    def restart(self) -> None:
        self.start()


def start_emulator(data_dir: Path, **env: str) -> RunningEmulator:
    """Start an emulator on free ports with a fresh admin password; the caller stops it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        "STRATUS_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "STRATUS_WORKERS": "2",
        **env,
    }
    emulator = RunningEmulator(
        data_dir=data_dir,
        env=full_env,
        args=[
            "--port",
            "0",
            "--firestore-port",
            "0",
            "--pubsub-port",
            "0",
            "--mqtt-port",
            "0",
            "--mqtt-ws-port",
            "0",
            "--ws-port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
    )
    emulator.start()
    return emulator
