"""Evaluating a checked condition at one reading of a series, in event time.

A series is a list of points `(ts, value, score, anomaly)` sorted by `ts` (score and anomaly are
None for sensor readings). Window functions look back from the evaluated point's time `t` over
`(t - window, t]`. Values follow three-valued logic: an operation on a value of the wrong type,
a division by zero or a rate over fewer than two points is *unknown* (None); `and` / `or` / `not`
propagate it as SQL does, and a condition that is unknown does not hold.
`deadman(d)` compares processing time: it holds when nothing arrived for longer than `d` before
`now_ns` (the clock tick, or the arrival of the message being evaluated).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.rules.syntax import Binary, Bool, Call, Duration, Name, Node, Num, Str, Unary

__all__ = ["Frame", "Point", "evaluate", "holds"]

Point = tuple[int, Any, float | None, bool | None]
_SERIES_INDEX = {"value": 1, "score": 2, "anomaly": 3}


@dataclass(frozen=True, slots=True)
class Frame:
    """What a condition sees: the series, the point it is evaluated at, names and the clock."""

    points: Sequence[Point]
    times: Sequence[int]  # the points' ts, for bisecting windows
    index: int
    names: Mapping[str, Any]
    now_ns: int
    last_received_ns: int


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _truth(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def evaluate(node: Node, frame: Frame) -> Any:
    """The value of `node` at the frame's point (None when unknown)."""
    if isinstance(node, (Num, Str, Bool)):
        return node.value
    if isinstance(node, Name):
        if node.name in _SERIES_INDEX:
            return frame.points[frame.index][_SERIES_INDEX[node.name]]
        return frame.names.get(node.name)
    if isinstance(node, Unary):
        inner = evaluate(node.operand, frame)
        if node.op == "not":
            truth = _truth(inner)
            return None if truth is None else not truth
        return -inner if _number(inner) else None
    if isinstance(node, Binary):
        return _binary(node, frame)
    if isinstance(node, Call):
        return _call(node, frame)
    raise TypeError(f"cannot evaluate {type(node).__name__}")  # Duration: checked away


def _binary(node: Binary, frame: Frame) -> Any:
    op = node.op
    if op in {"and", "or"}:
        left = _truth(evaluate(node.left, frame))
        if op == "and" and left is False:
            return False
        if op == "or" and left is True:
            return True
        right = _truth(evaluate(node.right, frame))
        if op == "and":
            return False if right is False else (None if None in (left, right) else True)
        return True if right is True else (None if None in (left, right) else False)
    left, right = evaluate(node.left, frame), evaluate(node.right, frame)
    if op in {"==", "!="}:
        if left is None or right is None:
            return None
        same_kind = (_number(left) and _number(right)) or type(left) is type(right)
        if not same_kind:
            return None
        return (left == right) if op == "==" else (left != right)
    if not (_number(left) and _number(right)):
        return None
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    if op == "+":
        return _finite(left + right)
    if op == "-":
        return _finite(left - right)
    if op == "*":
        return _finite(left * right)
    if right == 0:
        return None
    return _finite(left / right if op == "/" else math.fmod(left, right))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _call(node: Call, frame: Frame) -> Any:
    if node.name == "abs":
        inner = evaluate(node.args[0], frame)
        return abs(inner) if _number(inner) else None
    if node.name == "deadman":
        window = node.args[0]
        assert isinstance(window, Duration)
        return frame.now_ns - frame.last_received_ns > window.ns
    series, window = node.args
    assert isinstance(series, Name) and isinstance(window, Duration)
    column = _SERIES_INDEX[series.name]
    t = frame.points[frame.index][0]
    start = bisect.bisect_right(frame.times, t - window.ns, 0, frame.index + 1)
    span = frame.points[start : frame.index + 1]
    if node.name == "count":
        return sum(1 for p in span if p[column] is not None and p[column] is not False)
    numeric: list[tuple[int, float]] = [(p[0], p[column]) for p in span if _number(p[column])]  # type: ignore[misc]
    if not numeric:
        return None
    values = [v for _, v in numeric]
    if node.name == "avg":
        return math.fsum(values) / len(values)
    if node.name == "sum":
        return _finite(math.fsum(values))
    if node.name == "min":
        return min(values)
    if node.name == "max":
        return max(values)
    if len(numeric) < 2:
        return None
    delta = numeric[-1][1] - numeric[0][1]
    if node.name == "delta":
        return _finite(delta)
    seconds = (numeric[-1][0] - numeric[0][0]) / 1e9  # rate: per second
    return _finite(delta / seconds) if seconds > 0 else None


def holds(node: Node, frame: Frame) -> bool:
    """Whether the condition is true at the frame's point (unknown does not hold)."""
    return evaluate(node, frame) is True
