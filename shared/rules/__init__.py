"""Rules: the condition language (parser, checker, evaluator) and the window engine every rule
function shares (the rules API validates with it, the evaluator and deadman functions run it)."""

from shared.rules.check import Checked, compile_condition
from shared.rules.evaluate import Frame, Point, evaluate, holds
from shared.rules.syntax import ExpressionError, parse
from shared.rules.window import SeriesState, Status, evaluate_status, merge_points

__all__ = [
    "Checked",
    "ExpressionError",
    "Frame",
    "Point",
    "SeriesState",
    "Status",
    "compile_condition",
    "evaluate",
    "evaluate_status",
    "holds",
    "merge_points",
    "parse",
]
