"""Run the emulator's function host alone (`python -m emulator.host`) on a fixture manifest."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from emulator.process import free_port

__all__ = ["FIXTURES", "RunningHost", "running_host"]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "serverless.yml"


@dataclass(frozen=True)
class RunningHost:
    base_url: str
    push_token: str


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
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise RuntimeError(f"host exited early:\n{output}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("host did not become healthy in 30 s")
            time.sleep(0.05)
        yield RunningHost(base_url, push_token)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
