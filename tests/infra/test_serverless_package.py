"""`npx serverless package` (Serverless Framework v3 with serverless-openwhisk, pinned in
package.json and package-lock.json; offline, telemetry off) still accepts serverless.yml and
packages every function with its code. Its zips hold no dependencies (and the plugin drops the
environment, the Pub/Sub subscription policies and the web actions' http responses): `python -m
infra` is the deploy path; this keeps the manifest valid Serverless syntax."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from shared.manifest import load

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]


def _framework() -> Path:
    """node_modules of package-lock.json, installed once per lock file (`npm ci`, npm's cache)."""
    lock = (ROOT / "package-lock.json").read_bytes()
    folder = Path.home() / ".cache" / "stratus" / f"npm-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not (folder / "node_modules" / ".bin" / "serverless").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(ROOT / name, folder / name)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=folder,
                       check=True, timeout=900)  # fmt: skip
    return folder / "node_modules"


@pytest.mark.skipif(shutil.which("npm") is None, reason="needs node and npm")
def test_serverless_package_accepts_the_manifest(tmp_path: Path) -> None:
    service = tmp_path / "service"
    service.mkdir()
    shutil.copyfile(ROOT / "serverless.yml", service / "serverless.yml")
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("shared", "functions"):
        shutil.copytree(ROOT / folder, service / folder, ignore=ignore)
    (service / "node_modules").symlink_to(_framework())
    done = subprocess.run(
        [str(service / "node_modules" / ".bin" / "serverless"), "package"],
        cwd=service, capture_output=True, text=True, timeout=600,
        env={**os.environ, "SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off",
             "HOME": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = load(ROOT / "serverless.yml")
    for name in manifest.functions:
        with zipfile.ZipFile(service / ".serverless" / f"{name}.zip") as archive:
            names = set(archive.namelist())
        assert {f"functions/{name}/main.py", "shared/entry.py"} <= names, name
        assert not any(n.startswith(("virtualenv/", "node_modules/")) for n in names)
