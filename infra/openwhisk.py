"""OpenWhisk artefacts: per function `DIR/openwhisk/<name>.zip` in the python:3.11 runtime's
format, and the action list the plan deploys.

A zip holds `__main__.py` (`main = shared.platforms.openwhisk.action("functions.<name>.main")`),
`shared/` and the modules the function imports, and `virtualenv/`: `bin/activate_this.py` written
by the `virtualenv` package (the runtime's launcher executes it; plain `venv` has none) and, under
`lib/python3.11/site-packages/`, exactly the distributions the function needs. Those are installed
once per build into one virtualenv for every function (pip, binary wheels for CPython 3.11 on
manylinux x86_64, whatever the host), cached by the digest of the pins, and each zip takes its
distributions' files from it by their RECORD. An action over OpenWhisk's default limit (48 MiB)
is refused with its size.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from infra.files import digest, write_text, write_zip
from infra.needs import needs
from infra.packages import Pin, requirements_text
from shared.manifest import FunctionSpec, Manifest

__all__ = ["ACTION_LIMIT_BYTES", "SITE", "Built", "build", "entry_source", "runtime_virtualenv"]

ACTION_LIMIT_BYTES = 48 * 1024 * 1024  # OpenWhisk's default action size limit
SITE = "virtualenv/lib/python3.11/site-packages"
_PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
]


def entry_source(spec: FunctionSpec) -> str:
    return (
        f'"""OpenWhisk entry of the Stratus function `{spec.name}` (python:3.11 kind), generated\n'
        "by `python -m infra build`: configuration parameters go to the environment, then the\n"
        'function\'s own `main(args)` answers."""\n\n'
        "from shared.platforms.openwhisk import action\n\n"
        f'main = action("{spec.module}")\n'
    )


def default_cache() -> Path:
    base = os.environ.get("STRATUS_BUILD_CACHE") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "stratus" if base else Path.home() / ".cache" / "stratus"


def runtime_virtualenv(pinned: set[Pin], cache: Path) -> Path:
    """A virtualenv holding every pin, built once per set of pins under `cache`."""
    text = "".join(f"{pin}\n" for pin in sorted(pinned))
    folder = cache / f"openwhisk-py311-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    done = folder / ".complete"
    if done.exists():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(folder.name + f".tmp{os.getpid()}")
    subprocess.run(
        [sys.executable, "-m", "virtualenv", "--no-seed", "--activators", "python",
         "--prompt", "stratus", "--no-periodic-update", "--quiet", str(staging / "virtualenv")],
        check=True,
    )  # fmt: skip
    requirements = staging / "requirements.txt"
    requirements.write_text(text)
    platforms = [arg for platform in _PLATFORMS for arg in ("--platform", platform)]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(staging / SITE), "--no-deps", "--no-compile", "--only-binary=:all:",
         *platforms, "--python-version", "3.11", "--implementation", "cp",
         "--abi", "cp311", "--abi", "abi3", "--abi", "none", "-r", str(requirements)],
        check=True,
    )  # fmt: skip
    (staging / ".complete").write_text(text)
    if not done.exists():
        staging.rename(folder)
    return folder


def _dist_files(site: Path, pin: Pin) -> list[str]:
    """The files of one installed distribution, from its RECORD (scripts and caches left out)."""
    for info in site.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].rpartition("-")
        if canonicalize_name(name) == pin.name and version == pin.version:
            record = (info / "RECORD").read_text(encoding="utf-8").splitlines()
            paths = [line.rsplit(",", 2)[0] for line in record if line.strip()]
            return sorted(
                path for path in paths if not path.startswith("..") and "__pycache__" not in path
            )
    raise FileNotFoundError(f"{pin} is not in the runtime virtualenv {site}")


def _venv_entries(venv: Path, pinned: list[Pin]) -> dict[str, Path | bytes]:
    site = venv / SITE
    entries: dict[str, Path | bytes] = {
        "virtualenv/bin/activate_this.py": venv / "virtualenv/bin/activate_this.py"
    }
    for pin in pinned:
        entries.update({f"{SITE}/{name}": site / name for name in _dist_files(site, pin)})
    return entries


def _code_entries(manifest: Manifest, spec: FunctionSpec) -> dict[str, Path | bytes]:
    entries: dict[str, Path | bytes] = {"__main__.py": entry_source(spec).encode()}
    entries.update({name: manifest.root / name for name in needs(spec, manifest).files})
    return entries


@dataclass(frozen=True, slots=True)
class Built:
    """What the build made for the actions: zips, and the functions that run on the Docker
    image (their dependencies would not fit the action limit) with that image's pins."""

    zips: dict[str, Path]
    docker: tuple[str, ...]
    image_pins: tuple[Pin, ...]


def _groups(manifest: Manifest, names: list[str]) -> dict[tuple[Pin, ...], list[str]]:
    groups: dict[tuple[Pin, ...], list[str]] = {}
    for name in names:
        pinned = tuple(needs(manifest.functions[name], manifest).pins(manifest.root))
        groups.setdefault(pinned, []).append(name)
    return groups


class ActionTooLarge(RuntimeError):
    """A zip over OpenWhisk's action size limit, naming what to do about it."""


def build(manifest: Manifest, out: Path, names: list[str], cache: Path | None = None) -> Built:
    """The zips of `names`. Functions with the same pins share one base zip of their
    virtualenv, written once and copied (the code is appended), so the build compresses each
    set of dependencies once. The functions of `custom.stratus.openwhisk.docker` get a zip of
    their code alone, run on `DIR/openwhisk/image/` (the runtime image with their
    dependencies); any other zip over the action limit is an error saying so."""
    docker = sorted(manifest.openwhisk_image_functions)
    zipped = [name for name in names if name not in docker]
    union = {pin for pinned in _groups(manifest, [n for n in manifest.functions if n not in docker])
             for pin in pinned}  # fmt: skip
    venv = runtime_virtualenv(union, cache or default_cache())
    folder = out / "openwhisk"
    folder.mkdir(parents=True, exist_ok=True)
    zips: dict[str, Path] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for index, (pinned, group) in enumerate(sorted(_groups(manifest, zipped).items())):
            base = write_zip(Path(scratch) / f"base-{index}.zip", _venv_entries(venv, list(pinned)))
            for name in group:
                target = folder / f"{name}.zip"
                shutil.copyfile(base, target)
                write_zip(target, _code_entries(manifest, manifest.functions[name]), append=True)
                if target.stat().st_size > ACTION_LIMIT_BYTES:
                    raise ActionTooLarge(
                        f"{target}: {target.stat().st_size / 2**20:.1f} MiB passes OpenWhisk's "
                        "48 MiB action limit: list the function under "
                        "custom.stratus.openwhisk.docker in serverless.yml"
                    )
                zips[name] = target
    image = {pin for name in docker for pin in needs(manifest.functions[name], manifest).pins(
        manifest.root)}  # fmt: skip
    for name in (n for n in names if n in docker):
        zips[name] = write_zip(
            folder / f"{name}.zip", _code_entries(manifest, manifest.functions[name])
        )
    if docker:
        write_text(folder / "image" / "Dockerfile", _DOCKERFILE)
        write_text(
            folder / "image" / "requirements.txt",
            requirements_text("OpenWhisk image of " + ", ".join(docker), sorted(image)),
        )
        write_text(folder / "image.tag", digest(folder / "image") + "\n")
    write_text(folder / "README.txt", _README)
    return Built(zips, tuple(docker), tuple(sorted(image)))


_DOCKERFILE = """\
# The OpenWhisk python:3.11 runtime with the dependencies of the Stratus functions whose zips
# would pass the 48 MiB action limit (generated by python -m infra build). Their zips hold only
# their code; deploy them with `wsk action update NAME NAME.zip --docker IMAGE` (the plan does).
ARG RUNTIME=openwhisk/action-python-v3.11:nightly
FROM ${RUNTIME}
COPY requirements.txt /stratus/requirements.txt
RUN pip install --no-cache-dir --no-deps -r /stratus/requirements.txt
"""

_README = """\
Stratus OpenWhisk actions (python -m infra build --target openwhisk): one zip per function, kind
python:3.11, main `main`; image/ is the runtime image of the functions whose dependencies do not
fit an action zip. `python -m infra plan --target openwhisk` prints the commands that deploy them
(wsk action update ... --web raw, API routes, Pub/Sub push subscriptions, alarms).
"""
