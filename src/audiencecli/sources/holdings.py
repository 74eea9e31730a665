"""The product holdings (contract section 3), parsed a slice at a time."""
from __future__ import annotations

import itertools
from dataclasses import replace

import polars as pl

from ..datetimes import parse_date
from ..config import FileSpec
from ..errors import ProblemLog
from ..normalize import by_distinct
from .checks import RowChecks, parsed_columns, require_columns
from .readers import LINE, SLICE_ROWS, Loaded, RawTable, RowFilter, clean_text, read_table_slices

HOLDING_COLUMNS = ("customer_id", "product_group", "start_date", "end_date")


HOLDING_REQUIRED = ("customer_id", "product_group", "start_date")
# Trimmed by their readers (_tidy): the dates by their parser, the product group once per distinct value.
HOLDING_PARSED = ("start_date", "end_date", "product_group")


def load_holdings(spec: FileSpec, problems: ProblemLog, keep: pl.Expr | None = None,
                  only: RowFilter | None = None) -> Loaded | None:
    """The holdings, parsed and checked a slice at a time. With `keep`, only the rows where it holds
    are kept (the build keeps the campaign's active holdings: all of them would take gigabytes
    at 10M customers); `rows` counts every row read. `only`: see readers.RowFilter."""
    tables = read_table_slices(spec, HOLDING_COLUMNS, problems, SLICE_ROWS, trimmed_by_parser=HOLDING_PARSED,
                               only=only)
    first = next(tables) if tables is not None else None
    if first is None or not require_columns(first, HOLDING_REQUIRED, problems):
        return None
    parts, rows = [], 0
    for table in itertools.chain([first], tables):
        if table is None:
            return None
        part = _holding_slice(table, problems)
        rows += part.height
        parts.append(part if keep is None else part.filter(keep))
    return Loaded(first.label, pl.concat(parts), first.sha256, rows, first.unknown_columns)


def _holding_slice(table: RawTable, problems: ProblemLog) -> pl.DataFrame:
    frame = table.frame.with_columns(
        *parsed_columns(table.frame, {"start_date": ("start_parsed", parse_date),
                                      "end_date": ("end_parsed", parse_date)}),
        *by_distinct(table.frame.get_column("product_group"), product_group=clean_text("v").str.to_lowercase()),
    )
    checks = RowChecks(replace(table, frame=frame))
    for name in HOLDING_REQUIRED:
        checks.add(pl.col(name).is_null(), name, f"{name} is missing")
    checks.add(pl.col("start_date").is_not_null() & pl.col("start_parsed").is_null(), "start_date",
                "not a date (expected 2026-12-01 or 1.12.2026)")
    checks.add(pl.col("end_date").is_not_null() & pl.col("end_parsed").is_null(), "end_date",
                "not a date (expected 2026-12-01 or 1.12.2026)")
    checks.report(problems)
    return frame.select(
        "customer_id", "product_group",
        pl.col("start_parsed").alias("start_date"),
        pl.col("end_parsed").alias("end_date"),
        LINE,
    )
