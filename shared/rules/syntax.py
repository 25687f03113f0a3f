"""The rule condition language's tokens and syntax tree, read by a hand-written Pratt parser.

Grammar (precedence climbing, lowest first; every node remembers its 1-based column)::

    expr     := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | compare
    compare  := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?      -- not chained
    sum      := product (("+" | "-") product)*
    product  := unary (("*" | "/" | "%") unary)*
    unary    := "-" unary | primary
    primary  := NUMBER | DURATION | STRING | "true" | "false" | NAME | NAME "(" args? ")"
              | "(" expr ")"
    args     := expr ("," expr)*
    NUMBER   := digits ("." digits)? (("e" | "E") ("+" | "-")? digits)?
    DURATION := digits ("ms" | "s" | "m" | "h" | "d")            -- e.g. 250ms, 10s, 5m
    STRING   := '"' ... '"' | "'" ... "'"   (backslash escapes \\ \" \' \n \t)
    NAME     := letter (letter | digit | "_")*

No Python `eval` anywhere: text becomes tokens, tokens become these nodes, and
`shared.rules.check` / `shared.rules.evaluate` walk the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MAX_LENGTH",
    "Binary",
    "Bool",
    "Call",
    "Duration",
    "ExpressionError",
    "Name",
    "Node",
    "Num",
    "Str",
    "Unary",
    "parse",
]

MAX_LENGTH = 2000  # characters of a condition
MAX_DEPTH = 64  # nesting of parentheses and operators
_UNITS = {"ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
_KEYWORDS = {"and", "or", "not", "true", "false"}
_TWO = {"==", "!=", "<=", ">="}
_ONE = set("<>+-*/%(),")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}


class ExpressionError(ValueError):
    """A syntax or type error at `column` (1-based) of the condition text."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.message = message
        self.column = column


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    col: int


@dataclass(frozen=True, slots=True)
class Duration:
    ns: int
    text: str
    col: int


@dataclass(frozen=True, slots=True)
class Str:
    value: str
    col: int


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    col: int


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    col: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Node
    col: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node
    col: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    col: int


Node = Num | Duration | Str | Bool | Name | Unary | Binary | Call


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "dur", "str", "name", "op", "kw", "end"
    text: str
    col: int
    value: object = None


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = i + 1
        if ch in " \t\r\n":
            i += 1
        elif ch.isascii() and ch.isdigit():
            i = _number(text, i, out)
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            j = i + 1
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            out.append(_Token("kw" if word in _KEYWORDS else "name", word, col))
            i = j
        elif ch in "\"'":
            i = _string(text, i, out)
        elif text[i : i + 2] in _TWO:
            out.append(_Token("op", text[i : i + 2], col))
            i += 2
        elif ch in _ONE:
            out.append(_Token("op", ch, col))
            i += 1
        elif ch == "=":
            raise ExpressionError("'=' is not an operator; compare with '=='", col)
        elif ch == "!":
            raise ExpressionError("'!' is not an operator; use 'not' or '!='", col)
        elif ch in "&|":
            raise ExpressionError(f"{ch!r} is not an operator; use 'and' / 'or'", col)
        else:
            raise ExpressionError(f"unexpected character {ch!r}", col)
    out.append(_Token("end", "", n + 1))
    return out


def _number(text: str, i: int, out: list[_Token]) -> int:
    n, start = len(text), i
    while i < n and text[i].isascii() and text[i].isdigit():
        i += 1
    unit_end = i
    while unit_end < n and text[unit_end].isascii() and text[unit_end].isalpha():
        unit_end += 1
    unit = text[i:unit_end]
    if unit and unit in _UNITS:
        digits = int(text[start:i])
        out.append(_Token("dur", text[start:unit_end], start + 1, digits * _UNITS[unit]))
        return unit_end
    if i < n and text[i] == ".":
        i += 1
        if not (i < n and text[i].isascii() and text[i].isdigit()):
            raise ExpressionError("a number needs digits after '.'", i + 1)
        while i < n and text[i].isascii() and text[i].isdigit():
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if not (j < n and text[j].isascii() and text[j].isdigit()):
            raise ExpressionError("a number's exponent needs digits", j + 1)
        while j < n and text[j].isascii() and text[j].isdigit():
            j += 1
        i = j
    if i < n and text[i].isascii() and (text[i].isalpha() or text[i] == "_"):
        end = i
        while end < n and text[end].isascii() and (text[end].isalnum() or text[end] == "_"):
            end += 1
        raise ExpressionError(
            f"unknown unit in {text[start:end]!r}: durations end in ms, s, m, h or d",
            start + 1,
        )
    literal = text[start:i]
    value = float(literal)
    if value != value or value in (float("inf"), float("-inf")):
        raise ExpressionError("number out of range", start + 1)
    out.append(_Token("num", literal, start + 1, value))
    return i


def _string(text: str, i: int, out: list[_Token]) -> int:
    quote, start, n = text[i], i, len(text)
    i += 1
    chars: list[str] = []
    while i < n and text[i] != quote:
        if text[i] == "\\":
            if i + 1 >= n or text[i + 1] not in _ESCAPES:
                raise ExpressionError("unknown escape in string; use \\\\ \\\" \\' \\n \\t", i + 1)
            chars.append(_ESCAPES[text[i + 1]])
            i += 2
        else:
            chars.append(text[i])
            i += 1
    if i >= n:
        raise ExpressionError("string is not closed", start + 1)
    out.append(_Token("str", text[start : i + 1], start + 1, "".join(chars)))
    return i + 1


_BINARY = {  # operator -> (left binding power, right binding power)
    "or": (1, 2),
    "and": (3, 4),
    "==": (7, 8),
    "!=": (7, 8),
    "<": (7, 8),
    "<=": (7, 8),
    ">": (7, 8),
    ">=": (7, 8),
    "+": (9, 10),
    "-": (9, 10),
    "*": (11, 12),
    "/": (11, 12),
    "%": (11, 12),
}
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}
_NOT_POWER = 5  # binds looser than comparisons: `not a > b` is `not (a > b)`
_NEG_POWER = 13


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.depth = 0
        self.grouped: set[int] = set()  # ids of nodes written in parentheses

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, text: str, what: str) -> _Token:
        token = self.peek()
        if token.text != text or token.kind not in {"op", "kw"}:
            raise ExpressionError(f"expected {what}, found {_describe(token)}", token.col)
        return self.take()

    def expression(self, min_power: int = 0) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("expression is nested too deeply", self.peek().col)
        left = self.prefix()
        while True:
            token = self.peek()
            if token.kind not in {"op", "kw"} or token.text not in _BINARY:
                break
            left_power, right_power = _BINARY[token.text]
            if left_power < min_power:
                break
            self.take()
            right = self.expression(right_power)
            if (
                token.text in _COMPARE
                and isinstance(left, Binary)
                and left.op in _COMPARE
                and id(left) not in self.grouped
            ):
                raise ExpressionError("comparisons do not chain; join them with 'and'", token.col)
            left = Binary(token.text, left, right, token.col)
        self.depth -= 1
        return left

    def prefix(self) -> Node:
        token = self.take()
        if token.kind == "num":
            return Num(float(token.value), token.col)  # type: ignore[arg-type]
        if token.kind == "dur":
            return Duration(int(token.value), token.text, token.col)  # type: ignore[call-overload]
        if token.kind == "str":
            return Str(str(token.value), token.col)
        if token.kind == "kw" and token.text in {"true", "false"}:
            return Bool(token.text == "true", token.col)
        if token.kind == "kw" and token.text == "not":
            return Unary("not", self.expression(_NOT_POWER), token.col)
        if token.kind == "op" and token.text == "-":
            return Unary("-", self.expression(_NEG_POWER), token.col)
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")", "')' to close the '(' at column " + str(token.col))
            self.grouped.add(id(inner))
            return inner
        if token.kind == "name":
            if self.peek().kind == "op" and self.peek().text == "(":
                return self.call(token)
            return Name(token.text, token.col)
        raise ExpressionError(f"expected a value, found {_describe(token)}", token.col)

    def call(self, name: _Token) -> Call:
        self.take()  # "("
        args: list[Node] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            args.append(self.expression())
            while self.peek().kind == "op" and self.peek().text == ",":
                self.take()
                args.append(self.expression())
        self.expect(")", f"',' or ')' in the call of {name.text}")
        return Call(name.text, tuple(args), name.col)


def _describe(token: _Token) -> str:
    return "the end of the condition" if token.kind == "end" else repr(token.text)


def parse(text: str) -> Node:
    """The syntax tree of a condition; ExpressionError (with the column) when it is malformed."""
    if not isinstance(text, str):
        raise ExpressionError("a condition is text", 1)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"a condition is at most {MAX_LENGTH} characters", MAX_LENGTH + 1)
    if not text.strip():
        raise ExpressionError("the condition is empty", 1)
    parser = _Parser(text)
    node = parser.expression()
    end = parser.peek()
    if end.kind != "end":
        raise ExpressionError(f"unexpected {_describe(end)} after a complete condition", end.col)
    return node
