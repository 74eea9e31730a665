"""The consent event log (contract section 3): many rows per customer, parsed a slice at a time."""
from __future__ import annotations

import itertools
from dataclasses import replace
from functools import partial
from typing import Callable, Iterable

import polars as pl

from ..config import CHANNELS, FileSpec
from ..datetimes import parse_datetime
from ..errors import ProblemLog
from .checks import RowChecks, enum_values, few_values_trimmed, parsed_columns, require_columns
from .readers import LINE, SLICE_ROWS, Loaded, RawTable, RowFilter, read_table_slices

CONSENT_CHANNEL_TYPE = pl.Enum((*CHANNELS, "all"))
CONSENT_PURPOSE_TYPE = pl.Enum(("marketing", "service", "survey", "all"))
CONSENT_STATUS_TYPE = pl.Enum(("granted", "denied"))
CONSENT_COLUMNS = ("customer_id", "channel", "purpose", "status", "recorded_at", "source")


CONSENT_REQUIRED = ("customer_id", "channel", "purpose", "status", "recorded_at")
# Trimmed by their readers (_tidy): the enumerations and recorded_at where they reject a value,
# the source once per distinct value.
CONSENT_PARSED = ("channel", "purpose", "status", "recorded_at", "source")


SliceMap = Callable[[Iterable, Callable], list]


def in_order(items: Iterable, work: Callable) -> list:
    """Each item's work, one after the other."""
    return [work(item) for item in items]


def load_consents(spec: FileSpec, problems: ProblemLog, map_slices: SliceMap = in_order,
                  only: RowFilter | None = None) -> Loaded | None:
    """The consent log (the rows `only` keeps), parsed and checked a slice at a time.
    `map_slices(slices, work)` gives each slice's result in order: the caller decides where the
    slices are parsed (schedule.shared_map)."""
    reading = ProblemLog()  # the file's own problems: one that ends the slices is told after theirs
    tables = read_table_slices(spec, CONSENT_COLUMNS, reading, SLICE_ROWS, trimmed_by_parser=CONSENT_PARSED,
                               only=only)
    first = next(tables) if tables is not None else None
    if first is None or not require_columns(first, CONSENT_REQUIRED, reading):
        problems.extend(reading.listed, reading.total)
        return None
    parts = map_slices(itertools.chain([first], tables), _checked_consent_slice)
    for _part, found in parts:
        problems.extend(found.listed, found.total)
    problems.extend(reading.listed, reading.total)
    if any(part is None for part, _found in parts):
        return None
    frame = pl.concat([part for part, _found in parts])
    return Loaded(first.label, frame, first.sha256, frame.height, first.unknown_columns)


def _checked_consent_slice(table: RawTable | None) -> tuple[pl.DataFrame | None, ProblemLog]:
    found = ProblemLog()
    return (None if table is None else _consent_slice(table, found)), found


def _consent_slice(table: RawTable, problems: ProblemLog) -> pl.DataFrame:
    part = table.frame
    part = part.with_columns(parsed_columns(part, {
        "channel": ("channel_value", partial(enum_values, dtype=CONSENT_CHANNEL_TYPE)),
        "purpose": ("purpose_value", partial(enum_values, dtype=CONSENT_PURPOSE_TYPE)),
        "status": ("status_value", partial(enum_values, dtype=CONSENT_STATUS_TYPE)),
        "recorded_at": ("recorded_at_parsed", parse_datetime),
    }))
    checks = RowChecks(replace(table, frame=part))
    for name in CONSENT_REQUIRED:
        checks.add(pl.col(name).is_null(), name, f"{name} is missing")
    for name, dtype in (("channel", CONSENT_CHANNEL_TYPE), ("purpose", CONSENT_PURPOSE_TYPE),
                        ("status", CONSENT_STATUS_TYPE)):
        checks.add(pl.col(name).is_not_null() & pl.col(f"{name}_value").is_null(), name,
                   f"expected one of {', '.join(dtype.categories)}")
    checks.add(pl.col("recorded_at").is_not_null() & pl.col("recorded_at_parsed").is_null(),
                "recorded_at", "not a datetime (expected 2026-12-01T14:05:00 or 1.12.2026 14.05)")
    checks.report(problems)
    # Validated values are small enumerations from here on: a few bytes per event, not a string each.
    return part.select(
        "customer_id",
        pl.col("channel_value").alias("channel"),
        pl.col("purpose_value").alias("purpose"),
        (pl.col("status_value") == "denied").alias("denied"),
        pl.col("recorded_at_parsed").alias("recorded_at"),
        few_values_trimmed(part.get_column("source")),
        pl.col(LINE).cast(pl.UInt32),
    )
