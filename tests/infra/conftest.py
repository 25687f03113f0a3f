"""A small deployable tree for the plan's golden files: tests/infra/fixtures/deploy (three
functions, their manifest and index configuration) with the repository's shared/ and
requirements.txt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.manifest import Manifest, load

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "infra" / "fixtures" / "deploy"


@pytest.fixture(scope="session")
def small_manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    tree = tmp_path_factory.mktemp("deploy-tree")
    shutil.copytree(FIXTURE, tree, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("shared", "requirements.txt"):
        (tree / name).symlink_to(ROOT / name)
    return load(tree / "serverless.yml")


@pytest.fixture(scope="session")
def manifest() -> Manifest:
    """The repository's serverless.yml."""
    return load(ROOT / "serverless.yml")
