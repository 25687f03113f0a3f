"""`python -m emulator reset-admin-password`: a lost admin password is replaced, with the
emulator running or stopped, and the old password and tokens stop working."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.emulator import ROOT, RunningEmulator, start_emulator

pytestmark = [pytest.mark.e2e, pytest.mark.process]


def _reset(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", "reset-admin-password", "--data-dir", str(data_dir)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _signin(platform: RunningEmulator, password: str) -> httpx.Response:
    return httpx.post(
        f"{platform.base_url}/api/users/signin",
        json={"username": "admin", "password": password},
        timeout=30,
    )


def test_a_lost_admin_password_is_reset_running_or_stopped(tmp_path: Path) -> None:
    data = tmp_path / "data"
    platform = start_emulator(data)
    try:
        old = platform.admin_password
        token = _signin(platform, old).json()["token"]
        env = {"STRATUS_ADMIN_PASSWORD": ""}
        running = _reset(data, **env)  # while it runs: through its store
        assert running.returncode == 0, running.stderr
        assert "shown only this once" in running.stdout
        new = running.stdout.split("new password ", 1)[1].split(" ", 1)[0]
        assert _signin(platform, old).status_code == 403
        assert _signin(platform, new).status_code == 200
        me = httpx.get(
            f"{platform.base_url}/api/users/", headers={"authorization": f"Bearer {token}"}
        )
        assert me.status_code == 403  # the older token is revoked with the old password

        assert platform.stop() == 0
        stopped = _reset(data, STRATUS_ADMIN_PASSWORD="operator's new one 9")
        assert stopped.returncode == 0, stopped.stderr
        assert "from STRATUS_ADMIN_PASSWORD" in stopped.stdout
        assert "operator's new one" not in stopped.stdout
        platform.start()
        assert _signin(platform, "operator's new one 9").status_code == 200
        assert _signin(platform, new).status_code == 403
    finally:
        if platform.process and platform.process.poll() is None:
            platform.stop()


def test_refusals_are_one_line(tmp_path: Path) -> None:
    empty = _reset(tmp_path / "nothing")
    assert empty.returncode == 2 and "holds no Stratus data" in empty.stderr
