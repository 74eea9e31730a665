"""Platform upload files of the social channel, and their removal files (contract section 12).

PLATFORMS is the registry: per platform, its file's columns in order, each a Polars expression
over the social channel's sendable customers (`members`: the valid e-mail as normalized, the
E.164 phone, the names, postal code, city and country). What each platform's specification
asks for, with its address, is in the README ("Platform audience files").

A platform keeps a member until told otherwise, so against the previous run in the output
folder each platform also gets a removal file: the previous file's rows that are not in the new
one, in the same format.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from . import normalize
from .errors import InputError, Problem


def _hashed(value: pl.Expr) -> pl.Expr:
    """SHA-256 hex of a non-empty value; null (an empty cell) otherwise."""
    return normalize.sha256_hex(pl.when(value.is_not_null() & (value != "")).then(value))


def _name_letters(column: str) -> pl.Expr:
    """A name NFC-normalized, lower-cased, every character that is neither a letter nor a digit
    removed: `Anna-Liisa` → `annaliisa`, `Åsa` → `åsa` (letters such as ä, ö, å are kept)."""
    return pl.col(column).str.normalize("NFC").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]", "")


def _digits(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(r"[^0-9]", "")


def _postal(column: str) -> pl.Expr:
    """Postal code lower-cased without white space."""
    return pl.col(column).str.to_lowercase().str.replace_all(r"\s", "")


def _tiktok_email(column: str) -> pl.Expr:
    """`first.last+news@example.fi` → `firstlast@example.fi`: the user name without its "+tag"
    and without dots (the domain as it is)."""
    parts = pl.col(column).str.splitn("@", 2)
    user = parts.struct.field("field_0").str.replace(r"\+.*$", "").str.replace_all(".", "", literal=True)
    return pl.concat_str([user, pl.lit("@"), parts.struct.field("field_1")])


def _country_lower() -> pl.Expr:
    return pl.col("country").str.to_lowercase()


@dataclass(frozen=True)
class Platform:
    name: str
    columns: tuple[tuple[str, pl.Expr], ...]  # (header, value): the file's columns in order

    @property
    def file(self) -> str:
        return f"audience-{self.name}.csv"

    @property
    def removal_file(self) -> str:
        return f"audience-{self.name}-remove.csv"

    def rows(self, members: pl.DataFrame) -> pl.DataFrame:
        """The platform's file of `members`, every column text (an empty cell where a value is
        missing); a member with nothing the platform matches on (LinkedIn: no e-mail) is left out."""
        rows = members.select(value.cast(pl.String).alias(header) for header, value in self.columns)
        return rows.filter(~pl.all_horizontal(pl.all().is_null()))


PLATFORMS: dict[str, Platform] = {platform.name: platform for platform in (
    # Meta: every identifier hashed; the phone as digits with the country code, no "+".
    Platform("meta", (
        ("email", _hashed(pl.col("email"))),
        ("phone", _hashed(_digits("phone"))),
        ("fn", _hashed(_name_letters("first_name"))),
        ("ln", _hashed(_name_letters("last_name"))),
        ("zip", _hashed(_postal("postal_code"))),
        ("country", _hashed(_country_lower())),
    )),
    # Google Customer Match: e-mail, phone (E.164 with "+") and names hashed; country and zip plain.
    Platform("google", (
        ("Email", _hashed(pl.col("email"))),
        ("Phone", _hashed(pl.col("phone"))),
        ("First Name", _hashed(_name_letters("first_name"))),
        ("Last Name", _hashed(_name_letters("last_name"))),
        ("Country", pl.col("country")),
        ("Zip", pl.col("postal_code")),
    )),
    # LinkedIn Matched Audiences: the e-mail only.
    Platform("linkedin", (
        ("email", _hashed(pl.col("email"))),
    )),
    # TikTok customer file: pre-hashed columns have their own headers; the e-mail's user name
    # without a "+tag" and without dots, as TikTok's ID format list asks; the phone as digits.
    Platform("tiktok", (
        ("Email_SHA256", _hashed(_tiktok_email("email"))),
        ("Phone_SHA256", _hashed(_digits("phone"))),
    )),
    # Snapchat Snap Audience Match: e-mail and phone hashed; the phone as digits with the country code.
    Platform("snapchat", (
        ("email", _hashed(pl.col("email"))),
        ("phone", _hashed(_digits("phone"))),
    )),
)}


@dataclass(frozen=True)
class AudienceFiles:
    """One platform's files: its rows, and the rows to remove (None: no previous run to compare with)."""

    platform: Platform
    rows: pl.DataFrame
    removals: pl.DataFrame | None


def members(contacts: pl.DataFrame, sendable_cix: pl.Series) -> pl.DataFrame:
    """The social channel's sendable customers with what the platforms match on: the valid
    e-mail as normalized, the E.164 phone (null when not valid), names, postal code, city, country."""
    return contacts.select(
        "customer_id",
        email=pl.when(pl.col("email_valid")).then(pl.col("email_norm")),
        phone=pl.col("phone_e164"),
        first_name=pl.col("first_name"),
        last_name=pl.col("last_name"),
        postal_code=pl.col("postal_code"),
        city=pl.col("city"),
        country=pl.col("country").cast(pl.String),
    )[sendable_cix]


def previous_rows(run_dir: Path, platform: Platform) -> pl.DataFrame | None:
    """The platform's file of the run in `run_dir` (its rows as text); None when there is no
    previous run there. A previous run without this platform's file had no members on it."""
    if not (run_dir / "manifest.json").is_file():
        return None
    path = run_dir / platform.file
    headers = [header for header, _ in platform.columns]
    if not path.is_file():
        return pl.DataFrame(schema=dict.fromkeys(headers, pl.String))
    try:
        rows = pl.read_csv(path, infer_schema=False)  # an empty cell is null, as in the new rows
    except (pl.exceptions.PolarsError, OSError):
        raise InputError([Problem(file=platform.file, message="the previous run's file cannot be read, so "
                                                              "its removals cannot be found")]) from None
    if rows.columns != headers:
        raise InputError([Problem(file=platform.file, line=1, message="the previous run's file has other columns "
                                  f"than {', '.join(headers)}, so its removals cannot be found; remove its "
                                  "members on the platform by hand, then delete the file")])
    return rows


def removals(previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """The previous file's rows that are not in the current one, once each, in the previous order."""
    return previous.unique(maintain_order=True).join(current, on=current.columns, how="anti", nulls_equal=True,
                                                     maintain_order="left")


def audience_files(platforms: tuple[str, ...], contacts: pl.DataFrame, sendable_cix: pl.Series,
                   previous_run: Path) -> list[AudienceFiles]:
    """Each platform's rows and, against the run in `previous_run` if there is one, its removals."""
    on_social = members(contacts, sendable_cix)
    made = []
    for name in platforms:
        platform = PLATFORMS[name]
        rows = platform.rows(on_social)
        previous = previous_rows(previous_run, platform)
        made.append(AudienceFiles(platform, rows, None if previous is None else removals(previous, rows)))
    return made


def summary_of(files: list[AudienceFiles]) -> dict:
    """summary.json's `audiences`: per platform its file and rows, and its removal file and rows
    (null without a previous run: then no removal file is written)."""
    return {
        "previous_run": any(f.removals is not None for f in files),
        "platforms": {
            f.platform.name: {
                "file": f.platform.file, "rows": f.rows.height,
                "removal_file": f.platform.removal_file if f.removals is not None else None,
                "removals": f.removals.height if f.removals is not None else None,
            } for f in files
        },
    }
