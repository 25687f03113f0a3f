"""Third-party distributions of a function: the imports found by `infra.imports` resolved to the
distributions of the build's virtualenv, closed over their requirements, pinned exactly.

The markers of the requirements are evaluated for the deploy targets (CPython 3.11 on Linux
x86_64: the Cloud Run Python buildpack and the OpenWhisk python:3.11 image), whatever the host.
Extras come from the project's requirements file (`PyJWT[crypto]`) and from the requirements
that name them (`google-api-core[grpc]`).
"""

from __future__ import annotations

import importlib.metadata as metadata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = ["TARGET_ENVIRONMENT", "PackageError", "Pin", "owners", "pins", "requirements_text"]

# where the artefacts run: the python:3.11 images of both targets
TARGET_ENVIRONMENT: dict[str, str] = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.9",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.11.9",
    "python_version": "3.11",
    "sys_platform": "linux",
}


class PackageError(RuntimeError):
    """An import no installed distribution provides, or a requirement that is not installed."""


@dataclass(frozen=True, order=True, slots=True)
class Pin:
    """One distribution at its exact version: `name==version`."""

    name: str  # canonical (lower case, dashes)
    version: str

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


@cache
def _module_owners() -> dict[str, str]:
    """Dotted module name -> the distribution that installs its `__init__.py` or `.py` (or
    extension module), for every installed distribution; namespace packages have no owner."""
    owned: dict[str, str] = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".data")) or ".." in parts:
                continue
            if "__pycache__" in parts:
                continue
            leaf = parts[-1]
            if leaf == "__init__.py":
                owned.setdefault(".".join(parts[:-1]), name)
            elif leaf.endswith(".py") or leaf.endswith(".so"):
                stem = leaf.split(".", 1)[0]
                owned.setdefault(".".join([*parts[:-1], stem]), name)
    return owned


def owners(modules: Iterable[str]) -> set[str]:
    """The distributions providing `modules` (dotted names as imported). A name whose longest
    owned prefix is found counts; a name with no owned prefix is a PackageError, except the
    attribute half of `from package import name` (its package is owned)."""
    table = _module_owners()
    found: set[str] = set()
    for module in sorted(modules):
        parts = module.split(".")
        owner = next(
            (table[".".join(parts[:n])] for n in range(len(parts), 0, -1)
             if ".".join(parts[:n]) in table),
            None,
        )  # fmt: skip
        if owner is not None:
            found.add(owner)
        elif not any(m.startswith(module + ".") for m in modules):
            raise PackageError(f"no installed distribution provides the module {module!r}")
    return found


@cache
def _installed(name: str) -> tuple[str, tuple[str, ...]]:
    """(version, requirements) of an installed distribution, read once per process."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise PackageError(
            f"{name} is required on the target but not installed here: run make deps"
        ) from None
    return dist.version, tuple(dist.requires or ())


def _project_extras(requirements_file: Path) -> dict[str, frozenset[str]]:
    """The extras the project's requirements file asks of each distribution (`PyJWT[crypto]`)."""
    extras: dict[str, frozenset[str]] = {}
    for raw in requirements_file.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        extras[canonicalize_name(requirement.name)] = frozenset(requirement.extras)
    return extras


def _applies(marker: Marker | None, extras: frozenset[str]) -> bool:
    if marker is None:
        return True
    return any(
        marker.evaluate({**TARGET_ENVIRONMENT, "extra": extra}) for extra in ("", *sorted(extras))
    )


def pins(
    distributions: Iterable[str],
    requirements_file: Path,
    *,
    also: Mapping[str, frozenset[str]] | None = None,
) -> list[Pin]:
    """`distributions` (and `also`, e.g. functions-framework) with everything they require on the
    target, each pinned to the version installed here, sorted by name."""
    wanted = _project_extras(requirements_file)
    pending: list[tuple[str, frozenset[str]]] = [
        (canonicalize_name(name), wanted.get(canonicalize_name(name), frozenset()))
        for name in distributions
    ]
    pending += [(canonicalize_name(n), frozenset(e)) for n, e in (also or {}).items()]
    seen: dict[str, set[str]] = {}
    resolved: dict[str, str] = {}
    while pending:
        name, extras = pending.pop()
        done = seen.setdefault(name, set())
        if name in resolved and extras <= done:
            continue
        version, requires = _installed(name)
        resolved[name] = version
        done.update(extras)
        for text in requires:
            requirement = Requirement(text)
            if _applies(requirement.marker, frozenset(done)):
                pending.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return sorted(Pin(name, version) for name, version in resolved.items())


def requirements_text(header: str, pinned: Iterable[Pin]) -> str:
    """A requirements.txt: a comment line, then one exact pin a line."""
    return f"# {header}\n" + "".join(f"{pin}\n" for pin in pinned)
