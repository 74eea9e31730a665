"""recorded_at is read the same whichever path reads it: the fast paths for the plain ISO and
Finnish spellings must agree with the general reader (and with Python's own reading of the contract)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import given, settings, strategies as st

from audiencecli.datetimes import FINNISH_DATETIME, ISO_DATETIME, _parse_datetime_slow, _read_plain_iso, parse_datetime

HELSINKI = ZoneInfo("Europe/Helsinki")


def general_reader(values: list[str]) -> list:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(_parse_datetime_slow(pl.col("v").str.extract_groups(ISO_DATETIME),
                                             pl.col("v").str.extract_groups(FINNISH_DATETIME))).to_series().to_list()


moments = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31))
offsets = st.one_of(st.none(), st.integers(min_value=-14 * 60, max_value=14 * 60))


def spell(moment: dt.datetime, separator: str, offset: int | None) -> str:
    if separator == "finnish":
        return f"{moment.day}.{moment.month}.{moment.year} {moment.hour}.{moment.minute:02d}"
    text = moment.strftime(f"%Y-%m-%d{separator}%H:%M:%S")
    if offset is None:
        return text
    sign = "-" if offset < 0 else "+"
    return f"{text}{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def python_reading(moment: dt.datetime, offset: int | None) -> dt.datetime:
    if offset is None:
        return moment.replace(tzinfo=HELSINKI).astimezone(dt.timezone.utc)
    return moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset))).astimezone(dt.timezone.utc)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(moments, st.sampled_from(["T", " ", "finnish"]), offsets), min_size=1, max_size=20))
def test_plain_datetimes_read_as_the_general_reader_reads_them(cases):
    values = [spell(m.replace(microsecond=0), sep, off) for m, sep, off in cases]
    assert parse_datetime(pl.Series(values)).to_list() == general_reader(values)


@settings(max_examples=200, deadline=None)
@given(moments.filter(lambda m: m.replace(tzinfo=HELSINKI, fold=0).utcoffset()  # not an ambiguous hour
                      == m.replace(tzinfo=HELSINKI, fold=1).utcoffset()), offsets)
def test_plain_iso_datetimes_mean_helsinki_time_or_their_offset(moment, offset):
    moment = moment.replace(microsecond=0)
    [parsed] = parse_datetime(pl.Series([spell(moment, "T", offset)])).to_list()
    assert parsed == python_reading(moment, offset)


def test_mixed_spellings_keep_their_positions():
    values = ["2026-12-01T10:00:00", "1.12.2026 10.00", None, "2026-12-01 10:00:00+00:00", "2026-12-01T10:00:00Z",
              "not a date", "2026-12-01T10:00:00.5"]
    parsed = parse_datetime(pl.Series(values, dtype=pl.String)).to_list()
    utc = dt.timezone.utc
    assert parsed == [dt.datetime(2026, 12, 1, 8, tzinfo=utc), dt.datetime(2026, 12, 1, 8, tzinfo=utc), None,
                      dt.datetime(2026, 12, 1, 10, tzinfo=utc), dt.datetime(2026, 12, 1, 10, tzinfo=utc), None,
                      dt.datetime(2026, 12, 1, 8, 0, 0, 500000, tzinfo=utc)]


def test_out_of_range_offsets_and_impossible_dates_are_not_datetimes():
    values = ["2026-12-01T10:00:00+24:00", "2026-02-30T10:00:00", "2026-12-01T25:00:00", "2026-12-01X10:00:00",
              "30.2.2026 10.00", "1.12.2026 24.00", "1.12.2026 10.5", "1.12.26 10.05"]
    assert parse_datetime(pl.Series(values)).to_list() == [None] * len(values)


@st.composite
def near_iso(draw) -> str:
    """A plain ISO spelling with one character replaced: the fast path must not accept what the
    general reader refuses, nor read differently what it accepts."""
    moment = draw(moments).replace(microsecond=0)
    text = spell(moment, draw(st.sampled_from(["T", " "])), draw(offsets))
    at = draw(st.integers(min_value=0, max_value=len(text) - 1))
    return text[:at] + draw(st.sampled_from("0123456789-+:T .Z9")) + text[at + 1:]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(near_iso(), st.builds(lambda m, off: spell(m.replace(microsecond=0), "T", off), moments,
                                               offsets)), min_size=1, max_size=20))
def test_strings_shaped_almost_like_plain_datetimes_read_as_the_general_reader_reads_them(values):
    general = pl.DataFrame({"v": values}, schema={"v": pl.String}).select(_parse_datetime_slow(
        pl.col("v").str.extract_groups(ISO_DATETIME), pl.col("v").str.extract_groups(FINNISH_DATETIME))).to_series()
    # Compared as microseconds: year 0000 is a date to both readers but not to Python.
    assert parse_datetime(pl.Series(values, dtype=pl.String)).dt.epoch("us").to_list() \
        == general.dt.epoch("us").to_list()


def test_signs_and_out_of_range_fields_in_fixed_positions_are_not_plain_datetimes():
    values = ["+026-12-01T10:00:00", "2026-12-01T+1:00:00", "2026-12-01T10:-0:00", "2026-12-01T10:00:60",
              "2026-12-01T10:00:00+1:000", "2026-12-01T10:00:00+10:60", "2026-12-01T10:00:00-24:00"]
    assert parse_datetime(pl.Series(values)).to_list() == general_reader(values)


def test_impossible_plain_datetimes_among_many_possible_ones_are_refused_in_their_places():
    values = [spell(dt.datetime(2026, 1, 1) + dt.timedelta(minutes=37 * n), "T", 120 if n % 2 else None)
              for n in range(100)]
    values[7], values[50], values[99] = "2026-02-30T10:00:00+02:00", "2026-12-01T24:00:00", "2026-12-01T10:00:00+24:00"
    values[60], values[61] = "2026-04-31T10:00:00", "2025-02-29T10:00:00+02:00"
    parsed = parse_datetime(pl.Series(values)).to_list()
    assert [at for at, instant in enumerate(parsed) if instant is None] == [7, 50, 60, 61, 99]
    assert parsed == general_reader(values)


def test_arrow_refusing_plain_datetimes_leaves_only_the_impossible_dates_to_the_general_reader():
    values = pl.Series(["2026-12-01T10:00:00+02:00", "2026-02-30T10:00:00+02:00", "2026-04-30T10:00:00+02:00"])
    text = values.to_arrow(compat_level=pl.CompatLevel.oldest())
    assert _read_plain_iso(values, text, pl.Series([True, True, True]), "UTC").is_null().to_list() \
        == [False, True, False]
    # A refusal the pattern does not foresee (here an hour it would not have vouched for): all of
    # them are left to the general reader.
    hour_24 = pl.Series(["2026-12-01T10:00:00+02:00", "2026-12-01T24:00:00+02:00"])
    assert _read_plain_iso(hour_24, hour_24.to_arrow(compat_level=pl.CompatLevel.oldest()),
                           pl.Series([True, True]), "UTC").is_null().to_list() == [True, True]


def test_naive_times_read_in_helsinki_time_across_its_clock_changes_whether_near_or_years_apart():
    spring = [(dt.datetime(2026, 3, 29) + dt.timedelta(minutes=20 * n)).strftime("%Y-%m-%d %H:%M:%S")
              for n in range(150)]
    autumn = [(dt.datetime(2026, 10, 25) + dt.timedelta(minutes=20 * n)).strftime("%Y-%m-%dT%H:%M:%S")
              for n in range(150)]
    # Each clock change alone spans fewer hours than it has values (offsets taken by place); all
    # of them with two outlying years span more (the distinct hours joined).
    for values in (spring, autumn, [*spring, *autumn, "1950-06-01T12:00:00", "2090-01-01 00:30:00"]):
        assert parse_datetime(pl.Series(values)).to_list() == general_reader(values)
