"""Type checking of a parsed condition: every operator, function and name is checked before a rule
is saved, so a rule that is stored can always be evaluated (a type error is a 400 with a column).

Types: `number`, `string`, `bool`, `duration` (only as a window argument) and `any` (the reading's
`value`, whose type is the sensor's: a boolean sensor's `value == true`, a string sensor's
`value == "open"`, a numeric sensor's `value > 3` all check; at run time a value of another type
makes that comparison unknown, which never fires).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.rules.syntax import (
    Binary,
    Bool,
    Call,
    Duration,
    ExpressionError,
    Name,
    Node,
    Num,
    Str,
    Unary,
    parse,
)

__all__ = [
    "DETECTOR_NAMES",
    "SENSOR_NAMES",
    "WINDOW_FUNCTIONS",
    "Checked",
    "check",
    "compile_condition",
]

NUMBER, STRING, BOOL, ANY, DURATION = "number", "string", "bool", "any", "duration"

SENSOR_NAMES: Mapping[str, str] = {
    "value": ANY,
    "device": STRING,
    "sensor": STRING,
    "name": STRING,
    "path": STRING,
    "unit": STRING,
}
DETECTOR_NAMES: Mapping[str, str] = {
    **SENSOR_NAMES,
    "score": NUMBER,
    "anomaly": BOOL,
    "threshold": NUMBER,
    "detector": STRING,
}
SERIES = {"value", "score", "anomaly"}  # what a window function may aggregate
WINDOW_FUNCTIONS = {"avg", "min", "max", "sum", "count", "rate", "delta"}
MAX_WINDOW_NS = 7 * 86400 * 10**9


@dataclass(frozen=True, slots=True)
class Checked:
    """A condition that parsed and type-checked, with what the window engine must keep."""

    text: str
    tree: Node
    horizon_ns: int  # the longest window it looks back over
    deadman_ns: int | None  # the shortest deadman(...) silence, None without one
    uses_windows: bool


class _Checker:
    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names
        self.horizon = 0
        self.deadman: int | None = None
        self.windows = False

    def type_of(self, node: Node) -> str:
        if isinstance(node, Num):
            return NUMBER
        if isinstance(node, Str):
            return STRING
        if isinstance(node, Bool):
            return BOOL
        if isinstance(node, Duration):
            raise ExpressionError(
                f"a duration ({node.text}) is only allowed as the window of a function such as "
                "avg(value, 5m) or deadman(10m)",
                node.col,
            )
        if isinstance(node, Name):
            if node.name not in self.names:
                known = ", ".join(sorted(self.names))
                raise ExpressionError(f"unknown name {node.name!r} (known: {known})", node.col)
            return self.names[node.name]
        if isinstance(node, Unary):
            inner = self.type_of(node.operand)
            wanted = BOOL if node.op == "not" else NUMBER
            self.expect(inner, wanted, f"'{node.op}'", node.operand)
            return wanted
        if isinstance(node, Binary):
            return self.binary(node)
        return self.call(node)

    def expect(self, actual: str, wanted: str, what: str, node: Node) -> None:
        if actual not in (wanted, ANY):
            raise ExpressionError(f"{what} needs a {wanted}, this is a {actual}", _col(node))

    def binary(self, node: Binary) -> str:
        left, right = self.type_of(node.left), self.type_of(node.right)
        if node.op in {"and", "or"}:
            self.expect(left, BOOL, f"'{node.op}'", node.left)
            self.expect(right, BOOL, f"'{node.op}'", node.right)
            return BOOL
        if node.op in {"==", "!="}:
            if ANY not in (left, right) and left != right:
                raise ExpressionError(
                    f"'{node.op}' compares a {left} with a {right}; both sides must be of one type",
                    node.col,
                )
            return BOOL
        self.expect(left, NUMBER, f"'{node.op}'", node.left)
        self.expect(right, NUMBER, f"'{node.op}'", node.right)
        return BOOL if node.op in {"<", "<=", ">", ">="} else NUMBER

    def call(self, node: Call) -> str:
        name, args = node.name, node.args
        if name == "abs":
            if len(args) != 1:
                raise ExpressionError("abs takes one argument: abs(value - 20)", node.col)
            self.expect(self.type_of(args[0]), NUMBER, "abs", args[0])
            return NUMBER
        if name == "deadman":
            if len(args) != 1 or not isinstance(args[0], Duration):
                raise ExpressionError("deadman takes one duration: deadman(10m)", node.col)
            ns = self.window(args[0])
            self.deadman = ns if self.deadman is None else min(self.deadman, ns)
            return BOOL
        if name in WINDOW_FUNCTIONS:
            usage = f"{name}(value, 5m)"
            if len(args) != 2:
                raise ExpressionError(f"{name} takes a series and a window: {usage}", node.col)
            series, window = args
            if not isinstance(series, Name) or series.name not in SERIES:
                raise ExpressionError(
                    f"the first argument of {name} is a series name (value, score or "
                    f"anomaly): {usage}",
                    _col(series),
                )
            if series.name not in self.names:
                raise ExpressionError(
                    f"{series.name!r} exists only in rules on a detector", series.col
                )
            if name != "count" and self.names[series.name] == BOOL:
                raise ExpressionError(f"{name} needs a numeric series; count it", series.col)
            if not isinstance(window, Duration):
                raise ExpressionError(f"the window of {name} is a duration like 5m", _col(window))
            self.horizon = max(self.horizon, self.window(window))
            self.windows = True
            return NUMBER
        known = ", ".join(["abs", "deadman", *sorted(WINDOW_FUNCTIONS)])
        raise ExpressionError(f"unknown function {name!r} (known: {known})", node.col)

    @staticmethod
    def window(node: Duration) -> int:
        if node.ns <= 0 or node.ns > MAX_WINDOW_NS:
            raise ExpressionError("a window is longer than 0 and at most 7d", node.col)
        return node.ns


def _col(node: Node) -> int:
    """Where a subexpression starts (a binary operation starts with its left side)."""
    while isinstance(node, Binary):
        node = node.left
    return node.col


def check(text: str, tree: Node, names: Mapping[str, str] = SENSOR_NAMES) -> Checked:
    """Type-check a parsed condition; it must be true or false (or the reading's `value`)."""
    checker = _Checker(names)
    kind = checker.type_of(tree)
    if kind not in (BOOL, ANY):
        raise ExpressionError(
            f"a condition must be true or false; this is a {kind} (compare it: ... > 10)",
            _col(tree),
        )
    return Checked(text, tree, checker.horizon, checker.deadman, checker.windows)


def compile_condition(text: str, *, detector: bool = False) -> Checked:
    """Parse and check `text` for a rule on sensors (or, with `detector`, on anomaly events)."""
    tree = parse(text)
    return check(text, tree, DETECTOR_NAMES if detector else SENSOR_NAMES)
