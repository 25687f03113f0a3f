"""`python -m infra deploy` stops with one clear line without credentials, changing nothing; the
plans it would run are valid bash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.plan_cloudrun import plan as cloudrun_plan
from infra.plan_openwhisk import plan as openwhisk_plan
from shared.manifest import load

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("target", ["cloudrun", "openwhisk"])
def test_without_credentials_deploy_stops_at_once(target: str, tmp_path: Path) -> None:
    hidden = {"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env |= {"HOME": str(tmp_path), "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
            "PYTHONPATH": str(ROOT)}  # fmt: skip
    args = ["--project", "demo-project"] + (["--apihost", "ow.example"] if target == "openwhisk"
                                            else [])  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "infra", "--manifest", str(ROOT / "serverless.yml"), "deploy",
         "--target", target, *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("deploy: no Google Cloud credentials") and "nothing was changed" in line
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "gcloud") == []  # nothing ran


def test_the_plans_are_valid_bash(tmp_path: Path) -> None:
    manifest = load(ROOT / "serverless.yml")
    for name, text in {
        "cloudrun.sh": cloudrun_plan(manifest, "demo-project", "europe-west1"),
        "openwhisk.sh": openwhisk_plan(manifest, "ow.example", "guest", "demo-project",
                                       "europe-west1"),
    }.items():  # fmt: skip
        (tmp_path / name).write_text(text)
        checked = subprocess.run(["bash", "-n", str(tmp_path / name)], capture_output=True,
                                 text=True, check=False)  # fmt: skip
        assert checked.returncode == 0, checked.stderr
