"""What a function's code needs, read from the source (AST): the repository files it runs and the
top-level third-party modules it imports, plus Serverless' package patterns (shared by
`tests/test_layout.py` and the artefact builders)."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path

__all__ = ["closure", "external_modules", "imported_modules", "module_file", "packaged"]


def imported_modules(source: Path, root: Path) -> Iterator[str]:
    """Every module `source` imports, anywhere in it (lazy and TYPE_CHECKING imports included),
    as dotted names; `from a import b` yields `a` and `a.b` (b may be a submodule)."""
    package = ".".join(source.relative_to(root).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


@cache
def module_file(name: str, root: Path) -> Path | None:
    """The file of a module of this repository (None: a library, or a name that is no module)."""
    path = root.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _imports_of(source: Path, root: Path, mtime_ns: int) -> tuple[str, ...]:
    return tuple(imported_modules(source, root))


def _cached_imports(source: Path, root: Path) -> tuple[str, ...]:
    """`imported_modules` parsed once per file version (a build walks shared/ many times)."""
    return _imports_of(source, root, source.stat().st_mtime_ns)


def closure(start: Path, root: Path) -> set[Path]:
    """The repository's files that importing `start` runs: the modules it imports, their parent
    packages' `__init__.py`, and theirs, transitively."""
    seen: set[Path] = set()
    pending = [start]
    while pending:
        source = pending.pop()
        if source in seen:
            continue
        seen.add(source)
        for name in _cached_imports(source, root):
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # a.b.c runs a/__init__ and a/b/__init__
                found = module_file(".".join(parts[:depth]), root)
                if found is not None and found not in seen:
                    pending.append(found)
    return seen


def external_modules(files: set[Path], root: Path) -> set[str]:
    """The dotted names `files` import that are neither the standard library nor this
    repository's modules (third-party code, resolved to distributions by `infra.packages`)."""
    found: set[str] = set()
    for source in files:
        for name in _cached_imports(source, root):
            top = name.split(".")[0]
            if not top or top in sys.stdlib_module_names or top == "__future__":
                continue
            if module_file(top, root) is not None or (root / top).is_dir():
                continue
            found.add(name)
    return found


def _glob(pattern: str) -> re.Pattern[str]:
    """A Serverless (micromatch) path glob: `**` any directories, `*` and `?` within one."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def packaged(path: str, patterns: Sequence[str]) -> bool:
    """Whether `path` is in a package built with `patterns` (in order; `!` excludes; the last
    pattern that matches decides, as Serverless applies them)."""
    included = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _glob(pattern.lstrip("!")).match(path):
            included = not negated
    return included
