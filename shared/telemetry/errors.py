"""The validation error of a telemetry body: every problem, each naming its reading and field."""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import ValidationError

__all__ = ["MAX_PROBLEMS", "InvalidReadings", "Problem"]

MAX_PROBLEMS = 100  # listed in the error; the count of the rest is still reported


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a body: `field` is a path such as `readings[3].timestamp`."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidReadings(ValidationError):
    """A body with at least one invalid reading or record; validation is all-or-nothing, so the
    whole body is refused. `problems` lists them (at most MAX_PROBLEMS); the error's `field` is
    the first one's, and its JSON body carries them all under `details.problems`."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        if not problems:
            raise ValueError("InvalidReadings needs at least one problem")
        total = len(problems) if total is None else total
        message = str(problems[0])
        if total > 1:
            message += f" (and {total - 1} more)"
        listed = [{"field": p.field, "message": p.message} for p in problems[:MAX_PROBLEMS]]
        super().__init__(message, field=problems[0].field, problems=listed)
        self.problems = problems[:MAX_PROBLEMS]
        self.total = total


class _Collector:
    """Gathers problems while a body is checked; `raise_if_any` ends the check."""

    __slots__ = ("problems", "total")

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.total = 0

    def add(self, field: str, message: str) -> None:
        self.total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(field, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidReadings(self.problems, self.total)
