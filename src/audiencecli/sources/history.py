"""The contact history (contract section 3): what was already sent, the biggest input of all.

Only the rows inside the widest contact-pressure window matter: a Parquet file whose `sent_at`
is a timestamp column is read with that filter inside the scan, and only the known columns, so
the years of history before the window never reach memory. Every other file is read whole and
its `sent_at` parsed to tell which rows are inside. Rows outside the window are not checked
further (their other values are never looked at); an unparseable `sent_at` is an error wherever
it is, since its row cannot be placed. The rows inside are checked a slice at a time, and only
those some cap counts are kept (with the ids of all, for the orphan count); a clean Parquet
file takes a fast path that casts its enumerations in the scan (`_clean_parquet`).
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, replace
from functools import partial
from typing import Iterable, Iterator

import polars as pl

from ..config import CHANNELS, HELSINKI, PURPOSES, FileSpec, PressureCap
from ..datetimes import helsinki_to_utc, parse_datetime
from ..errors import ProblemLog
from ..files import file_digest
from .checks import RowChecks, enum_values, few_values_trimmed, parsed_columns, require_columns
from .readers import (LONGEST_VALUE, SLICE_ROWS, Loaded, ParquetRows, RawTable, RowFilter, file_label,
                      needs_trimming, normalize_header, read_table_slices)

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
    customer_ids: pl.Series  # the customer_id of every row read, each at least once (_ids_read)

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
                 as_of: dt.datetime, now: dt.datetime, counted: pl.Expr | None = None,
                 only: RowFilter | None = None) -> History | None:
    """The rows with since < sent_at <= as_of (every row up to as_of when `since` is None), as
    customer_id, channel, purpose, sent_at (UTC), campaign; of them only those where `counted`
    holds (all when None) are kept. Every row read is checked, a slice at a time, so that only
    one slice's text exists at once: a history is every message ever sent, and most rows inside
    the window are of purposes or channels no cap counts.

    A Parquet file of typed, clean columns (the common case: an export of a sending system) is
    read by a fast path that never makes its enumerations text; any value it cannot settle (one to
    trim, another case, a missing one) sends the whole file through the checks below instead.
    `only`: see readers.RowFilter."""
    clean = _clean_parquet(spec, since, as_of, now, counted, only)
    if clean is not None:
        return clean
    tables = read_table_slices(spec, HISTORY_COLUMNS, problems, rows=SLICE_ROWS, trimmed_by_parser=HISTORY_PARSED,
                               parquet_rows=ParquetRows("sent_at", partial(_scan_filter, since - _SCAN_MARGIN))
                               if since is not None else None, only=only)
    first = next(tables, None) if tables is not None else None
    if first is None or not require_columns(first, HISTORY_REQUIRED, problems):
        return None
    read = 0

    def slices() -> Iterator[_Slice | None]:
        nonlocal read
        for table in itertools.chain([first], tables):
            if table is None:
                yield None
                return
            read += table.frame.height
            yield _history_slice(table, problems, since, as_of, now)

    gathered = _gathered(slices(), counted)
    if gathered is None:
        return None
    frame, ids, after_now = gathered
    return History(Loaded(first.label, frame, first.sha256, _file_rows(spec, read), first.unknown_columns), after_now,
                   ids)


def _gathered(slices: Iterable[_Slice | None], counted: pl.Expr | None) -> tuple[pl.DataFrame, pl.Series, int] | None:
    """The slices' rows that `counted` keeps (all when None), the ids of all of them and how many
    are dated after now; None when a slice is (the file cannot be read on)."""
    kept, ids, after_now = [], [], 0
    for part in slices:
        if part is None:
            return None
        after_now += part.after_now
        ids.append(part.ids if part.ids is not None else _ids_read(part.frame))
        kept.append(part.frame if counted is None else part.frame.filter(counted))
    return pl.concat(kept), pl.concat(ids), after_now


def _clean_parquet(spec: FileSpec, since: dt.datetime | None, as_of: dt.datetime, now: dt.datetime,
                   counted: pl.Expr | None, only: RowFilter | None = None) -> History | None:
    """load_history's result for a Parquet file whose header is in its normal form, whose
    sent_at is a timestamp and whose other columns are text, when every row read is clean (no
    value missing, to trim or in another case); None for any other file, which load_history
    then reads and checks as text. The enumerations are cast inside the scan, a slice at a time."""
    path = spec.path
    if path.suffix.lower() != ".parquet":
        return None
    try:
        schema = pl.read_parquet_schema(path)
        rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    except Exception:  # noqa: BLE001 - the text path reports an unreadable file
        return None
    names = list(schema)
    text = ("customer_id", "channel", "purpose") + (("campaign",) if "campaign" in schema else ())
    if (any(name != normalize_header(name) for name in names) or not all(c in schema for c in HISTORY_REQUIRED)
            or not isinstance(schema["sent_at"], pl.Datetime) or any(schema[c] != pl.String for c in text)):
        return None
    dtype = schema["sent_at"]

    step = SLICE_ROWS if only is None else max(rows, 1)  # what `only` keeps is a few rows: one slice

    def slices() -> Iterator[_Slice | None]:
        for start in range(0, max(rows, 1), step):
            scan = pl.scan_parquet(path).slice(start, step)
            if only is not None:
                scan = scan.filter(only({c: pl.col(c) for c in text}))
            if since is not None:
                scan = scan.filter(_scan_filter(since - _SCAN_MARGIN, pl.col("sent_at"), dtype))
            try:
                frame = scan.select(
                    "customer_id",
                    pl.col("channel").cast(HISTORY_CHANNEL_TYPE, strict=False),
                    pl.col("purpose").cast(HISTORY_PURPOSE_TYPE, strict=False),
                    "sent_at",
                    pl.col("campaign").cast(pl.Categorical) if "campaign" in schema
                    else pl.lit(None, pl.Categorical).alias("campaign"),
                ).collect()
            except Exception:  # noqa: BLE001 - the text path reports an unreadable file
                yield None
                return
            if not _clean(frame):
                yield None
                return
            part = _utc_after(frame.with_columns(_sent_at(frame.get_column("sent_at"))[0].alias("sent_at")),
                              since, as_of, now)
            ids = _ids_read(part.frame)
            if ids.to_frame("v").select(needs_trimming("v").any()).item():
                yield None
                return
            yield replace(part, ids=ids)

    gathered = _gathered(slices(), counted)
    if gathered is None:
        return None
    frame, ids, after_now = gathered
    extra = tuple(name for name in names if name not in HISTORY_COLUMNS)
    return History(Loaded(file_label(path), frame, file_digest(path) if only is None else "", rows, extra),
                   after_now, ids)


def _clean(frame: pl.DataFrame) -> bool:
    """Whether the fast path can take the slice as it is: no required value missing (nor outside
    its enumeration, which the cast made null), no campaign with white space to trim (the ids
    are looked at once the window's rows are known, as they are kept: see `_clean_parquet`), no
    id or campaign that may be too long (readers.LONGEST_VALUE: the text path tells)."""
    campaigns = frame.get_column("campaign").unique().cast(pl.String).drop_nulls().to_frame("v")
    missing, long_id = frame.select(
        pl.any_horizontal(pl.col(c).is_null() for c in HISTORY_REQUIRED).any().alias("missing"),
        (pl.col("customer_id").str.len_bytes() > LONGEST_VALUE).any().alias("long_id"),
    ).row(0)
    return not (missing or long_id or campaigns.select(
        needs_trimming("v").any() | (pl.col("v").str.len_bytes() > LONGEST_VALUE).any()).item())


def _ids_read(frame: pl.DataFrame) -> pl.Series:
    """The slice's customer_ids, each at least once: a history lists a customer's rows together
    mostly, so the first of each run is enough (cheaper than finding the distinct ones)."""
    ids = frame.get_column("customer_id")
    runs = ids.filter(ids.ne_missing(ids.shift(1)))
    return runs if runs.len() < frame.height // 2 else runs.unique()


def _utc_after(frame: pl.DataFrame, since: dt.datetime | None, as_of: dt.datetime, now: dt.datetime) -> _Slice:
    """The rows with since < sent_at (UTC instants) <= as_of, and how many are after now."""
    utc = pl.col("sent_at")
    if since is not None:
        frame = frame.filter(utc > pl.lit(since).dt.convert_time_zone("UTC"))
    after_now, later = frame.select(
        (utc > pl.lit(now).dt.convert_time_zone("UTC")).sum().alias("after_now"),
        (utc > pl.lit(as_of).dt.convert_time_zone("UTC")).any().alias("after_as_of"),
    ).row(0)
    return _Slice(frame.filter(utc <= pl.lit(as_of).dt.convert_time_zone("UTC")) if later else frame, after_now)


@dataclass(frozen=True)
class _Slice:
    frame: pl.DataFrame
    after_now: int
    ids: pl.Series | None = None  # _ids_read(frame), when its maker has it already


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
    return _utc_after(frame.select(
        "customer_id",
        pl.col("channel_value").alias("channel"),
        pl.col("purpose_value").alias("purpose"),
        pl.col("sent_at_parsed").alias("sent_at"),
        few_values_trimmed(frame.get_column("campaign")),
    ), None, as_of, now)


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
