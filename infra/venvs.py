"""Fresh virtualenvs holding exactly one requirements file, made once per set of pins: what the
deploy validation tests and `python -m bench coldstart --target cloudrun|openwhisk` run the
artefacts on (Cloud Run's buildpack installs a source dir's requirements.txt the same way)."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["base_python", "fresh_venv", "pins_of", "venv_cache"]


def venv_cache() -> Path:
    return Path.home() / ".cache" / "stratus" / "test-venvs"


def pins_of(requirements: Path) -> str:
    """The requirement lines of a file, comments left out (functions pinning the same
    packages share a virtualenv)."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    return "".join(f"{line}\n" for line in lines if line)


def fresh_venv(
    requirements: Path, cache: Path, *, deps: bool = False, then: Path | None = None
) -> Path:
    """A virtualenv holding exactly `requirements` (without their dependencies: the file pins
    them all; `deps` resolves them instead), then `then` without dependencies, made with the
    base interpreter's `venv` and the project's pip (from pip's cache or the index), kept in
    `cache` under the digest of the files and the interpreter."""
    python = base_python()
    text = pins_of(requirements) + ("--\n" + pins_of(then) if then else "")
    key = hashlib.sha256(f"{python}\0{deps}\0{text}".encode()).hexdigest()[:16]
    folder = cache / key
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session building the same one: wait for it
        if (folder / ".complete").exists():
            return folder
        if folder.exists():
            shutil.rmtree(folder)  # an interrupted build
        subprocess.run([python, "-m", "venv", "--without-pip", str(folder)], check=True)
        pip = [sys.executable, "-m", "pip", "--python", str(folder / "bin" / "python"), "install",
               "--quiet", "--disable-pip-version-check", "--no-compile"]  # fmt: skip
        subprocess.run([*pip, *([] if deps else ["--no-deps"]), "-r", str(requirements)],
                       check=True)  # fmt: skip
        if then is not None:
            subprocess.run([*pip, "--no-deps", "-r", str(then)], check=True)
        (folder / ".complete").write_text(text)
    return folder


def base_python() -> str:
    """The interpreter the project's virtualenv was made from (a clean Python 3.11)."""
    return str(getattr(sys, "_base_executable", sys.executable))
