"""The campaign config: one loader that checks every key and returns one frozen object.

Every problem is collected first and reported together (exit 2), so a marketer fixes the
config in one round instead of one error at a time.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .datetimes import HELSINKI, parse_date, parse_datetime
from .errors import QUERY_LABEL, ConfigError, Problem, shown

CHANNELS = ("email", "sms", "phone", "post", "social")
PURPOSES = ("marketing", "service", "survey", "contract", "legal")
LIST_PURPOSES = ("marketing", "service", "survey")
SEGMENTS = ("private", "business")
LIST_KINDS = ("internal", "robinson", "telemarketing", "custom")
FORMATS = ("csv", "parquet")
# Ad platforms whose upload files [output].audiences may ask for (contract section 12).
PLATFORMS = ("meta", "google", "linkedin", "tiktok", "snapchat")
ENCODINGS = ("utf-8", "cp1252")

# Names of campaigns, programs, lists and caps: they become folder and file names, so none can be
# `.` or `..` (contract section 2).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
NAME_RULE = "[A-Za-z0-9][A-Za-z0-9._-]*: a letter or digit first, then letters, digits, . _ -"

KIND_DEFAULT_CHANNELS = {
    "internal": CHANNELS,
    "robinson": ("phone", "post"),
    "telemarketing": ("phone", "post"),
    "custom": None,
}
KIND_DEFAULT_MAX_AGE = {"internal": None, "robinson": 30, "telemarketing": 30, "custom": None}
KINDS_NEEDING_LIST_DATE = ("robinson", "telemarketing")

ALLOWED_KEYS = {
    "": {"campaign", "inputs", "suppressions", "pressure", "arbitration", "output"},
    "campaign": {
        "name", "purpose", "product_group", "channels", "segments", "business_roles",
        "as_of", "holdout_percent", "dedupe", "minimum_age",
    },
    "inputs": {"customers", "consents", "holdings", "contact_history"},
    "pressure": {"name", "max_contacts", "window_days", "channels", "purposes", "same_campaign"},
    "arbitration": {"order"},
    "suppressions": {"name", "kind", "path", "list_date", "channels", "purposes", "max_age_days"},
    "output": {"dir", "format", "audiences"},
    "path entry": {"path", "encoding", "sheet"},
    "query entry": {"query", "uri_env"},
}


@dataclass(frozen=True)
class FileSpec:
    """A file named in the config, resolved against the config's folder."""

    path: Path
    encoding: str = "utf-8"
    sheet: str | None = None  # an Excel workbook's sheet; None: the first
    # A database query instead of a file (contract section 13): the SQL, and the environment
    # variable holding the connection URI; `path` is then only the name messages give it.
    query: str | None = None
    uri_env: str | None = None


@dataclass(frozen=True)
class SuppressionList:
    name: str
    kind: str
    file: FileSpec
    list_date: dt.date | None
    channels: tuple[str, ...]
    purposes: tuple[str, ...]
    max_age_days: int | None

    def applies_to(self, campaign_channels: tuple[str, ...], purpose: str) -> bool:
        """A list applies when its channels and purposes meet the campaign's."""
        return purpose in self.purposes and any(c in campaign_channels for c in self.channels)

    def age_days(self, as_of_date: dt.date) -> int | None:
        return None if self.list_date is None else (as_of_date - self.list_date).days

    def is_stale(self, as_of_date: dt.date) -> bool:
        age = self.age_days(as_of_date)
        return self.max_age_days is not None and age is not None and age > self.max_age_days


@dataclass(frozen=True)
class PressureCap:
    """A contact-pressure cap: at most `max_contacts` contacts within `window_days`, counted over
    the contact history's rows of its channels and purposes (of this campaign only, with
    `same_campaign`)."""

    name: str
    max_contacts: int
    window_days: int
    channels: tuple[str, ...]
    purposes: tuple[str, ...]
    same_campaign: bool

    def applies_to(self, purpose: str, channel: str) -> bool:
        return purpose in self.purposes and channel in self.channels


@dataclass(frozen=True)
class Config:
    """Everything a build needs to know, resolved and checked."""

    path: Path
    name: str
    purpose: str
    product_group: str | None
    channels: tuple[str, ...]
    segments: tuple[str, ...]
    business_roles: tuple[str, ...]
    as_of: dt.datetime
    as_of_given: bool
    holdout_percent: float
    dedupe: bool
    customers: FileSpec
    consents: FileSpec
    holdings: FileSpec | None
    suppressions: tuple[SuppressionList, ...]
    output_dir: Path
    output_format: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    minimum_age: int = 15
    contact_history: FileSpec | None = None
    pressure: tuple[PressureCap, ...] = ()
    # [arbitration].order: the campaign channels arbitrated, most preferred first; () without it.
    arbitration: tuple[str, ...] = ()
    # [output].audiences: the platforms that get an upload file of the social channel; () without it.
    audiences: tuple[str, ...] = ()

    def applying_cap_indexes(self, channel: str) -> tuple[int, ...]:
        """The positions in `pressure` of the caps that count on this campaign channel (contract and
        legal are never capped): a cap's index is how the cap facts name it."""
        if self.purpose not in LIST_PURPOSES:
            return ()
        return tuple(i for i, cap in enumerate(self.pressure) if cap.applies_to(self.purpose, channel))

    def counting_cap_indexes(self) -> tuple[int, ...]:
        """The caps that apply on at least one campaign channel: only the history rows they count matter."""
        return tuple(sorted({i for channel in self.channels for i in self.applying_cap_indexes(channel)}))

    def applying_caps(self, channel: str) -> tuple[PressureCap, ...]:
        return tuple(self.pressure[i] for i in self.applying_cap_indexes(channel))

    @property
    def as_of_date(self) -> dt.date:
        """The Europe/Helsinki calendar date of `as_of`, used wherever rules compare dates."""
        return self.as_of.astimezone(HELSINKI).date()

    def applying_lists(self) -> tuple[SuppressionList, ...]:
        return tuple(s for s in self.suppressions if s.applies_to(self.channels, self.purpose))

    def skipped_lists(self) -> tuple[SuppressionList, ...]:
        return tuple(s for s in self.suppressions if not s.applies_to(self.channels, self.purpose))

    def resolved(self) -> dict[str, Any]:
        """The config as the build used it, for the manifest."""

        def file_entry(spec: FileSpec | None) -> Any:
            if spec is None:
                return None
            if spec.query is not None:  # the URI itself is never written down: only its variable's name
                return {"query": spec.query, "uri_env": spec.uri_env}
            entry = {"path": str(spec.path), "encoding": spec.encoding}
            return entry | ({"sheet": spec.sheet} if spec.sheet is not None else {})

        return {
            "campaign": {
                "name": self.name,
                "purpose": self.purpose,
                "product_group": self.product_group,
                "channels": list(self.channels),
                "segments": list(self.segments),
                "business_roles": list(self.business_roles),
                "as_of": self.as_of.isoformat(),
                "holdout_percent": self.holdout_percent,
                "dedupe": self.dedupe,
                "minimum_age": self.minimum_age,
            },
            "inputs": {
                "customers": file_entry(self.customers),
                "consents": file_entry(self.consents),
                "holdings": file_entry(self.holdings),
                "contact_history": file_entry(self.contact_history),
            },
            "suppressions": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    **({"query": s.file.query, "uri_env": s.file.uri_env} if s.file.query is not None
                       else {"path": str(s.file.path), "encoding": s.file.encoding}),
                    **({"sheet": s.file.sheet} if s.file.sheet is not None else {}),
                    "list_date": s.list_date.isoformat() if s.list_date else None,
                    "channels": list(s.channels),
                    "purposes": list(s.purposes),
                    "max_age_days": s.max_age_days,
                    "applies": s.applies_to(self.channels, self.purpose),
                }
                for s in self.suppressions
            ],
            "pressure": [
                {"name": cap.name, "max_contacts": cap.max_contacts, "window_days": cap.window_days,
                 "channels": list(cap.channels), "purposes": list(cap.purposes),
                 "same_campaign": cap.same_campaign}
                for cap in self.pressure
            ],
            "arbitration": {"order": list(self.arbitration)} if self.arbitration else None,
            "output": {"dir": str(self.output_dir), "format": self.output_format,
                       "audiences": list(self.audiences)},
        }


def end_of_day(day: dt.date) -> dt.datetime:
    """A date `as_of` means the end of that day in Europe/Helsinki."""
    return dt.datetime.combine(day, dt.time(23, 59, 59, 999999), tzinfo=HELSINKI)


def parse_as_of(value: Any) -> dt.datetime:
    """A TOML date/datetime or a string in any date or datetime form of the inputs (ISO or
    Finnish, contract section 3); a date is the end of that day, naive times are Europe/Helsinki.
    Raises ValueError."""
    if isinstance(value, str):
        text = value.strip()
        day = _date_text(text)
        if day is not None:
            return end_of_day(day)
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return _datetime_text(text).astimezone(HELSINKI)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=HELSINKI) if value.tzinfo is None else value
    if isinstance(value, dt.date):
        return end_of_day(value)
    raise ValueError("not a date or datetime")


def parse_config_date(value: Any) -> dt.date:
    """A TOML date/datetime or a string in any date or datetime form of the inputs; a datetime
    counts by its Helsinki date. Raises ValueError."""
    if isinstance(value, dt.datetime):
        return value.astimezone(HELSINKI).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        day = _date_text(text)
        return day if day is not None else _datetime_text(text).astimezone(HELSINKI).date()
    raise ValueError("not a date")


def _date_text(text: str) -> dt.date | None:
    """A date as the input files write one (`2026-12-01`, `1.12.2026`); None for anything else."""
    try:
        return parse_date(pl.Series([text], dtype=pl.String)).item()
    except (ValueError, OverflowError):  # a year Python's dates cannot hold
        return None


def _datetime_text(text: str) -> dt.datetime:
    """A datetime as the input files write one (ISO 8601, Finnish `1.12.2026 14.05`; naive is
    Helsinki time), as a UTC instant. Raises ValueError."""
    try:
        instant = parse_datetime(pl.Series([text], dtype=pl.String)).item()
    except (ValueError, OverflowError):
        instant = None
    if instant is None:
        raise ValueError("not a date or datetime")
    return instant


class _Checker:
    """Collects config problems instead of stopping at the first."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(Problem(file=self.file, message=f"{key}: {message}"))

    def unknown_keys(self, table: dict, section: str, label: str) -> None:
        allowed = ALLOWED_KEYS[section]
        for key in table:
            if key not in allowed:
                where = f"{label}.{key}" if label else key
                self.fail(where, f"unknown key; allowed: {', '.join(sorted(allowed))}")

    def string(self, table: dict, key: str, label: str, *, required: bool = False,
               pattern: re.Pattern | None = None) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.fail(f"{label}.{key}", "required")
            return None
        if not isinstance(value, str):
            self.fail(f"{label}.{key}", f"must be a string, got {type(value).__name__}")
            return None
        if pattern is not None and not pattern.match(value):
            self.fail(f"{label}.{key}", f"must match {NAME_RULE} ({shown(value)!r})")
            return None
        return value

    def choice(self, table: dict, key: str, label: str, allowed: tuple[str, ...], *,
               required: bool = False) -> str | None:
        value = self.string(table, key, label, required=required)
        if value is not None and value not in allowed:
            self.fail(f"{label}.{key}", f"{value!r} is not one of: {', '.join(allowed)}")
            return None
        return value

    def choices(self, table: dict, key: str, label: str, allowed: tuple[str, ...], *,
                default: tuple[str, ...] | None, non_empty: bool = True) -> tuple[str, ...] | None:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{label}.{key}", f"must be a list of strings from: {', '.join(allowed)}")
            return None
        bad = [v for v in value if v not in allowed]
        if bad:
            self.fail(f"{label}.{key}", f"{', '.join(map(repr, bad))} not in: {', '.join(allowed)}")
            return None
        if len(set(value)) != len(value):
            self.fail(f"{label}.{key}", "lists a value twice")
            return None
        if non_empty and not value:
            self.fail(f"{label}.{key}", f"must not be empty; allowed: {', '.join(allowed)}")
            return None
        return tuple(v for v in allowed if v in value)

    def boolean(self, table: dict, key: str, label: str, *, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{label}.{key}", f"must be true or false ({value!r})")
            return default
        return value

    def whole_number(self, table: dict, key: str, label: str, *, default: int, minimum: int,
                     maximum: int | None = None, required: bool = False) -> int:
        span = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        if key not in table:
            if required:
                self.fail(f"{label}.{key}", f"required; a whole number, {span}")
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
                maximum is not None and value > maximum):
            self.fail(f"{label}.{key}", f"must be a whole number, {span} ({value!r})")
            return default
        return value

    def named_tables(self, entries: Any, array: str, noun: str) -> Iterator[tuple[dict, str | None, str]]:
        """Each table of the array `[[array]]` with its name (checked: pattern, unique) and the label
        its problems are reported under: `array[name]`, or `array[index]` when it has no name."""
        if not isinstance(entries, list):
            self.fail(array, f"must be an array of tables ([[{array}]])")
            return
        seen: set[str] = set()
        for index, entry in enumerate(entries, start=1):
            label = f"{array}[{index}]"
            if not isinstance(entry, dict):
                self.fail(label, "must be a table")
                continue
            self.unknown_keys(entry, array, label)
            name = self.string(entry, "name", label, required=True, pattern=NAME_PATTERN)
            if name is not None:
                label = f"{array}[{name}]"
                if name in seen:
                    self.fail(label, f"name is used by another {noun}; names must be unique")
                seen.add(name)
            yield entry, name, label

    def file_spec(self, value: Any, key: str, base: Path, role: str) -> FileSpec | None:
        """A path, a { path, encoding, sheet } entry or a { query, uri_env } entry; `role` names
        a query in messages (`customers (query)`)."""
        if isinstance(value, dict) and "query" in value:
            self.unknown_keys(value, "query entry", key)
            query = self.string(value, "query", key, required=True)
            uri_env = self.string(value, "uri_env", key, required=True)
            if query is not None and not query.strip():
                self.fail(f"{key}.query", "must not be empty")
                return None
            if uri_env is not None and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", uri_env):
                self.fail(f"{key}.uri_env", "must be the name of an environment variable ([A-Za-z_][A-Za-z0-9_]*)")
                return None
            if query is None or uri_env is None:
                return None
            return FileSpec(path=Path(f"{role}{QUERY_LABEL}"), query=query, uri_env=uri_env)
        sheet = None
        if isinstance(value, str):
            path, encoding = value, "utf-8"
        elif isinstance(value, dict):
            self.unknown_keys(value, "path entry", key)
            path = self.string(value, "path", key, required=True)
            encoding = self.choice(value, "encoding", key, ENCODINGS) or "utf-8"
            sheet = self.string(value, "sheet", key)
            if path is None:
                return None
        else:
            self.fail(key, 'must be a path string, { path = "...", encoding = "cp1252" } or '
                           '{ path = "book.xlsx", sheet = "Name" }')
            return None
        if not path.strip():
            self.fail(key, "must not be empty")
            return None
        if sheet is not None and not path.lower().endswith(".xlsx"):
            self.fail(f"{key}.sheet", "is for an Excel workbook (.xlsx) only")
            return None
        return FileSpec(path=(base / path).resolve(), encoding=encoding, sheet=sheet)


def load_config(path: str | Path, *, out: str | Path | None = None, as_of: str | None = None,
                output_format: str | None = None) -> Config:
    """Read and check the campaign config; command-line overrides win over the file."""
    config_path = Path(path)
    label = str(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(file=label, message="config file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(file=label, message=f"cannot read config: {exc.__class__.__name__}")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem(file=label, message=f"not valid TOML: {exc}")]) from None

    check = _Checker(label)
    base = config_path.resolve().parent
    check.unknown_keys(data, "", "")
    for section in ("campaign", "inputs", "output"):
        if section in data and not isinstance(data[section], dict):
            check.fail(section, "must be a table")
            data[section] = {}
    campaign = data.get("campaign", {})
    if "campaign" not in data:
        check.fail("campaign", "required table is missing")
    check.unknown_keys(campaign, "campaign", "campaign")

    name = check.string(campaign, "name", "campaign", required=True, pattern=NAME_PATTERN)
    purpose = check.choice(campaign, "purpose", "campaign", PURPOSES, required=True)
    product_group = check.string(campaign, "product_group", "campaign")
    if product_group is not None:
        product_group = product_group.strip().lower() or None
    if "channels" not in campaign:
        check.fail("campaign.channels", f"required; a non-empty list from: {', '.join(CHANNELS)}")
    channels = check.choices(campaign, "channels", "campaign", CHANNELS, default=())
    segments = check.choices(campaign, "segments", "campaign", SEGMENTS, default=SEGMENTS)
    business_roles: tuple[str, ...] = ()
    roles_value = campaign.get("business_roles", [])
    if not isinstance(roles_value, list) or not all(isinstance(r, str) for r in roles_value):
        check.fail("campaign.business_roles", "must be a list of strings")
    else:
        business_roles = tuple(sorted({r.strip().lower() for r in roles_value if r.strip()}))

    as_of_value = as_of if as_of is not None else campaign.get("as_of")
    as_of_given = as_of_value is not None
    as_of_time = dt.datetime.now(HELSINKI)
    if as_of_given:
        try:
            as_of_time = parse_as_of(as_of_value)
        except ValueError:
            where = "--as-of" if as_of is not None else "campaign.as_of"
            check.fail(where, "must be a date (2026-12-01 or 1.12.2026) or a datetime (2026-12-01T14:05:00 or "
                              f"1.12.2026 14.05) ({shown(str(as_of_value))})")

    holdout = campaign.get("holdout_percent", 0)
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0 <= holdout <= 100:
        check.fail("campaign.holdout_percent", f"must be a number from 0 to 100 ({holdout!r})")
        holdout = 0
    dedupe = check.boolean(campaign, "dedupe", "campaign", default=True)
    minimum_age = check.whole_number(campaign, "minimum_age", "campaign", default=15, minimum=0, maximum=120)

    inputs = data.get("inputs", {})
    if "inputs" not in data:
        check.fail("inputs", "required table is missing")
    check.unknown_keys(inputs, "inputs", "inputs")
    files: dict[str, FileSpec | None] = {}
    for key in ("customers", "consents", "holdings", "contact_history"):
        if key in inputs:
            files[key] = check.file_spec(inputs[key], f"inputs.{key}", base, key)
        else:
            files[key] = None
            if key in ("customers", "consents"):
                check.fail(f"inputs.{key}", "required")

    suppressions = _load_suppressions(data.get("suppressions", []), check, base)
    pressure = _load_pressure(data.get("pressure", []), check)
    if pressure and "contact_history" not in inputs:
        check.fail("inputs.contact_history", "required when [[pressure]] caps are given (they count its rows)")
    arbitration = _load_arbitration(data.get("arbitration"), check, channels or ())

    output = data.get("output", {})
    check.unknown_keys(output, "output", "output")
    out_format = check.choice(output, "format", "output", FORMATS) or "csv"
    if output_format is not None:
        if output_format not in FORMATS:
            check.fail("--format", f"{output_format!r} is not one of: {', '.join(FORMATS)}")
        else:
            out_format = output_format
    out_dir_value = check.string(output, "dir", "output")
    audiences = check.choices(output, "audiences", "output", PLATFORMS, default=(), non_empty=False) or ()
    if audiences and channels and "social" not in channels:
        check.fail("output.audiences", "the platform files list the social channel's customers: "
                                       "add \"social\" to campaign.channels or remove output.audiences")
    if out is not None:
        output_dir = Path(out).resolve()
    elif out_dir_value:
        output_dir = (base / out_dir_value).resolve()
    else:
        output_dir = (base / "out" / (name or "campaign")).resolve()

    if check.problems:
        raise ConfigError(check.problems)
    return Config(
        path=config_path.resolve(),
        name=name,
        purpose=purpose,
        product_group=product_group,
        channels=channels,
        segments=segments,
        business_roles=business_roles,
        as_of=as_of_time,
        as_of_given=as_of_given,
        holdout_percent=float(holdout),
        dedupe=dedupe,
        customers=files["customers"],
        consents=files["consents"],
        holdings=files["holdings"],
        suppressions=suppressions,
        output_dir=output_dir,
        output_format=out_format,
        raw=data,
        minimum_age=minimum_age,
        contact_history=files["contact_history"],
        pressure=pressure,
        arbitration=arbitration,
        audiences=audiences,
    )


def _load_pressure(entries: Any, check: _Checker) -> tuple[PressureCap, ...]:
    caps: list[PressureCap] = []
    for entry, name, label in check.named_tables(entries, "pressure", "cap"):
        max_contacts = check.whole_number(entry, "max_contacts", label, required=True, default=1, minimum=1)
        window_days = check.whole_number(entry, "window_days", label, required=True, default=1, minimum=1)
        channels = check.choices(entry, "channels", label, CHANNELS, default=CHANNELS)
        purposes_value = entry.get("purposes")
        capped = [p for p in purposes_value if p in ("contract", "legal")] if isinstance(purposes_value, list) else []
        if capped:
            check.fail(f"{label}.purposes", f"{', '.join(map(repr, capped))}: contract and legal letters are never "
                                            f"capped; allowed: {', '.join(LIST_PURPOSES)}")
            purposes = None
        else:
            purposes = check.choices(entry, "purposes", label, LIST_PURPOSES, default=("marketing",))
        same_campaign = check.boolean(entry, "same_campaign", label, default=False)
        if name and channels and purposes:
            caps.append(PressureCap(name=name, max_contacts=max_contacts, window_days=window_days,
                                    channels=channels, purposes=purposes, same_campaign=same_campaign))
    return tuple(caps)


def _load_arbitration(table: Any, check: _Checker, campaign_channels: tuple[str, ...]) -> tuple[str, ...]:
    """[arbitration].order in its own order (most preferred first), each a campaign channel, once."""
    if table is None:
        return ()
    if not isinstance(table, dict):
        check.fail("arbitration", "must be a table")
        return ()
    check.unknown_keys(table, "arbitration", "arbitration")
    order = table.get("order")
    allowed = ", ".join(campaign_channels)
    if order is None:
        check.fail("arbitration.order", f"required; a list of campaign channels, most preferred first: {allowed}")
        return ()
    if not isinstance(order, list) or not all(isinstance(c, str) for c in order) or not order:
        check.fail("arbitration.order", f"must be a non-empty list of campaign channels: {allowed}")
        return ()
    bad = [c for c in order if c not in campaign_channels]
    if bad:
        check.fail("arbitration.order", f"{', '.join(map(repr, bad))} not a campaign channel; allowed: {allowed}")
        return ()
    if len(set(order)) != len(order):
        check.fail("arbitration.order", "names a channel twice")
        return ()
    return tuple(order)


def _load_suppressions(entries: Any, check: _Checker, base: Path) -> tuple[SuppressionList, ...]:
    lists: list[SuppressionList] = []
    for entry, name, label in check.named_tables(entries, "suppressions", "list"):
        kind = check.choice(entry, "kind", label, LIST_KINDS, required=True)
        file = None
        if "path" not in entry:
            check.fail(f"{label}.path", "required")
        else:
            file = check.file_spec(entry["path"], f"{label}.path", base, f"list {name}")
        list_date = None
        if "list_date" in entry:
            try:
                list_date = parse_config_date(entry["list_date"])
            except ValueError:
                check.fail(f"{label}.list_date", f"must be a date such as 2026-11-15 or 15.11.2026 "
                                                 f"({shown(str(entry['list_date']))})")
        elif kind in KINDS_NEEDING_LIST_DATE:
            check.fail(f"{label}.list_date", f"required for kind {kind} (the day the list was extracted)")
        default_channels = KIND_DEFAULT_CHANNELS.get(kind or "", CHANNELS)
        if kind == "custom" and "channels" not in entry:
            check.fail(f"{label}.channels", f"required for kind custom; a list from: {', '.join(CHANNELS)}")
        channels = check.choices(entry, "channels", label, CHANNELS, default=default_channels)
        purposes = check.choices(entry, "purposes", label, LIST_PURPOSES, default=("marketing",))
        max_age = entry.get("max_age_days", KIND_DEFAULT_MAX_AGE.get(kind or ""))
        if "max_age_days" in entry and (
            isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0
        ):
            check.fail(f"{label}.max_age_days", f"must be a whole number of days, 0 or more ({max_age!r})")
            max_age = None
        if max_age is not None and list_date is None and "list_date" not in entry:
            if kind not in KINDS_NEEDING_LIST_DATE:
                check.fail(f"{label}.list_date", "required when max_age_days is set (the day the list was extracted)")
        if name and kind and file and channels and purposes:
            lists.append(SuppressionList(
                name=name, kind=kind, file=file, list_date=list_date,
                channels=channels, purposes=purposes, max_age_days=max_age,
            ))
    return tuple(lists)
