"""The contact history (contract section 3): what was already sent, the biggest input of all.

Only the rows inside the widest contact-pressure window matter: a Parquet file whose `sent_at`
is a timestamp column is read with that filter inside the scan, and only the known columns, so
the years of history before the window never reach memory. Every other file is read whole and
its `sent_at` parsed to tell which rows are inside. Rows outside the window are not checked
further (their other values are never looked at); an unparseable `sent_at` is an error wherever
it is, since its row cannot be placed.
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, replace
from functools import partial

import polars as pl

from ..config import CHANNELS, HELSINKI, PURPOSES, FileSpec, PressureCap
from ..datetimes import helsinki_to_utc, parse_datetime
from ..errors import ProblemLog
from .checks import RowChecks, enum_values, few_values_trimmed, parsed_columns, require_columns
from .readers import SLICE_ROWS, Loaded, ParquetRows, RawTable, read_table_slices

HISTORY_COLUMNS = ("customer_id", "channel", "purpose", "sent_at", "campaign")
HISTORY_REQUIRED = ("customer_id", "channel", "purpose", "sent_at")
# Trimmed by their readers (_tidy): the enumerations and sent_at where they reject a value, the
# campaign once per distinct value.
HISTORY_PARSED = ("channel", "purpose", "sent_at", "campaign")
HISTORY_CHANNEL_TYPE = pl.Enum(CHANNELS)
HISTORY_PURPOSE_TYPE = pl.Enum(PURPOSES)
UTC = pl.Datetime("us", "UTC")
# A Parquet scan keeps a day more than the window on either side: the exact bounds are applied
# once the times are UTC instants, whatever the file's time zone or daylight saving time.
_SCAN_MARGIN = dt.timedelta(days=1)


@dataclass(frozen=True)
class History:
    """What build needs of the history rows read (those after `since`, all when it is None): the
    rows a cap may count, typed, and what validate and the summary report of the file."""

    loaded: Loaded  # its frame: the rows read that `counted` kept; its rows: the file's rows
    after_now: int  # rows read dated after the moment of the build
    customer_ids: pl.Series  # the customer_id of every row read, each distinct one once per slice

    def after_now_warning(self) -> str | None:
        """The warning build and validate give for rows dated after now (a clock or export error)."""
        if not self.after_now:
            return None
        return f"{self.loaded.label}: {self.after_now} contact history row(s) dated after now"


def counted_by(cap: PressureCap, campaign: str, as_of: dt.datetime) -> pl.Expr:
    """The history rows (as load_history types them) that `cap` counts for `campaign` (contract
    section 10): its channels and purposes, this campaign's only with same_campaign, and
    as_of − window_days × 24 h < sent_at ≤ as_of."""
    since = as_of - dt.timedelta(days=cap.window_days)
    return pl.all_horizontal(
        pl.col("channel").is_in(list(cap.channels)),
        pl.col("purpose").is_in(list(cap.purposes)),
        pl.col("sent_at") > pl.lit(since).dt.convert_time_zone("UTC"),
        pl.col("sent_at") <= pl.lit(as_of).dt.convert_time_zone("UTC"),
        *([pl.col("campaign").eq_missing(campaign)] if cap.same_campaign else []),
    )


def load_history(spec: FileSpec, problems: ProblemLog, since: dt.datetime | None,
                 as_of: dt.datetime, now: dt.datetime, counted: pl.Expr | None = None) -> History | None:
    """The rows with since < sent_at <= as_of (every row up to as_of when `since` is None), as
    customer_id, channel, purpose, sent_at (UTC), campaign; of them only those where `counted`
    holds (all when None) are kept. Every row read is checked, a slice at a time, so that only
    one slice's text exists at once: a history is every message ever sent, and most rows inside
    the window are of purposes or channels no cap counts."""
    tables = read_table_slices(spec, HISTORY_COLUMNS, problems, rows=SLICE_ROWS, trimmed_by_parser=HISTORY_PARSED,
                               parquet_rows=ParquetRows("sent_at", partial(_scan_filter, since - _SCAN_MARGIN))
                               if since is not None else None)
    first = next(tables, None) if tables is not None else None
    if first is None or not require_columns(first, HISTORY_REQUIRED, problems):
        return None
    kept, ids, after_now, read = [], [], 0, 0
    for table in itertools.chain([first], tables):
        if table is None:
            return None
        read += table.frame.height
        part = _history_slice(table, problems, since, as_of, now)
        after_now += part.after_now
        ids.append(part.frame.get_column("customer_id").unique())
        kept.append(part.frame if counted is None else part.frame.filter(counted))
    frame = pl.concat(kept)
    return History(Loaded(first.label, frame, first.sha256, _file_rows(spec, read), first.unknown_columns), after_now,
                   pl.concat(ids))


@dataclass(frozen=True)
class _Slice:
    frame: pl.DataFrame
    after_now: int


def _history_slice(table: RawTable, problems: ProblemLog, since: dt.datetime | None, as_of: dt.datetime,
                   now: dt.datetime) -> _Slice:
    """One slice's rows with since < sent_at <= as_of, typed, after every check of the rows read."""
    frame = table.frame.with_columns(_sent_at(table.frame.get_column("sent_at")))
    checks = RowChecks(replace(table, frame=frame))
    checks.add(pl.col("sent_at").is_null(), "sent_at", "sent_at is missing")
    checks.add(pl.col("sent_at").is_not_null() & pl.col("sent_at_parsed").is_null(), "sent_at",
               "not a datetime (expected 2026-12-01T14:05:00 or 1.12.2026 14.05)")
    checks.report(problems)
    inside = pl.col("sent_at_parsed").is_not_null()
    if since is not None:
        inside = inside & (pl.col("sent_at_parsed") > pl.lit(since).dt.convert_time_zone("UTC"))
    if not frame.select(inside.all()).item():  # a Parquet scan has kept only these already
        frame = frame.filter(inside)
    frame = frame.with_columns(parsed_columns(frame, {
        "channel": ("channel_value", partial(enum_values, dtype=HISTORY_CHANNEL_TYPE)),
        "purpose": ("purpose_value", partial(enum_values, dtype=HISTORY_PURPOSE_TYPE)),
    }))
    checks = RowChecks(replace(table, frame=frame))
    for name in ("customer_id", "channel", "purpose"):
        checks.add(pl.col(name).is_null(), name, f"{name} is missing")
    for name, dtype in (("channel", HISTORY_CHANNEL_TYPE), ("purpose", HISTORY_PURPOSE_TYPE)):
        checks.add(pl.col(name).is_not_null() & pl.col(f"{name}_value").is_null(), name,
                   f"expected one of {', '.join(dtype.categories)}")
    checks.report(problems)
    after_now, later = frame.select(
        (pl.col("sent_at_parsed") > pl.lit(now).dt.convert_time_zone("UTC")).sum().alias("after_now"),
        (pl.col("sent_at_parsed") > pl.lit(as_of).dt.convert_time_zone("UTC")).any().alias("after_as_of"),
    ).row(0)
    if later:
        frame = frame.filter(pl.col("sent_at_parsed") <= pl.lit(as_of).dt.convert_time_zone("UTC"))
    return _Slice(frame.select(
        "customer_id",
        pl.col("channel_value").alias("channel"),
        pl.col("purpose_value").alias("purpose"),
        pl.col("sent_at_parsed").alias("sent_at"),
        few_values_trimmed(frame.get_column("campaign")),
    ), after_now)


def _scan_filter(since: dt.datetime, column: pl.Expr, dtype: pl.Datetime) -> pl.Expr:
    """The rows after `since`, on the file's own timestamps (naive ones are Helsinki time)."""
    if dtype.time_zone:
        bound = since.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return column.dt.replace_time_zone(None) > pl.lit(bound) if dtype.time_zone == "UTC" \
            else column.dt.convert_time_zone("UTC").dt.replace_time_zone(None) > pl.lit(bound)
    return column > pl.lit(since.astimezone(HELSINKI).replace(tzinfo=None))


def _sent_at(values: pl.Series) -> list[pl.Series]:
    """sent_at as UTC instants (`sent_at_parsed`): a timestamp column as it is (naive = Helsinki
    time), text parsed (and `sent_at` trimmed where its reader rejected it)."""
    if isinstance(values.dtype, pl.Datetime):
        instants = values.dt.convert_time_zone("UTC") if values.dtype.time_zone \
            else helsinki_to_utc(values.dt.cast_time_unit("us"))
        return [instants.dt.cast_time_unit("us").cast(UTC).alias("sent_at_parsed")]
    return parsed_columns(values.to_frame(), {"sent_at": ("sent_at_parsed", parse_datetime)})


def _file_rows(spec: FileSpec, read: int) -> int:
    """The file's rows: a Parquet file's from its footer, however many the filter kept."""
    if spec.path.suffix.lower() == ".parquet":
        return pl.scan_parquet(spec.path).select(pl.len()).collect().item()
    return read
