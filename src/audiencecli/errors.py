"""One exception hierarchy; each class carries the exit code the contract gives it.

Messages never quote personal data (names, emails, phones, addresses): callers pass only
file names, line numbers, column names and values of non-contact columns.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MAX_LISTED_PROBLEMS = 20
MAX_VALUE_CHARS = 80
MAX_LINE_CHARS = 1000
# Free text (a consent's source, a list or cap name) is shown in detail, messages and explain
# cut to this many characters, the last of them `…` (contract section 8).
MAX_SHOWN_CHARS = 200


# How a database query is named in messages: `customers (query):ROW 12: ...`.
QUERY_LABEL = " (query)"


def shown(text: str) -> str:
    """Free text as a message, a detail or explain shows it: over 200 characters, its first 199
    and `…`, so one long value cannot flood a report or a log."""
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One located problem: `FILE:LINE: column X: message (value)`."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        row = "ROW " if self.file.endswith(QUERY_LABEL) else ""  # a query's rows have no lines
        where = self.file if self.line is None else f"{self.file}:{row}{self.line}"
        text = f"{where}: "
        if self.column:
            text += f"column {self.column}: "
        text += self.message
        if self.value is not None:
            value = self.value
            if len(value) > MAX_VALUE_CHARS:
                value = f"{value[:MAX_VALUE_CHARS]}… ({len(value)} characters)"
            text += f" ({value})"
        if len(text) > MAX_LINE_CHARS:
            text = text[:MAX_LINE_CHARS] + "…"
        return _one_line(text)


def _one_line(text: str) -> str:
    """Control characters and line separators escaped: one problem is always one line of a log."""
    return "".join(ch.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)


class AudienceError(Exception):
    """Base of every error the CLI turns into a message and an exit code."""

    exit_code = 1

    def __init__(self, problems: list[Problem] | str, total: int | None = None):
        if isinstance(problems, str):
            problems = [Problem(file="audience", message=problems)]
        self.problems = list(problems)
        self.total = max(total or 0, len(self.problems))
        super().__init__(self.render())

    def render(self) -> str:
        """Up to 20 problems, one per line, and the total when more were found."""
        lines = [str(p) for p in self.problems[:MAX_LISTED_PROBLEMS]]
        if self.total > len(lines):
            lines.append(
                f"... and {self.total - len(lines)} more ({self.total} problems in total)"
            )
        return "\n".join(lines)


class UsageError(AudienceError):
    """Wrong command-line use."""

    exit_code = 2


class ConfigError(AudienceError):
    """The campaign config is invalid."""

    exit_code = 2


class InputError(AudienceError):
    """An input file is missing, unreadable or holds data that cannot be parsed."""

    exit_code = 3


class StaleListError(AudienceError):
    """A suppression list that applies is missing, unreadable or too old: fail closed."""

    exit_code = 4


class OutputError(AudienceError):
    """The output cannot be written: the disk is full, permission is denied, or another build holds
    the run directory's lock. Nothing was written; the previous output is untouched, so a later try
    (cron's next run) may succeed."""

    exit_code = 5


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP stopped the command (see `interrupts`). A BaseException, like
    KeyboardInterrupt, so that no `except Exception` keeps the command going; exit code 128 + the
    signal's number, as a shell reports a process the signal ended."""

    def __init__(self, signum: int):
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by signal {signum}")


class ProblemLog:
    """Collects located problems from many checks; keeps the first 20 and counts them all."""

    def __init__(self) -> None:
        self.listed: list[Problem] = []
        self.total = 0

    def add(self, problem: Problem, count: int = 1) -> None:
        self.total += count
        if len(self.listed) < MAX_LISTED_PROBLEMS:
            self.listed.append(problem)

    def extend(self, problems: list[Problem], total: int) -> None:
        """Some of `total` problems found by one vectorized check (the first few, in file order)."""
        room = MAX_LISTED_PROBLEMS - len(self.listed)
        self.listed.extend(problems[: max(room, 0)])
        self.total += total

    def __bool__(self) -> bool:
        return self.total > 0

    def raise_as(self, error: type[AudienceError]) -> None:
        if self.total:
            raise error(self.listed, total=self.total)
