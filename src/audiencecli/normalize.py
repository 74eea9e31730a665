"""Contact normalization (contract section 4) as Polars expressions.

Phones live in `phones.py` (they need libphonenumber on the values a fast path cannot settle).
"""
from __future__ import annotations

import polars as pl
import polars_hash  # noqa: F401  (registers the `chash` namespace: native SHA-256)

# Full Unicode case folding = lower-casing plus these replacements (ß → ss, ς → σ, …), computed
# from Python's own `str.casefold` so the vectorized key equals the contract's definition.
# All of them lie in the Basic Multilingual Plane (a test checks the whole of Unicode), so only
# that is scanned at import: a scan of all 1.1M code points slowed every command's start.
CASEFOLD_SCAN_END = 0x10000


def casefold_extras(end: int) -> dict[str, str]:
    return {
        ch: ch.casefold()
        for ch in map(chr, range(end))
        if not 0xD800 <= ord(ch) <= 0xDFFF and ch == ch.lower() and ch.casefold() != ch
    }


_CASEFOLD_EXTRA = casefold_extras(CASEFOLD_SCAN_END)

EMAIL_VALID = (
    r"^[^@\s]+@(?:[\p{L}0-9](?:[\p{L}0-9-]*[\p{L}0-9])?\.)+\p{L}{2,}$"
)


def by_distinct(values: pl.Series, **made: pl.Expr) -> list[pl.Series]:
    """Columns `made` of a column of few distinct values (expressions of `v`, its value), each
    worked out once per distinct value and put in place by the row's value; a missing value
    makes missing ones. Per row this costs a hash and a gather, not the expressions."""
    codes = values.cast(pl.Categorical(pl.Categories.random()))  # categories of its own: codes 0, 1, ...
    distinct = codes.unique().drop_nulls()
    table = distinct.cast(pl.String).to_frame("v").select(**made)
    at, rows = distinct.to_physical(), codes.to_physical()
    size = (at.max() or 0) + 1
    return [pl.repeat(None, size, dtype=column.dtype, eager=True).scatter(at, column).gather(rows).alias(column.name)
            for column in table.get_columns()]


def email(expr: pl.Expr) -> pl.Expr:
    """Trimmed, NFC-normalized, lower-cased; null stays null."""
    value = expr.str.strip_chars().str.normalize("NFC").str.to_lowercase()
    return pl.when(value != "").then(value)


def email_is_valid(normalized: pl.Expr) -> pl.Expr:
    """Exactly the contract's rule: one @, a local part without white space, a letter TLD."""
    return normalized.str.contains(EMAIL_VALID)


def casefold(expr: pl.Expr) -> pl.Expr:
    """`str.casefold` as an expression: lower-case, then the folds lower-casing does not do."""
    return expr.str.to_lowercase().str.replace_many(list(_CASEFOLD_EXTRA), list(_CASEFOLD_EXTRA.values()))


def key_part(expr: pl.Expr) -> pl.Expr:
    """One part of the name-and-address key: NFC, case-folded, punctuation to spaces, spaces collapsed.

    `Anna-Liisa` → `anna liisa`, `Mannerheimintie 12 A,5` → `mannerheimintie 12 a 5`.
    An empty result is missing.
    """
    folded = casefold(expr.str.normalize("NFC"))
    spaced = folded.str.replace_all(r"\p{P}", " ").str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(spaced != "").then(spaced)


# Letters, digits and single spaces whose NFC form and case folding are plain lower-casing:
# ASCII and the precomposed Latin-1 letters (ß, whose folding is `ss`, left out). Names and
# addresses are nearly all spelled so; the others take the general path.
PLAIN_KEY_PART = r"^[0-9A-Za-zÀ-ÖØ-Þà-öø-ÿ]+(?: [0-9A-Za-zÀ-ÖØ-Þà-öø-ÿ]+)*$"


def _by_path(values: pl.Series, plain: pl.Expr, fast: pl.Expr, general: pl.Expr) -> pl.Series:
    """`general` applied to every value, computed as `fast` where `plain` says that is the same
    thing, and as `general` only on the (few) other values, put back in place by position."""
    frame = values.to_frame("v")
    is_plain, result = frame.select(plain.fill_null(True).alias("plain"), fast.alias("fast")).get_columns()
    others = (~is_plain).arg_true()
    if others.len():
        settled = values.gather(others).to_frame("v").select(general).to_series()
        result = result.scatter(others, settled)
    return result.alias(values.name)


def email_values(values: pl.Series) -> pl.Series:
    """`email` on a column; NFC normalization only where a value is not plain ASCII: one byte per
    character, much cheaper to tell than with a pattern."""
    value = pl.col("v")
    plain_ascii = value.str.len_bytes() == value.str.len_chars()
    return _by_path(values, plain_ascii, _blank_to_null(value.str.strip_chars().str.to_lowercase()), email(value))


def key_part_values(values: pl.Series, *, repeated: bool = False) -> pl.Series:
    """`key_part` on a column: plain lower-casing where the value is plainly spelled. `repeated`:
    a column whose values repeat (first and last names, postal codes), worked out once per
    distinct value instead (not the streets: mostly distinct, they would take longer)."""
    if repeated:
        return by_distinct(values, v=key_part(pl.col("v")))[0].alias(values.name)
    value = pl.col("v")
    return _by_path(values, value.str.contains(PLAIN_KEY_PART), value.str.to_lowercase(), key_part(value))


def _blank_to_null(value: pl.Expr) -> pl.Expr:
    return pl.when(value != "").then(value)


def join_key(parts: list[pl.Expr]) -> pl.Expr:
    """Normalized key parts joined into one comparable key; null when any part is.

    The separator is a comma: punctuation never survives in a key part (`key_part` makes it a
    space), so two keys are equal exactly when all their parts are."""
    return pl.concat_str(parts, separator=",")


# Why a channel's contact point cannot be used ("missing" for missing_contact, the others for
# invalid_contact): an enumeration, so that a channel's problem column is a byte per customer.
CONTACT_PROBLEM_TYPE = pl.Enum([
    "missing",
    "email address syntax is not valid",
    "phone number cannot be parsed",
    "phone number is not a valid number",
    "not a mobile number",
    "incomplete address (street, postal code and city are all needed)",
    "postal code is not 5 digits",
    "neither a valid email address nor a valid phone number",
])


def contact_problem(text: str) -> pl.Expr:
    """One of CONTACT_PROBLEM_TYPE's texts (a text it lacks is an error, not a new value)."""
    return pl.lit(text, dtype=CONTACT_PROBLEM_TYPE)


def address_problem(street: pl.Expr, postal: pl.Expr, city: pl.Expr, country: pl.Expr) -> pl.Expr:
    """Null for a complete postal address, else why it cannot carry a letter."""
    present = [street.is_not_null(), postal.is_not_null(), city.is_not_null()]
    return (
        pl.when(~pl.any_horizontal(present)).then(contact_problem("missing"))
        .when(~pl.all_horizontal(present))
        .then(contact_problem("incomplete address (street, postal code and city are all needed)"))
        .when((country == "FI") & ~postal.str.contains(r"^[0-9]{5}$"))
        .then(contact_problem("postal code is not 5 digits"))
    )


def sha256_hex(expr: pl.Expr) -> pl.Expr:
    """SHA-256 hex of the UTF-8 bytes of each value (null stays null), computed natively."""
    return expr.chash.sha2_256()


def holdout_bucket(campaign_name: str, customer_id: pl.Expr) -> pl.Expr:
    """control_group's bucket in [0, 100): int(sha256(name + ":" + id)[:16], 16) / 2**64 * 100.

    The 64-bit integer converts to the same double as Python's `int / 2**64` (both round to
    nearest, and dividing by a power of two is exact), so the bucket equals the contract's formula.
    """
    digest = sha256_hex(pl.concat_str([pl.lit(f"{campaign_name}:"), customer_id]))
    top = digest.str.slice(0, 16).str.to_integer(base=16, dtype=pl.UInt64)
    return top.cast(pl.Float64) / 2.0**64 * 100.0
