"""What one function needs once deployed, read from its code and the manifest: its files, its
third-party distributions, and the clients and secrets it uses (least privilege).

Files: the import closure of its handler, plus the data files of its folder that its package
patterns hold (`openapi.yaml`, static pages). Capabilities come from the function's own folder
(AST): `clients.store`, `.bus`, `.broker_admin`, `.broker_publisher`, `.broker_settings`, and
an entry call with `authenticated=True` (the token check reads the store); a function calling
`issue_user_token`, `issue_device_token` or `issue_consumer_token` signs tokens and is the only
kind given the private key. Every function may verify tokens, with the public keys.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from infra.imports import closure, external_modules, packaged
from infra.packages import Pin, owners, pins
from shared.manifest import FunctionSpec, Manifest

__all__ = ["Needs", "gateway_needs", "needs"]

_SIGNERS = {"issue_user_token", "issue_device_token", "issue_consumer_token"}
_CLIENTS = {"store", "bus", "broker_admin", "broker_publisher", "broker_settings"}


@dataclass(frozen=True, slots=True)
class Needs:
    """A function's deployable footprint."""

    name: str
    files: tuple[str, ...]  # repository-relative paths its import runs, sorted
    distributions: tuple[str, ...]  # third-party distributions it imports, sorted
    clients: frozenset[str]  # of _CLIENTS
    signs: bool

    @property
    def store(self) -> bool:
        return "store" in self.clients

    @property
    def bus(self) -> bool:
        return "bus" in self.clients

    @property
    def mqtt_admin(self) -> bool:
        """Provisions device logins on the broker (its own admin account)."""
        return "broker_admin" in self.clients

    @property
    def mqtt_api(self) -> bool:
        """Publishes device config and commands (its own API account)."""
        return "broker_publisher" in self.clients

    @property
    def mqtt(self) -> bool:
        return bool(self.clients & {"broker_admin", "broker_publisher", "broker_settings"})

    def pins(self, root: Path, *, also: dict[str, frozenset[str]] | None = None) -> list[Pin]:
        """Exact pins of its distributions and of `also` (e.g. functions-framework)."""
        return pins(self.distributions, root / "requirements.txt", also=also)


def _nodes(folder: Path) -> Iterator[ast.AST]:
    for source in sorted(folder.rglob("*.py")):
        yield from ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source)))


def _capabilities(folder: Path) -> tuple[frozenset[str], bool]:
    clients: set[str] = set()
    signs = False
    for node in _nodes(folder):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "clients"
            and node.attr in _CLIENTS
        ):
            clients.add(node.attr)
        elif (isinstance(node, ast.Name) and node.id in _SIGNERS) or (
            isinstance(node, ast.alias) and node.name in _SIGNERS
        ):
            signs = True
        elif isinstance(node, ast.Call) and any(
            kw.arg == "authenticated"
            and isinstance(kw.value, ast.Constant)
            and kw.value.value is True
            for kw in node.keywords
        ):
            clients.add("store")  # the bearer-token check reads token versions from the store
    return frozenset(clients), signs


def _data_files(folder: Path, root: Path, patterns: tuple[str, ...]) -> set[str]:
    """Files the function reads besides its code (`openapi.yaml`, a page's static files): those
    of its folder its package patterns hold, but for Python sources (the import walk decides
    those) and READMEs."""
    found = set()
    for path in folder.rglob("*"):
        name = str(path.relative_to(root))
        if (
            path.is_file()
            and path.suffix not in {".py", ".pyc", ".md"}
            and "__pycache__" not in path.parts
            and packaged(name, patterns)
        ):
            found.add(name)
    return found


def _footprint(
    name: str, start: Path, folder: Path, root: Path, patterns: tuple[str, ...] = ()
) -> Needs:
    files = closure(start, root)
    clients, signs = _capabilities(folder)
    data = _data_files(folder, root, patterns) if patterns else set()
    return Needs(
        name=name,
        files=tuple(sorted({str(path.relative_to(root)) for path in files} | data)),
        distributions=tuple(sorted(owners(external_modules(files, root)))),
        clients=clients,
        signs=signs,
    )


@cache
def _cached(name: str, source: str, root: Path, patterns: tuple[str, ...]) -> Needs:
    start = root / source
    return _footprint(name, start, start.parent, root, patterns)


def needs(spec: FunctionSpec, manifest: Manifest) -> Needs:
    """The footprint of `spec` (cached per process: the tree does not change under a build)."""
    return _cached(spec.name, spec.source, manifest.root, spec.patterns)


def gateway_needs(module: str, root: Path) -> Needs:
    """The footprint of a gateway's `python -m <module>` (its `__main__.py`)."""
    start = root.joinpath(*module.split(".")) / "__main__.py"
    return _footprint(module.rsplit(".", 1)[-1], start, start.parent, root)
