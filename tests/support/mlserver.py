"""A real MLServer (KServe v2 / Open Inference Protocol) for tests, from its own virtualenv
`.venv-mlserver` (scripts/bootstrap.sh builds it from requirements-mlserver.txt; built here too
when missing), serving the custom runtime in tests/fixtures/mlserver/ on free ports."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.waiting import until

__all__ = ["RunningMLServer", "mlserver"]

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-mlserver"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_venv() -> Path:
    binary = VENV / "bin" / "mlserver"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [
                str(VENV / "bin" / "pip"),
                "install",
                "--quiet",
                "-r",
                str(ROOT / "requirements-mlserver.txt"),
            ],
            check=True,
        )
    return binary


@dataclass
class RunningMLServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def mlserver(workdir: Path) -> Iterator[RunningMLServer]:
    """MLServer serving model `spike` at `url` until the context ends (stopped by its pid)."""
    binary = _ensure_venv()
    models = workdir / "models"
    shutil.copytree(ROOT / "tests/fixtures/mlserver", models)
    port = _free_port()
    settings = {
        "host": "127.0.0.1", "http_port": port, "grpc_port": _free_port(),
        "metrics_port": _free_port(), "parallel_workers": 0, "metrics_endpoint": None,
    }  # fmt: skip
    (models / "settings.json").write_text(json.dumps(settings))
    log = workdir / "mlserver.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(binary), "start", "."], cwd=models, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"MLServer exited:\n{log.read_text(errors='replace')}")
        try:
            return httpx.get(f"{url}/v2/models/spike/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        if not until(ready, 90, 0.2):
            raise RuntimeError(f"MLServer not ready:\n{log.read_text(errors='replace')}")
        yield RunningMLServer(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
