"""sdk/README.md's examples run as written against a running platform (the session emulator
stands in for `make run`), one after the other in one Python process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.emulator import RunningEmulator
from tests.support.host import ROOT

pytestmark = [pytest.mark.process, pytest.mark.e2e]

README = ROOT / "sdk" / "README.md"


def examples() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    return "\n".join(blocks)


def test_the_readme_examples_run(platform: RunningEmulator, tmp_path: Path) -> None:
    script = tmp_path / "readme_examples.py"
    script.write_text(examples())
    env = {**os.environ, "STRATUS_URL": platform.base_url,
           "STRATUS_ADMIN_PASSWORD": platform.admin_password}  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "{'interval_s': 10}" in lines[0]
    assert lines[-1] == "[22.0, 22.5, 23.0]"
