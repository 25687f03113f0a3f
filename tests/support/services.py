"""Run one of the emulator's gRPC services (firestore, pubsub) alone, as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.waiting import until

__all__ = ["RunningService", "running_service"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningService:
    """A started `python -m emulator.<name>`; `address` is host:port for *_EMULATOR_HOST."""

    name: str
    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: object = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        port_file = self.data_dir / f"{self.name}.port.json"
        port_file.unlink(missing_ok=True)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                f"emulator.{self.name}",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--port-file",
                str(port_file),
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        process = self.process
        until(lambda: port_file.exists() or process.poll() is not None, timeout)
        if not port_file.exists():
            self.log.seek(0)  # type: ignore[attr-defined]
            output = self.log.read().decode(errors="replace")  # type: ignore[attr-defined]
            self.stop()
            raise RuntimeError(f"{self.name} emulator did not start:\n{output}")
        self.port = int(json.loads(port_file.read_text())["port"])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()  # type: ignore[attr-defined]
            self.log = None

    def kill(self) -> None:
        """kill -9: no chance to flush or close anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def running_service(name: str, data_dir: Path) -> Iterator[RunningService]:
    data_dir.mkdir(parents=True, exist_ok=True)
    service = RunningService(name, data_dir)
    service.start()
    try:
        yield service
    finally:
        service.stop()
