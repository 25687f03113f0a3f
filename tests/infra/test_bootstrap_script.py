"""scripts/bootstrap.sh waits for another apt or dpkg to finish instead of failing on its lock
(unattended-upgrades on a fresh machine, two `make deps` at once)."""

from __future__ import annotations

import fcntl
import subprocess
import threading
from pathlib import Path

import pytest

from tests.support.emulator import ROOT

pytestmark = pytest.mark.process


def _wait_for_apt(locks: list[Path], wait: int) -> subprocess.CompletedProcess[str]:
    script = "BOOTSTRAP_FUNCTIONS_ONLY=1 source scripts/bootstrap.sh && wait_for_apt"
    return subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "APT_LOCK_FILES": " ".join(map(str, locks)),
             "APT_LOCK_WAIT": str(wait)},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


def test_it_waits_until_the_lock_is_released(tmp_path: Path) -> None:
    lock = tmp_path / "lock-frontend"
    holder = lock.open("a")
    fcntl.lockf(holder, fcntl.LOCK_EX)  # as dpkg holds it
    released = threading.Timer(1.5, holder.close)
    released.start()
    result = _wait_for_apt([lock, tmp_path / "absent"], wait=30)
    assert result.returncode == 0, result.stderr  # it waited for the release, then went on
    assert f"waiting for another apt/dpkg to release {lock}" in result.stdout
    released.join()


def test_it_gives_up_after_the_wait_with_one_line(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    with lock.open("a") as holder:
        fcntl.lockf(holder, fcntl.LOCK_EX)
        result = _wait_for_apt([lock], wait=1)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {lock} is still locked after 1s"
