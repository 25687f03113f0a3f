"""The layout rules a packaged function relies on, read from the source (AST, `infra.imports`) and
serverless.yml: a function imports only `shared/` and its own folder, `shared/` imports no
function, and every module a function imports (transitively, inside the repo) is in its package."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from infra.imports import closure, imported_modules, module_file, packaged
from shared.manifest import FunctionSpec, load

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "serverless.yml"


def cross_imports(root: Path) -> list[str]:
    """`file: module` for every import of a function folder from another function, or from the
    repository's other top-level packages (gateways, emulator, bench, tests), and for every import
    of a function from `shared/`."""
    problems = []
    for source in sorted((root / "functions").glob("*/**/*.py")):
        own = source.relative_to(root).parts[1]
        for name in imported_modules(source, root):
            parts = name.split(".")
            foreign = parts[0] in {"gateways", "emulator", "bench", "tests"} or (
                parts[0] == "functions" and len(parts) > 1 and parts[1] != own
            )
            if foreign and module_file(parts[0], root) is not None:
                problems.append(f"{source.relative_to(root)}: {name}")
    for source in sorted((root / "shared").rglob("*.py")):
        for name in imported_modules(source, root):
            if name.split(".")[0] in {"functions", "gateways", "emulator", "bench", "tests"}:
                problems.append(f"{source.relative_to(root)}: {name}")
    return problems


@cache
def _functions() -> dict[str, FunctionSpec]:
    return dict(load(MANIFEST).functions)


def test_functions_import_only_shared_and_their_own_folder() -> None:
    assert cross_imports(ROOT) == []


@pytest.mark.parametrize("name", sorted(_functions()))
def test_every_module_a_function_imports_is_in_its_package(name: str) -> None:
    spec = _functions()[name]
    needed = sorted(str(path.relative_to(ROOT)) for path in closure(ROOT / spec.source, ROOT))
    assert f"functions/{name}/main.py" in needed
    assert [path for path in needed if not packaged(path, spec.patterns)] == []


def _entry_call(main: Path) -> tuple[str, ...]:
    """The names `main.py` binds to its `http_function` / `event_function` call at module level."""
    for node in ast.parse(main.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id in {"http_function", "event_function"}
            and isinstance(node.targets[0], ast.Tuple)
        ):
            return tuple(getattr(name, "id", "?") for name in node.targets[0].elts)
    return ()


def _built_at_import(api: Path) -> list[str]:
    """What `api.py` builds or reaches at import time that the template leaves to main.py."""
    tree = ast.parse(api.read_text(encoding="utf-8"))
    found = [name for name in imported_modules(api, ROOT) if name == "shared.clients"]
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) and node.value is not None:
            for call in ast.walk(node.value):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id in {"Router", "Authenticator", "HttpFunction"}
                ):
                    found.append(f"{call.func.id}() at import")
    return found


@pytest.mark.parametrize("name", sorted(_functions()))
def test_every_function_has_the_template_s_shape(name: str) -> None:
    """main.py ends in one entry call (`app, http, main = http_function(...)` or `app, event,
    main = event_function(...)`); api.py builds nothing at import and never reaches the clients."""
    folder = ROOT / "functions" / name
    assert _entry_call(folder / "main.py") in {("app", "http", "main"), ("app", "event", "main")}
    if (folder / "api.py").exists():
        assert _built_at_import(folder / "api.py") == []


def test_the_checks_catch_what_they_look_for(tmp_path: Path) -> None:
    """A small tree that breaks both rules: `a` reads `b`'s module, `shared` reads `a`."""
    for path, text in {
        "functions/__init__.py": "",
        "functions/a/__init__.py": "",
        "functions/a/main.py": "from functions.b import util\nfrom . import core\n",
        "functions/a/core.py": "def lazy():\n    import shared.extra\n",
        "functions/b/__init__.py": "",
        "functions/b/util.py": "import yaml\n",
        "shared/__init__.py": "",
        "shared/extra.py": "from functions.a.core import lazy\n",
        "shared/unused.py": "",
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    assert cross_imports(tmp_path) == [
        "functions/a/main.py: functions.b",
        "functions/a/main.py: functions.b.util",
        "shared/extra.py: functions.a.core",
        "shared/extra.py: functions.a.core.lazy",
    ]
    needed = {
        str(p.relative_to(tmp_path)) for p in closure(tmp_path / "functions/a/main.py", tmp_path)
    }
    assert needed == {
        "functions/__init__.py",
        "functions/a/__init__.py",
        "functions/a/main.py",
        "functions/a/core.py",
        "functions/b/__init__.py",
        "functions/b/util.py",
        "shared/__init__.py",
        "shared/extra.py",
    }
    patterns = ["!**", "shared/**", "functions/__init__.py", "functions/a/**", "!**/__pycache__/**"]
    missing = sorted(path for path in needed if not packaged(path, patterns))
    assert missing == ["functions/b/__init__.py", "functions/b/util.py"]
    assert not packaged("shared/__pycache__/x.pyc", patterns)
