"""Dates and datetimes of the inputs, and Helsinki time.

Every date is read as ISO `2026-12-01` or Finnish `1.12.2026`; every datetime as ISO 8601 or a
Finnish `d.m.yyyy h.mm[.ss]`, naive times being Europe/Helsinki. A vectorized fast path reads the
common spellings; the general reader runs on the distinct values it leaves.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable
from zoneinfo import ZoneInfo

import polars as pl

HELSINKI = ZoneInfo("Europe/Helsinki")

ISO_DATE = r"^(\d{4})-(\d{1,2})-(\d{1,2})$"
FINNISH_DATE = r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"
ISO_DATETIME = (
    r"^(?<y>\d{4})-(?<m>\d{1,2})-(?<d>\d{1,2})"
    r"(?:[Tt ]+(?<H>\d{1,2}):(?<M>\d{2})(?::(?<S>\d{2})(?:[.,](?<f>\d{1,9}))?)?)?"
    r"\s*(?<z>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
FINNISH_PLAIN_DATETIME = r"^\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}\.\d{2}$"
# ISO with seconds, no fraction, `T` or a space, optionally a `+hh:mm` offset: every character
# checked, and every field within its range, so that Arrow's reader can refuse only a day past its
# month's end (see _read_plain_iso).
ISO_PLAIN_DATETIME = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
)
FINNISH_DATETIME = (
    r"^(?<d>\d{1,2})\.(?<m>\d{1,2})\.(?<y>\d{4})"
    r"(?:\s+(?:klo\s+)?(?<H>\d{1,2})[.:](?<M>\d{2})(?:[.:](?<S>\d{2}))?)?$"
)


def _parse_date_slow(iso: pl.Expr, finnish: pl.Expr) -> pl.Expr:
    """ISO `2026-12-01` or Finnish `1.12.2026` from the two patterns' groups; null when neither matched."""
    year = pl.coalesce(iso.struct.field("1"), finnish.struct.field("3"))
    month = pl.coalesce(iso.struct.field("2"), finnish.struct.field("2"))
    day = pl.coalesce(iso.struct.field("3"), finnish.struct.field("1"))
    text = pl.concat_str([year, month.str.zfill(2), day.str.zfill(2)], separator="-")
    return text.str.to_date("%Y-%m-%d", strict=False)


def _parse_datetime_slow(iso: pl.Expr, finnish: pl.Expr) -> pl.Expr:
    """ISO 8601 or Finnish `d.m.yyyy h.mm[.ss]` from the two patterns' groups, as a UTC instant;
    naive times are Helsinki time. A date alone is the start of that day. Null when neither matched.
    """

    def part(name: str) -> pl.Expr:
        return pl.coalesce(iso.struct.field(name), finnish.struct.field(name))

    hour = part("H").fill_null("0").str.zfill(2)
    minute = part("M").fill_null("00")
    second = part("S").fill_null("00")
    text = pl.concat_str([
        part("y"), pl.lit("-"), part("m").str.zfill(2), pl.lit("-"), part("d").str.zfill(2), pl.lit(" "),
        hour, pl.lit(":"), minute, pl.lit(":"), second,
    ])
    naive = text.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)
    fraction = iso.struct.field("f").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64).fill_null(0)
    naive = naive + pl.duration(microseconds=fraction)
    zone = iso.struct.field("z")
    sign = pl.when(zone.str.starts_with("-")).then(-1).otherwise(1)
    digits = zone.str.replace_all(r"[^0-9]", "")
    offset_hours = digits.str.slice(0, 2).cast(pl.Int64, strict=False)
    offset_mins = digits.str.slice(2, 2).cast(pl.Int64, strict=False).fill_null(0)
    offset_minutes = (
        pl.when(zone.str.to_uppercase() == "Z").then(0)
        .when((offset_hours <= 23) & (offset_mins <= 59)).then(sign * (offset_hours * 60 + offset_mins))
    )
    with_offset = (naive - pl.duration(minutes=offset_minutes)).dt.replace_time_zone("UTC")
    return pl.when(zone.is_not_null()).then(with_offset).otherwise(_helsinki_to_utc(naive))


def _with_fast_path(values: pl.Series, parsed: pl.Series, patterns: tuple[str, str],
                    slow: Callable[[pl.Expr, pl.Expr], pl.Expr]) -> pl.Series:
    """`parsed`, the fast path's reading, settles the common spellings; the general reader runs
    only on the distinct values it left over, with each pattern matched once (struct columns)
    rather than once per field, and its results are put back in place by position (no join
    over the whole column)."""
    leftover_at = (parsed.is_null() & values.is_not_null()).arg_true()
    if leftover_at.len() == 0:
        return parsed.alias(values.name)
    leftover = values.gather(leftover_at).to_frame("v")
    settled = leftover.unique().with_columns(
        _first=pl.col("v").str.extract_groups(patterns[0]),
        _second=pl.col("v").str.extract_groups(patterns[1]),
    ).select("v", slow(pl.col("_first"), pl.col("_second")).alias("slow"))
    slow_values = leftover.join(settled, on="v", how="left", maintain_order="left").get_column("slow")
    return parsed.scatter(leftover_at, slow_values.cast(parsed.dtype)).alias(values.name)


def parse_date(values: pl.Series) -> pl.Series:
    """ISO `2026-12-01` or Finnish `1.12.2026`; null when missing or unparseable."""
    # Without Polars' cache of distinct values: birth and holding dates have tens of thousands,
    # and keeping them cached made the reading slower.
    fast = values.str.to_date("%Y-%m-%d", strict=False, exact=True, cache=False)
    return _with_fast_path(values, fast, (ISO_DATE, FINNISH_DATE), _parse_date_slow)


def parse_datetime(values: pl.Series) -> pl.Series:
    """ISO 8601 or Finnish datetimes as UTC instants; naive times are Europe/Helsinki.

    The fast path reads the plain spellings: ISO `2026-12-01T14:05:00` (or with a space), with or
    without a `+02:00` offset, with Arrow's ISO 8601 reader once one pattern has vouched for every
    character (see _read_plain_iso); and Finnish `1.12.2026 14.05`. The rest go through the general
    reader, which handles other offsets, fractions, the other Finnish forms and bare dates.
    """
    value = pl.col("v")
    plain, length = values.to_frame("v").select(
        value.str.contains(ISO_PLAIN_DATETIME).fill_null(False).alias("plain"), value.str.len_bytes().alias("length"),
    ).get_columns()
    text = values.to_arrow(compat_level=pl.CompatLevel.oldest())  # plain offsets and bytes, which Arrow's cast reads
    utc = _read_plain_iso(values, text, plain & (length == len("2026-12-01T14:05:00+02:00")), "UTC")
    naive = _read_plain_iso(values, text, plain & (length == len("2026-12-01T14:05:00")), None)
    del text
    # The Finnish pattern is tried only where the ISO one failed.
    others_at = (~plain).arg_true()
    finnish_at = others_at.filter(values.gather(others_at).str.contains(FINNISH_PLAIN_DATETIME))
    if finnish_at.len():
        read = values.gather(finnish_at).str.to_datetime("%d.%m.%Y %H.%M", time_unit="us", strict=False, exact=True,
                                                         cache=False)  # nearly all distinct
        naive = naive.scatter(finnish_at, read)
    fast = utc.fill_null(_helsinki_hours_to_utc(naive))
    return _with_fast_path(values, fast, (ISO_DATETIME, FINNISH_DATETIME), _parse_datetime_slow)


def _read_plain_iso(values: pl.Series, text, where: pl.Series, zone: str | None) -> pl.Series:
    """`values` at `where`, plain ISO datetimes (`text`: the same as an Arrow string array), as
    instants in `zone` (naive when None); null elsewhere.

    Arrow's ISO 8601 reader, several times faster than reading each field from its fixed
    position. It refuses a whole array for one impossible value; the
    pattern has checked every field's range, so that can only be a day past its month's end (a
    30 February): then the values whose date is not a real one are left null, for the general
    reader to refuse, and the rest read again (cheap: impossible dates are rare).
    """
    import pyarrow as pa  # only the consent log's reader needs it
    import pyarrow.compute as pc

    def read(chosen: pl.Series) -> pl.Series | None:
        try:
            return pl.Series(pc.cast(pc.if_else(chosen.to_arrow(), text, pa.scalar(None, text.type)),
                                     pa.timestamp("us", zone)))
        except pa.ArrowInvalid:
            return None

    instants = read(where)
    if instants is None:
        real_date = values.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False, exact=True).is_not_null()
        instants = read(where & real_date)
    if instants is None:  # refused for a reason the pattern does not foresee: all to the general reader
        instants = pl.repeat(None, values.len(), dtype=pl.Datetime("us", zone), eager=True)
    return instants


def _helsinki_hours_to_utc(naive: pl.Series) -> pl.Series:
    """`_helsinki_to_utc` on a column, with the time-zone lookup done once per hour: Helsinki's
    offset changes only on whole hours, so the offset of an hour is that of its values.

    When the hours from the first to the last are no more than the values, each of them is looked
    up and the column's offsets taken from that table by place (cheaper than a join); otherwise
    (an outlying year) the distinct hours are looked up and joined."""
    hour_us = 3_600_000_000
    hours = (naive.dt.epoch("us") // hour_us).alias("hour")
    first, last = hours.min(), hours.max()
    if first is None:
        return naive.cast(pl.Datetime("us", "UTC"))
    by_place = last - first < hours.len()
    table = (pl.int_range(first, last + 1, eager=True).alias("hour") if by_place else hours.drop_nulls().unique()) \
        .to_frame().with_columns(offset=_helsinki_to_utc((pl.col("hour") * hour_us).cast(pl.Datetime("us")))
                                 .dt.epoch("us") - pl.col("hour") * hour_us)
    offset = table.get_column("offset").gather(hours - first) if by_place \
        else hours.to_frame().join(table, on="hour", how="left", maintain_order="left").get_column("offset")
    return (naive.dt.epoch("us") + offset).cast(pl.Datetime("us", "UTC")).alias(naive.name)


def helsinki_to_utc(naive: pl.Series) -> pl.Series:
    """Naive Helsinki wall-clock times (microseconds) as UTC instants."""
    return _helsinki_hours_to_utc(naive)


def _helsinki_to_utc(naive: pl.Expr) -> pl.Expr:
    """Local Helsinki wall-clock time as a UTC instant (a time in the spring-forward gap reads as an hour later)."""
    local = naive.dt.replace_time_zone(str(HELSINKI), ambiguous="earliest", non_existent="null")
    shifted = (naive + pl.duration(hours=1)).dt.replace_time_zone(str(HELSINKI), ambiguous="earliest",
                                                                    non_existent="null")
    return pl.coalesce(local, shifted).dt.convert_time_zone("UTC")


HELSINKI_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"
_HOUR_US, _SECOND_US = 3_600_000_000, 1_000_000
_MINUTES_SECONDS = pl.int_range(0, 3600, eager=True).to_frame("s").select(pl.format(
    "{}:{}", (pl.col("s") // 60).cast(pl.String).str.zfill(2), (pl.col("s") % 60).cast(pl.String).str.zfill(2),
)).to_series()


def helsinki_time_text(instants: pl.Series) -> pl.Series:
    """HELSINKI_TIME_FORMAT of UTC instants in Helsinki time, put together from tables: the text up
    to the hour and the offset of every hour from the first to the last, and the 3600 minutes
    and seconds of an hour, much faster than formatting each value. Values with fractions of a second, and columns spanning more hours than values
    (and 100,000) or with an offset not in whole hours (before 1921), are formatted one by one."""
    def one_by_one(values: pl.Series) -> pl.Series:
        return values.dt.convert_time_zone(str(HELSINKI)).dt.to_string(HELSINKI_TIME_FORMAT)

    us = instants.dt.epoch("us")
    hours = us // _HOUR_US
    first, last = hours.min(), hours.max()
    if first is None or last - first > max(instants.len(), 100_000):
        return one_by_one(instants)
    table = pl.int_range(first, last + 1, eager=True).to_frame("hour").select(
        at=(pl.col("hour") * _HOUR_US).cast(pl.Datetime("us", "UTC")).dt.convert_time_zone(str(HELSINKI)),
    ).select(
        upto_hour=pl.col("at").dt.to_string("%Y-%m-%dT%H:"),
        offset=pl.col("at").dt.to_string("%:z"),
        whole_hours=(pl.col("at").dt.base_utc_offset() + pl.col("at").dt.dst_offset()).dt.total_seconds() % 3600 == 0,
    )
    if not table.get_column("whole_hours").all():
        return one_by_one(instants)
    at = hours - first
    text = pl.DataFrame([
        table.get_column("upto_hour").gather(at), _MINUTES_SECONDS.gather((us // _SECOND_US) % 3600),
        table.get_column("offset").gather(at),
    ]).select(pl.concat_str(pl.all())).to_series()
    fractions = (us % _SECOND_US != 0).arg_true()
    if fractions.len():
        text = text.scatter(fractions, one_by_one(instants.gather(fractions)))
    return text.alias(instants.name)


def readable_time(text: str) -> str:
    """A time of the run (as_of, started_at, ...) as a reader says it, in Helsinki time:
    `2026-12-01, end of day (Helsinki)` for the as_of of a date, `2026-06-30 12:00 (Helsinki)` for
    a moment. A value that is not a datetime with an offset is shown as it is."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    local = moment.astimezone(HELSINKI)
    if local.time() == dt.time.max:
        return f"{local:%Y-%m-%d}, end of day (Helsinki)"
    return f"{_clock(local)} (Helsinki)"


def _clock(moment: dt.datetime) -> str:
    """A Helsinki moment as `2026-06-30 12:00`, with seconds (and their fraction) only when it has them."""
    text = f"{moment:%Y-%m-%d %H:%M}"
    if moment.second or moment.microsecond:
        text += f":{moment:%S}"
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text
