"""Run the emulator's function host alone (`python -m emulator.host`) on a fixture manifest."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from emulator.process import free_port
from tests.support.waiting import until

__all__ = ["FIXTURES", "RunningHost", "running_host"]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "serverless.yml"


@dataclass(frozen=True)
class RunningHost:
    base_url: str
    push_token: str


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running_host(
    manifest: Path = FIXTURES, push_token: str = "test-token", **env: str
) -> Iterator[RunningHost]:
    port = free_port("127.0.0.1")
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator.host",
            "--port",
            str(port),
            "--workers",
            "1",
            "--manifest",
            str(manifest),
        ],
        cwd=ROOT,
        env={**os.environ, "STRATUS_PUSH_TOKEN": push_token, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        if not until(lambda: process.poll() is not None or _healthy(base_url), 30):
            raise RuntimeError("host did not become healthy in 30 s")
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"host exited early:\n{output}")
        yield RunningHost(base_url, push_token)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
