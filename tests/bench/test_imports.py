"""The bench package's import graph: no cycles (lazy imports inside functions count too) and no
module importing another's private names; every subcommand and scenario module is reachable."""

import ast
from pathlib import Path

from bench import registry
from bench.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in BENCH.rglob("*.py")}


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every bench import in the file, outside `if TYPE_CHECKING:`."""
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names if a.name.startswith("bench"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bench"):
            module = str(node.module)
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.append((sub, []) if sub in MODULES else (module, [alias.name]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


GRAPH = {
    name: {m for m, _ in _imports(path) if m in MODULES and m != name}
    for name, path in MODULES.items()
}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_bench_has_no_import_cycle():
    assert _cycle() is None


def test_no_module_imports_another_modules_private_names():
    private = [
        f"{name} imports {module}.{n}"
        for name, path in MODULES.items()
        for module, names in _imports(path)
        for n in names
        if n.startswith("_") and module != name
    ]
    assert private == []


def test_every_subcommand_module_is_listed_and_every_scenario_module_registers():
    listed = {c.name for c in COMMANDS}
    on_disk = {p.stem for p in (BENCH / "commands").glob("*.py")} - {"__init__", "base"}
    assert listed == on_disk
    modules = {cls.__module__ for cls in registry.scenarios().values()}
    assert modules == set(registry.MODULES)
