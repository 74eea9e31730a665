"""Suppression lists (contract sections 3 and 5): key columns as given, normalized when matched."""
from __future__ import annotations

import polars as pl

from ..config import FileSpec
from ..errors import Problem, ProblemLog
from .checks import RowChecks, found_columns, lower
from .readers import Loaded, RawTable, RowFilter, read_table

LIST_KEY_COLUMNS = ("customer_id", "email", "phone", "first_name", "last_name", "street_address", "postal_code")
NAME_ADDRESS_COLUMNS = ("first_name", "last_name", "street_address", "postal_code")
LIST_COLUMNS = (*LIST_KEY_COLUMNS, "channel")


def load_list(spec: FileSpec, list_channels: tuple[str, ...], problems: ProblemLog,
              only: RowFilter | None = None) -> Loaded | None:
    """A suppression list (the rows `only` keeps): key columns as given (normalized later), `channel` checked."""
    table = read_table(spec, LIST_COLUMNS, problems, only=only)
    if table is None:
        return None
    found = frozenset(LIST_COLUMNS).intersection(table.columns_found)
    has_name_address = all(c in found for c in NAME_ADDRESS_COLUMNS)
    if not any(c in found for c in ("customer_id", "email", "phone")) and not has_name_address:
        problems.add(Problem(
            file=table.label, line=1,
            message="no key column: a list needs customer_id, email, phone, or all of "
                    "first_name, last_name, street_address, postal_code"
                    f" ({found_columns(table)})",
        ))
        return None
    frame = table.frame.with_columns(channel=lower("channel"))
    checks = RowChecks(RawTable(table.label, frame, table.sha256, table.columns_found, table.unknown_columns))
    checks.add(pl.col("channel").is_not_null() & ~pl.col("channel").is_in(list_channels), "channel",
                f"not one of this list's channels ({', '.join(list_channels)})")
    checks.report(problems)
    if not has_name_address:
        frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in NAME_ADDRESS_COLUMNS)
    return Loaded(table.label, frame, table.sha256, frame.height, table.unknown_columns)
