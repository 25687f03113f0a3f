"""The condition language: parsing, type errors pointing at their column, evaluation semantics,
and a hypothesis fuzz that no input crashes the parser."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rules import ExpressionError, Frame, compile_condition, evaluate, parse
from shared.rules.syntax import Binary, Call, Duration, Name, Num, Unary

S = 10**9


def value_of(text: str, points: list[tuple[int, Any]], *, now: int = 0, **names: Any) -> Any:
    checked = compile_condition(text, detector=True)
    series = [(ts, v, None, None) for ts, v in points]
    frame = Frame(series, [p[0] for p in series], len(series) - 1, names, now, points[-1][0])
    return evaluate(checked.tree, frame)


def test_precedence_and_associativity() -> None:
    tree = parse("a + b * c > 2 and not d or e")
    assert isinstance(tree, Binary) and tree.op == "or"
    left = tree.left
    assert isinstance(left, Binary) and left.op == "and"
    assert isinstance(left.right, Unary) and left.right.op == "not"
    compare = left.left
    assert isinstance(compare, Binary) and compare.op == ">"
    assert isinstance(compare.left, Binary) and compare.left.op == "+"
    assert isinstance(compare.left.right, Binary) and compare.left.right.op == "*"
    minus = parse("1 - 2 - 3")
    assert isinstance(minus, Binary) and isinstance(minus.left, Binary)  # left-associative


def test_literals_durations_calls() -> None:
    tree = parse("avg(value, 5m) >= 2.5e1")
    assert isinstance(tree, Binary)
    call = tree.left
    assert isinstance(call, Call) and call.name == "avg"
    assert isinstance(call.args[0], Name)
    assert isinstance(call.args[1], Duration) and call.args[1].ns == 300 * S
    assert isinstance(tree.right, Num) and tree.right.value == 25.0
    assert parse("deadman(250ms)").args[1 - 1].ns == 250_000_000  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("value >", 8, "expected a value"),
        ("value > > 3", 9, "expected a value"),
        ("(value > 3", 11, "')' to close"),
        ("value = 3", 7, "'=='"),
        ("value > 3 &&", 11, "'and'"),
        ("value > 3 )", 11, "unexpected ')'"),
        ("avg(value, 5x) > 1", 12, "unknown unit"),
        ("'open", 1, "not closed"),
        ("1 < value < 3", 11, "do not chain"),
        ("value # 2", 7, "unexpected character"),
        ("", 1, "empty"),
        ("3.", 3, "digits after"),
    ],
)
def test_syntax_errors_name_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        compile_condition(text)
    assert raised.value.column == column, raised.value
    assert fragment in raised.value.message


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("value + 1", 1, "true or false"),
        ('value > "x"', 9, "needs a number"),
        ("abs(true) > 1", 5, "needs a number"),
        ("avg(3, 5m) > 1", 5, "series name"),
        ("avg(value) > 1", 1, "a series and a window"),
        ("avg(value, 5) > 1", 12, "duration"),
        ("value > 5m", 9, "only allowed as the window"),
        ("speed > 3", 1, "unknown name 'speed'"),
        ("median(value, 5m) > 1", 1, "unknown function"),
        ("value > 3 and 4", 15, "'and' needs a bool"),
        ("device == 3", 8, "compares a string with a number"),
        ("score > 3", 1, "unknown name 'score'"),
        ("count(score, 5m) > 1", 7, "only in rules on a detector"),
        ("deadman(0s)", 9, "longer than 0"),
        ("not 3", 5, "needs a bool"),
    ],
)
def test_type_errors_name_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        compile_condition(text)
    assert raised.value.column == column, raised.value
    assert fragment in raised.value.message


def test_what_a_checked_condition_needs() -> None:
    checked = compile_condition("avg(value, 5m) > 3 and max(value, 1h) < 9 or deadman(10m)")
    assert checked.horizon_ns == 3600 * S
    assert checked.deadman_ns == 600 * S
    assert checked.uses_windows
    plain = compile_condition('value == "open"')
    assert plain.horizon_ns == 0 and plain.deadman_ns is None and not plain.uses_windows


def test_arithmetic_comparisons_strings_booleans() -> None:
    assert value_of("abs(value - 20) * 2 > 9", [(1, 15.0)]) is True
    assert value_of("value % 4 == 1", [(1, 9)]) is True
    assert value_of('value == "open" and sensor != "x"', [(1, "open")], sensor="s1") is True
    assert value_of("value == true", [(1, True)]) is True
    assert value_of("not value", [(1, False)]) is True


def test_unknowns_never_hold() -> None:
    assert value_of("value > 3", [(1, "text")]) is None
    assert value_of('value == "x"', [(1, 3.0)]) is None
    assert value_of("value / 0 > 1", [(1, 3.0)]) is None
    assert value_of("not (value > 3)", [(1, "text")]) is None
    assert value_of("value > 3 or true", [(1, "text")]) is True
    assert value_of("value > 3 and false", [(1, "text")]) is False


def test_window_functions_look_back_in_event_time() -> None:
    points = [(0, 1.0), (60 * S, 2.0), (120 * S, 4.0), (180 * S, 8.0)]
    assert value_of("avg(value, 2m) == 6", points) is True  # (60s, 180s]: 4 and 8
    assert value_of("min(value, 3m) == 2", points) is True
    assert value_of("max(value, 1h) == 8", points) is True
    assert value_of("sum(value, 1h) == 15", points) is True
    assert value_of("count(value, 61s) == 2", points) is True
    assert value_of("delta(value, 3m) == 6", points) is True  # 8 - 2
    assert value_of("rate(value, 3m) == 0.05", points) is True  # 6 over 120 s
    assert value_of("rate(value, 1s) > 0", points) is None  # one point: unknown


def test_deadman_compares_processing_time() -> None:
    assert value_of("deadman(10s)", [(1, 1.0)], now=11 * S) is True
    assert value_of("deadman(10s)", [(1, 1.0)], now=10 * S) is False


_ALPHABET = st.sampled_from(
    [
        *"()<>=!+-*/%,.'\"\\ _",
        *["and", "or", "not", "value", "avg", "5m", "3", "1e3", "true", "deadman", "abs"],
        *["count", "score", " ", "x", "é", "\n", "10s", "0.5"],
    ]
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_ALPHABET, max_size=25).map("".join)))
def test_fuzzed_text_never_crashes_the_parser(text: str) -> None:
    try:
        checked = compile_condition(text, detector=True)
    except ExpressionError as error:
        assert 1 <= error.column <= len(text) + 1, (text, error.column)
        return
    frame = Frame([(1, 2.0, 0.5, False)], [1], 0, {}, 5, 1)
    evaluate(checked.tree, frame)  # whatever checks also evaluates without raising


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(ExpressionError):
        parse("(" * 500 + "1" + ")" * 500)
    with pytest.raises(ExpressionError):
        parse("-" * 500 + "1")
