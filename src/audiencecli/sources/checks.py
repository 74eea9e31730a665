"""Row checks and value parsers shared by the sources: every problem of a file counted in one
pass, the first few listed with FILE:LINE; booleans, enumerations, trimmed few-valued text."""
from __future__ import annotations

from typing import Callable

import polars as pl

from ..errors import Problem, ProblemLog
from .readers import LINE, RawTable, clean_text, needs_trimming

MAX_EXAMPLES = 20
# A missing column's closest name is looked for among this many of the others: enough for any
# real header, and a broken export's millions of columns would take seconds (and hint at nothing).
HINT_CANDIDATES = 1000
Parser = Callable[[pl.Series], pl.Series]

# Values of these columns are personal contact data: never quoted in a message.
CONTACT_COLUMNS = frozenset({
    "first_name", "last_name", "company_name", "email", "phone",
    "street_address", "postal_code", "city",
})

TRUE_WORDS = ("true", "1", "yes", "y", "kyllä", "ja")
FALSE_WORDS = ("false", "0", "no", "n", "ei", "nej")


def report_rows(table: RawTable, mask: pl.Expr, column: str, message: str, problems: ProblemLog,
                *, quote: bool = True) -> None:
    """Add one problem per row where `mask` holds (the first few listed, all counted)."""
    bad = table.frame.filter(mask)
    if bad.height == 0:
        return
    show_value = quote and column not in CONTACT_COLUMNS
    # The first few in file order (a frame may be sorted otherwise, as customers are by id).
    rows = bad.select(LINE, pl.col(column) if column in bad.columns else pl.lit(None)) \
        .bottom_k(MAX_EXAMPLES, by=LINE).sort(LINE)
    listed = [
        Problem(file=table.label, line=line, column=column, message=message,
                value=(value if show_value and value is not None else None))
        for line, value in rows.iter_rows()
    ]
    problems.extend(listed, bad.height)


class RowChecks:
    """Row checks of one file, counted together in one pass; only failing ones are listed."""

    def __init__(self, table: RawTable):
        self.table = table
        self.checks: list[tuple[pl.Expr, str, str]] = []

    def add(self, mask: pl.Expr, column: str, message: str) -> None:
        self.checks.append((mask, column, message))

    def report(self, problems: ProblemLog) -> None:
        if not self.checks or self.table.frame.height == 0:
            return
        counts = self.table.frame.select(
            mask.fill_null(False).sum().alias(str(i)) for i, (mask, _, _) in enumerate(self.checks)
        ).row(0)
        for (mask, column, message), count in zip(self.checks, counts):
            if count:
                report_rows(self.table, mask, column, message, problems)


def require_columns(table: RawTable, required: tuple[str, ...], problems: ProblemLog) -> bool:
    """Every required column must be in the header; suggest the closest name when one is not."""
    ok = True
    missing = set(required).difference(table.columns_found)
    for name in required:
        if name in missing:
            message = f"required column is missing ({found_columns(table)})"
            # A header without any known column is probably a data row: its "names" may be a
            # customer's name or email, so they are neither listed nor offered as a hint.
            hint = _closest(name, table.unknown_columns[:HINT_CANDIDATES]) \
                if len(table.unknown_columns) < len(table.columns_found) else None
            if hint:
                message += f"; did you mean {hint!r}?"
            problems.add(Problem(file=table.label, line=1, column=name, message=message))
            ok = False
    return ok


def found_columns(table: RawTable) -> str:
    """The header's known columns, and how many others: never the others' names, which in a
    file whose header line is missing are a customer's data."""
    unknown = frozenset(table.unknown_columns)
    known = [c for c in table.columns_found if c not in unknown]
    others = len(table.unknown_columns)
    text = f"found: {', '.join(known) or 'no known column'}"
    if others:
        text += f" and {others} other column(s)"
        if not known:
            text += "; is the header line missing?"
    return text


def _closest(name: str, candidates: tuple[str, ...]) -> str | None:
    import difflib

    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return match[0] if match else None




def parse_trimming_rejects(values: pl.Series, parse: Parser) -> tuple[pl.Series, pl.Series]:
    """(values, parse(values)) for a column `_tidy` left untrimmed: the values `parse` rejects are
    trimmed (empty ones made null) and parsed again. Sound for a parser that rejects any value
    with white space around it, or reads it as it reads the value trimmed: the enumerations'
    names, the date, datetime and boolean readers."""
    parsed = parse(values)
    rejected = (parsed.is_null() & values.is_not_null()).arg_true()
    if rejected.len() == 0:
        return values, parsed
    trimmed = values.gather(rejected).to_frame("v").select(clean_text("v")).to_series().alias(values.name)
    return values.scatter(rejected, trimmed), parsed.scatter(rejected, parse(trimmed))


def parsed_columns(frame: pl.DataFrame, parsers: dict[str, tuple[str, Parser]]) -> list[pl.Series]:
    """For each `column: (parsed name, parser)`, the column with what its parser rejected trimmed,
    and the parsed values under their name (parse_trimming_rejects)."""
    columns = []
    for name, (parsed_name, parse) in parsers.items():
        values, parsed = parse_trimming_rejects(frame.get_column(name), parse)
        columns += [values, parsed.alias(parsed_name)]
    return columns


def few_values_trimmed(values: pl.Series) -> pl.Series:
    """A text column of few distinct values as a Categorical, trimmed, empty values null: white
    space is looked for once per distinct value, not once per row. Not `by_distinct`, which would
    gather every row's value from the distinct ones even when none needs trimming."""
    categorical = values.cast(pl.Categorical)
    distinct = categorical.unique().cast(pl.String).to_frame("v")
    if distinct.select(needs_trimming("v").any()).item():
        return values.to_frame("v").select(clean_text("v")).to_series().cast(pl.Categorical).alias(values.name)
    return categorical


BOOL_WORDS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}


def parse_bool(values: pl.Series) -> pl.Series:
    """Boolean words in Finnish, Swedish and English, compared case-insensitively; missing is
    false; null when unrecognised. Words spelled in lower case are looked up as they are; only
    the others are lower-cased first."""
    parsed = values.replace_strict(BOOL_WORDS, default=None, return_dtype=pl.Boolean)
    others = (parsed.is_null() & values.is_not_null()).arg_true()
    if others.len():
        parsed = parsed.scatter(others, values.gather(others).str.to_lowercase()
                                .replace_strict(BOOL_WORDS, default=None, return_dtype=pl.Boolean))
    return parsed.set(values.is_null(), False).alias(values.name)


def lower(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase()


def enum_values(values: pl.Series, dtype: pl.Enum) -> pl.Series:
    """The column as `dtype`, compared case-insensitively: values spelled as the enum's
    (lower-case) names are cast as they are; only the others are lower-cased first. Null where
    no name matches (the caller reports it)."""
    cast = values.cast(dtype, strict=False)
    others = (cast.is_null() & values.is_not_null()).arg_true()
    if others.len():
        cast = cast.scatter(others, values.gather(others).str.to_lowercase().cast(dtype, strict=False))
    return cast
