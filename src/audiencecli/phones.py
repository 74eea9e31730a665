"""Customer phone numbers to E.164, with libphonenumber's answers at Polars speed.

phonenumbers costs ~100 µs a call, far too slow for 10M rows. A vectorized fast path settles
the Finnish numbers for which it can prove phonenumbers would give the same answer: it replays
phonenumbers' own parse and validation steps for +358 with the library's FI/AX metadata, read
at import time so it cannot drift from the installed library. A second, smaller replay settles
what that leaves in "+" international form for other single-region country codes (+46, +372,
...), from their metadata the same way. Every other value goes to phonenumbers itself, once per
distinct (raw, region) pair.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, PhoneNumberType

from .engine import ENGINE

UNPARSEABLE = "unparseable"
NOT_VALID = "not a valid number"

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

_COUNTRY_CODE = 358
# A subset of libphonenumber's punctuation; any other character sends the value to the library.
_SEPARATORS = (" ", "(", ")", ".", "-", "/")
# Well under libphonenumber's 250-character input limit.
_MAX_FAST_LENGTH = 64
# phonenumbers.parse rejects national numbers outside these lengths as unparseable.
_MIN_NSN_LENGTH, _MAX_NSN_LENGTH = 2, 17
# The order phonenumbers tests types in (_number_type_helper); only one may match in the fast path.
_TYPE_DESCS = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
    "pager", "uan", "voicemail", "fixed_line", "mobile",
)

_SLICE_ROWS = 1_000_000

_RESULT_SCHEMA = {
    "raw": pl.String, "region": pl.String,
    "e164": pl.String, "mobile": pl.Boolean, "problem": pl.String,
}


@dataclass(frozen=True)
class _TypeRule:
    pattern: str
    lengths: tuple[int, ...]
    mobile: bool


@dataclass(frozen=True)
class _FastPath:
    """What the fast path needs from the metadata of +358 (FI is main region, AX shares it)."""

    regions: tuple[str, ...]
    idd_pattern: str
    prefix_general_patterns: tuple[str, ...]
    prefix_lengths: tuple[int, ...]
    leading_digits: str
    general_pattern: str
    general_lengths: tuple[int, ...]
    types: tuple[_TypeRule, ...]


@dataclass(frozen=True)
class _Country:
    """What the international fast path needs from a single-region country code's metadata."""

    country_code: str
    national_prefix: str | None
    general_pattern: str
    general_lengths: tuple[int, ...]
    prefix_lengths: tuple[int, ...]
    types: tuple[_TypeRule | None, ...]  # one per _TYPE_DESCS, None when the country has no such type


def _full(pattern: str) -> str:
    """libphonenumber patterns are full-match; Polars (Rust regex) searches."""
    return f"^(?:{pattern})$"


def _possible_lengths(desc) -> set[int]:
    return set(desc.possible_length) - set(desc.possible_length_local_only)


def _build_fast_path() -> _FastPath | None:
    """Read the +358 metadata; None (everything goes to the library) if it no longer has the
    shape the fast path replays: FI first with leading digits, national prefix a plain "0",
    the same IDD everywhere, no other country code that is a prefix of 358."""
    regions = tuple(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(_COUNTRY_CODE, ()))
    if not regions or regions[0] != "FI":
        return None
    if any(code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE for code in (3, 35)):
        return None
    metas = [PhoneMetadata.metadata_for_region(r) for r in regions]
    if any(m is None or m.country_code != _COUNTRY_CODE for m in metas):
        return None
    if any(m.national_prefix_for_parsing != "0" or m.national_prefix_transform_rule for m in metas):
        return None
    if any(not m.general_desc or not m.general_desc.national_number_pattern for m in metas):
        return None
    idd = {m.international_prefix for m in metas}
    if len(idd) != 1:
        return None
    idd_pattern = idd.pop()
    idd_match = idd_pattern and re.match(idd_pattern, "00358")
    if not idd_match or idd_match.end() != 2:
        return None
    fi = metas[0]
    if fi.leading_digits is None or fi.same_mobile_and_fixed_line_pattern:
        return None
    types = tuple(
        _TypeRule(desc.national_number_pattern, tuple(desc.possible_length), name == "mobile")
        for name in _TYPE_DESCS
        if (desc := getattr(fi, name)) is not None and desc.national_number_pattern
    )
    return _FastPath(
        regions=regions,
        idd_pattern=idd_pattern,
        prefix_general_patterns=tuple(m.general_desc.national_number_pattern for m in metas),
        prefix_lengths=tuple(sorted(set.intersection(*(_possible_lengths(m.general_desc) for m in metas)))),
        leading_digits=fi.leading_digits,
        general_pattern=fi.general_desc.national_number_pattern,
        general_lengths=tuple(fi.general_desc.possible_length),
        types=types,
    )


_FAST = _build_fast_path()


def _build_country(country_code: int) -> _Country | None:
    """Read one country code's metadata; None (left to the library) unless it has the shape the
    international replay assumes: a single region, so the library never picks a region by leading
    digits; no shorter country code that the library would read first; a national prefix for
    parsing that is absent or plain digits, with no transform rule; mobile and fixed-line patterns
    not declared the same; sorted general lengths within parse's limits."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if len(regions) != 1 or regions[0] == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return None
    digits = str(country_code)
    if any(int(digits[:end]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE for end in range(1, len(digits))):
        return None
    meta = PhoneMetadata.metadata_for_region(regions[0])
    if meta is None or meta.country_code != country_code or meta.same_mobile_and_fixed_line_pattern:
        return None
    national_prefix = meta.national_prefix_for_parsing or None
    if meta.national_prefix_transform_rule or (national_prefix and not re.fullmatch("[0-9]+", national_prefix)):
        return None
    general = meta.general_desc
    lengths = tuple(general.possible_length) if general else ()
    if not general or not general.national_number_pattern or not lengths or list(lengths) != sorted(lengths) \
            or lengths[0] < _MIN_NSN_LENGTH or lengths[-1] > _MAX_NSN_LENGTH:
        return None
    return _Country(
        country_code=digits,
        national_prefix=national_prefix,
        general_pattern=general.national_number_pattern,
        general_lengths=lengths,
        prefix_lengths=tuple(sorted(_possible_lengths(general))),
        types=tuple(
            _TypeRule(desc.national_number_pattern, tuple(desc.possible_length), name == "mobile")
            if (desc := getattr(meta, name)) is not None and desc.national_number_pattern else None
            for name in _TYPE_DESCS
        ),
    )


def _international_table(countries: list[_Country]) -> pl.DataFrame | None:
    """One row per country with its patterns and lengths as columns, so one query replays every
    country: Polars compiles a pattern column once per distinct pattern, and only the patterns of
    the countries present (compiling all of them would slow every command's start)."""
    if not countries:
        return None
    list_of_lengths = pl.List(pl.UInt32)
    return pl.DataFrame(
        {
            "_cc": [c.country_code for c in countries],
            "_national_prefix": [c.national_prefix for c in countries],
            "_general_pattern": [_full(c.general_pattern) for c in countries],
            "_general_lengths": [list(c.general_lengths) for c in countries],
            "_prefix_lengths": [list(c.prefix_lengths) for c in countries],
            "_min_len": [c.general_lengths[0] for c in countries],
            "_max_len": [c.general_lengths[-1] for c in countries],
            # A type without lengths has no length check; the general lengths are checked anyway.
            **{f"_type{i}_pattern": [_full(t.pattern) if (t := c.types[i]) else None for c in countries]
               for i in range(len(_TYPE_DESCS))},
            **{f"_type{i}_lengths": [list(t.lengths) if (t := c.types[i]) and t.lengths else None for c in countries]
               for i in range(len(_TYPE_DESCS))},
        },
        schema_overrides={"_general_lengths": list_of_lengths, "_prefix_lengths": list_of_lengths,
                          "_min_len": pl.UInt32, "_max_len": pl.UInt32,
                          **{f"_type{i}_lengths": list_of_lengths for i in range(len(_TYPE_DESCS))},
                          **{f"_type{i}_pattern": pl.String for i in range(len(_TYPE_DESCS))}},
    )


_INTERNATIONAL = _international_table(
    [country for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
     if code != _COUNTRY_CODE and (country := _build_country(code)) is not None]
)

# Both fast paths read the raw value without the separators (removed as literals: faster than a regex).
_CLEANED = [
    pl.col("raw").str.replace_many(list(_SEPARATORS), [""] * len(_SEPARATORS)).alias("_s"),
    (pl.col("raw").str.len_chars() <= _MAX_FAST_LENGTH).alias("_short"),
]

_NOTHING_SETTLED = [
    pl.lit(False).alias("settled"),
    pl.lit(None, pl.String).alias("fast_e164"),
    pl.lit(None, pl.Boolean).alias("fast_mobile"),
    pl.lit(None, pl.String).alias("fast_problem"),
]


def _fast_path_stages(fast: _FastPath) -> list[list[pl.Expr]]:
    """Column stages adding `settled`, `fast_e164`, `fast_mobile` and `fast_problem`.

    Mirrors phonenumbers.parse: strip "+" or the IDD before 358, or take a national number in a
    +358 region; strip one national prefix "0" only when the library would (the number with the
    0 is not viable and the rest has a possible length). A national number that then belongs to
    FI by its leading digits is valid when it matches exactly one FI type with an allowed length
    and invalid when it matches none; several matches would depend on the library's type order
    and are left to it. Lengths outside FI's possible range are left to it too, since the library
    rejects some of those as unparseable. Stages keep each intermediate computed once; they start
    from `_CLEANED`.
    """
    region, s = pl.col("region"), pl.col("_s")
    in_plan = region.is_in(list(fast.regions))
    # The IDD as the library finds it, at the start; on "00358..." it is "00" (_build_fast_path checked).
    idd = s.str.contains(f"^(?:{fast.idd_pattern})")
    rest, nsn, length = pl.col("_rest"), pl.col("_nsn"), pl.col("_len")
    hits = [pl.col(f"_hit{i}") for i in range(len(fast.types))]
    mobile_hit = pl.any_horizontal([h for h, t in zip(hits, fast.types) if t.mobile] or [pl.lit(False)])
    hit_count = pl.sum_horizontal([h.cast(pl.UInt8) for h in hits])
    original_viable = pl.any_horizontal([rest.str.contains(_full(p)) for p in fast.prefix_general_patterns])
    valid, invalid = pl.col("_valid"), pl.col("_invalid")
    return [
        [
            # One slice from where the national number starts (none: not settled here).
            s.str.slice(
                pl.when(pl.col("_short") & s.str.contains(r"^\+?[0-9]+$"))
                .then(
                    pl.when(s.str.starts_with(f"+{_COUNTRY_CODE}")).then(4)
                    .when(in_plan & idd & s.str.starts_with(f"00{_COUNTRY_CODE}")).then(5)
                    .when(in_plan & ~idd & s.str.starts_with("0")).then(0)
                )
            ).alias("_rest"),
        ],
        [
            pl.when(rest.str.starts_with("0")).then(rest.str.slice(1)).otherwise(rest).alias("_nsn"),
            (rest.str.starts_with("0") & original_viable).alias("_keeps_prefix"),
        ],
        [nsn.str.len_chars().alias("_len")],
        [
            (
                ~pl.col("_keeps_prefix")
                & (~rest.str.starts_with("0") | length.is_in(list(fast.prefix_lengths)))
                & nsn.str.contains(f"^(?:{fast.leading_digits})")
                & length.is_between(min(fast.general_lengths), max(fast.general_lengths))
            ).fill_null(False).alias("_finnish"),
            (length.is_in(list(fast.general_lengths)) & nsn.str.contains(_full(fast.general_pattern)))
            .alias("_general"),
            *[
                ((length.is_in(list(t.lengths)) if t.lengths else pl.lit(True)) & nsn.str.contains(_full(t.pattern)))
                .alias(f"_hit{i}")
                for i, t in enumerate(fast.types)
            ],
        ],
        [
            (pl.col("_finnish") & pl.col("_general") & (hit_count == 1)).alias("_valid"),
            (pl.col("_finnish") & (~pl.col("_general") | (hit_count == 0))).alias("_invalid"),
            mobile_hit.alias("_mobile"),
        ],
        [
            (valid | invalid).alias("settled"),
            pl.when(valid).then(pl.lit(f"+{_COUNTRY_CODE}") + nsn).alias("fast_e164"),
            pl.when(valid).then(pl.col("_mobile")).alias("fast_mobile"),
            pl.when(invalid).then(pl.lit(NOT_VALID)).alias("fast_problem"),
        ],
    ]


def _international_stages() -> list[list[pl.Expr]]:
    """Column stages adding `settled`, `fast_e164`, `fast_mobile` and `fast_problem` for values
    written "+" country code, national number, after the country's metadata row is joined by `_cc`.

    Mirrors phonenumbers.parse for a "+" number: the default region plays no part, the country code
    is the shortest prefix that is one (no eligible code has a shorter one), and the metadata is the
    code's only region. One national prefix is stripped as the library does when the number with
    it does not match the general pattern and the rest has a possible length; the rare other
    cases (a viable number with the prefix, a rest of impossible length) are left to the library.
    Then the FI path's rules apply: valid when exactly one type matches with an allowed length,
    invalid when none does or the general pattern fails; lengths outside the country's range, and
    several matching types, are left to the library. So is a country any of whose patterns Polars'
    regex engine does not compile (matched with strict=False, it gives null rather than an error).
    """
    s, cc, rest, nsn, length = pl.col("_s"), pl.col("_cc"), pl.col("_rest"), pl.col("_nsn"), pl.col("_len")
    national_prefix, general_pattern = pl.col("_national_prefix"), pl.col("_general_pattern")
    has_prefix, valid, invalid = pl.col("_has_prefix"), pl.col("_valid"), pl.col("_invalid")
    pattern_names = ["_general", *(f"_type{i}" for i in range(len(_TYPE_DESCS)))]
    hits = [pl.col(f"_hit{i}") for i in range(len(_TYPE_DESCS))]
    return [
        [s.str.slice(cc.str.len_chars() + 1).alias("_rest")],
        [rest.str.starts_with(national_prefix).fill_null(False).alias("_has_prefix")],
        [
            pl.when(has_prefix).then(rest.str.slice(national_prefix.str.len_chars())).otherwise(rest).alias("_nsn"),
            (has_prefix & rest.str.contains(general_pattern, strict=False)).alias("_keeps_prefix"),
        ],
        [
            nsn.str.len_chars().alias("_len"),
            *[
                nsn.str.contains(pl.col(f"{name}_pattern"), strict=False).alias(f"{name}_match")
                for name in pattern_names
            ],
        ],
        [
            (
                cc.is_not_null()
                & ~pl.col("_keeps_prefix")
                & (~has_prefix | pl.col("_prefix_lengths").list.contains(length))
                & length.is_between(pl.col("_min_len"), pl.col("_max_len"))
                & pl.all_horizontal(
                    pl.col(f"{name}_pattern").is_null() | pl.col(f"{name}_match").is_not_null()
                    for name in pattern_names
                )
            ).fill_null(False).alias("_replayable"),
            (pl.col("_general_lengths").list.contains(length) & pl.col("_general_match")).alias("_general"),
            *[
                (pl.col(f"_type{i}_lengths").list.contains(length).fill_null(True) & pl.col(f"_type{i}_match"))
                .fill_null(False).alias(f"_hit{i}")
                for i in range(len(_TYPE_DESCS))
            ],
        ],
        [
            (pl.col("_replayable") & pl.col("_general") & (pl.sum_horizontal(h.cast(pl.UInt8) for h in hits) == 1))
            .alias("_valid"),
            (pl.col("_replayable") & (~pl.col("_general") | ~pl.any_horizontal(hits))).alias("_invalid"),
        ],
        [
            (valid | invalid).alias("settled"),
            pl.when(valid).then(pl.lit("+") + cc + nsn).alias("fast_e164"),
            pl.when(valid).then(hits[_TYPE_DESCS.index("mobile")]).alias("fast_mobile"),
            pl.when(invalid).then(pl.lit(NOT_VALID)).alias("fast_problem"),
        ],
    ]


_INTERNATIONAL_STAGES = _international_stages()
# The country code as the library reads it: no code here starts with another country code, so the
# one that matches is the shortest, the library's choice.
_INTERNATIONAL_CODE = (
    rf"^\+({'|'.join(sorted(_INTERNATIONAL.get_column('_cc'), key=len, reverse=True))})"
    if _INTERNATIONAL is not None else None
)
_FAST_COLUMNS = ("settled", "fast_e164", "fast_mobile", "fast_problem")


def _with_international_fast_path(frame: pl.DataFrame) -> pl.DataFrame:
    """Settle what the +358 path left in "+" form for the countries in `_INTERNATIONAL`. It runs on
    the unsettled rows only (~2% of customers), so it adds no work over the whole column."""
    pending_at = (frame.get_column("raw").is_not_null() & ~frame.get_column("settled")).arg_true()
    if _INTERNATIONAL is None or not pending_at.len():
        return frame
    s = pl.col("_s")
    pending = (
        frame.select("_s", "_short")[pending_at].with_columns(pending_at.alias("_at")).lazy()
        .filter(pl.col("_short") & s.str.contains(r"^\+[0-9]+$"))
        .with_columns(s.str.extract(_INTERNATIONAL_CODE, 1).alias("_cc"))
        .join(_INTERNATIONAL.lazy(), on="_cc", how="inner")
    )
    for stage in _INTERNATIONAL_STAGES:
        pending = pending.with_columns(stage)
    answers = pending.filter("settled").select("_at", *_FAST_COLUMNS).collect(engine=ENGINE)
    settled_at = answers.get_column("_at")
    return frame.with_columns(
        frame.get_column(column).scatter(settled_at, answers.get_column(column)) for column in _FAST_COLUMNS
    )


def _with_fast_path(raw: pl.Series, region: pl.Series) -> pl.DataFrame:
    frame = pl.DataFrame({"raw": raw.cast(pl.String), "region": region.cast(pl.String)}).lazy()
    for stage in [_CLEANED, *(_fast_path_stages(_FAST) if _FAST else [_NOTHING_SETTLED])]:
        frame = frame.with_columns(stage)
    frame = frame.select("raw", "region", "_s", "_short", *_FAST_COLUMNS).collect(engine=ENGINE)
    return _with_international_fast_path(frame).select("raw", "region", *_FAST_COLUMNS)


def _unsettled(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.filter(pl.col("raw").is_not_null() & ~pl.col("settled"))
        .select("raw", "region")
        .unique()
    )


def fast_path_leftovers(raw: pl.Series, region: pl.Series) -> pl.DataFrame:
    """The distinct (raw, region) pairs the fast path leaves to phonenumbers (for tests, tuning)."""
    return _unsettled(_with_fast_path(raw, region))


def _with_library(raw: str, region: str) -> tuple[str | None, bool | None, str | None]:
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None, None, UNPARSEABLE
    # is_valid_number is number_type != UNKNOWN (both classify the number against its region's
    # patterns; the tests compare with is_valid_number itself): asking once halves the cost.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        return None, None, NOT_VALID
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return e164, kind in _MOBILE_TYPES, None


def normalize_phones(raw: pl.Series, region: pl.Series) -> pl.DataFrame:
    """Same length and order as the inputs. `raw` is a String series, already trimmed, null when missing.
    `region` is a String series of upper-case two-letter regions (never null).
    Returns a DataFrame with columns:
      e164: String   -- E.164 when the number is valid, else null
      mobile: Boolean -- True when valid and type MOBILE or FIXED_LINE_OR_MOBILE, False when valid and not mobile, null when not valid/missing
      problem: String -- null when valid or raw is null; else "unparseable" or "not a valid number"
    """
    # A slice at a time: the fast path's intermediate columns of one slice exist at once, not of all.
    frame = pl.concat([_with_fast_path(raw.slice(start, _SLICE_ROWS), region.slice(start, _SLICE_ROWS))
                       for start in range(0, max(raw.len(), 1), _SLICE_ROWS)])
    e164, mobile, problem = (frame.get_column(c) for c in ("fast_e164", "fast_mobile", "fast_problem"))
    pending_at = (frame.get_column("raw").is_not_null() & ~frame.get_column("settled")).arg_true()
    if pending_at.len():
        pending = frame.select("raw", "region")[pending_at]
        resolved = pl.DataFrame(
            [(r, reg, *_with_library(r, reg)) for r, reg in pending.unique().iter_rows()],
            schema=_RESULT_SCHEMA,
            orient="row",
        )
        answers = pending.join(resolved, on=["raw", "region"], how="left", maintain_order="left")
        e164 = e164.scatter(pending_at, answers.get_column("e164"))
        mobile = mobile.scatter(pending_at, answers.get_column("mobile"))
        problem = problem.scatter(pending_at, answers.get_column("problem"))
    return pl.DataFrame([e164.alias("e164"), mobile.alias("mobile"), problem.alias("problem")])
