#!/usr/bin/env python3
"""The peer: the campaign contract (CONTRACT.md sections 3-7) as DuckDB SQL, the way a data
engineer would write it without audiencecli.

    .venv/bin/python bench/peer_duckdb.py CONFIG OUT_DIR [--threads N] [--memory-limit 16GB]

Reads the inputs with read_csv/read_parquet, resolves consents with arg_max, applies R1-R11 and R13 with
CASE expressions, dedupes (R15) with a window, and writes the channel files, `exclusions`,
`summary.json` and a `manifest.json` with the SHA-256 of every input and output, in the config's
output format (CSV or Parquet), sorted by customer_id, into OUT_DIR (built beside it and renamed
into place). It exists to be measured against `audience build` (bench/run.py) and to cross-check
its decisions (bench/compare.py); it is not part of the product.

Where it knowingly differs from the contract (none of these occur in `audience sample` data):
- phones: DuckDB has no libphonenumber. A SQL regex settles the common Finnish spellings
  (`+358…`, `00358…`, `0…` with region FI, separators ` ().-/`) whose national number matches
  exactly one of libphonenumber's own FI patterns, mobile `(4[0-8]|50)\\d{4,8}` or fixed line;
  everything else (foreign numbers, Åland, invalid or odd spellings) goes to a Python UDF
  calling `phonenumbers`, once per distinct (value, region).
- name-and-address key: `lower()` instead of full Unicode case folding (ß, ς, ﬁ, … stay as they
  are; `str.casefold` would expand them). RE2's `\\s` is ASCII only, so white space is spelled
  `[\\t\\n\\x0b\\f\\r\\x{85}\\p{Z}]` (Unicode White_Space) here and in the email rule.
- DST: a local time in the repeated autumn hour is read as the earlier instant (as the build
  does) by an explicit correction, since ICU picks the later one.
- CSV encodings: UTF-8 only (a cp1252 entry is read as latin-1); validation is a count of the
  errors the contract names for the parts of the data it reads (exit 3), without FILE:LINE
  messages.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import phonenumbers
import pyarrow as pa

from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# Only the contract's file layouts come from the product, so the two never disagree on a column;
# every rule below is the peer's own SQL.
from audiencecli.sources import CONSENT_COLUMNS, CUSTOMER_COLUMNS, HOLDING_COLUMNS, LIST_COLUMNS
from audiencecli.facts import CHANNEL_COLUMNS

HELSINKI = ZoneInfo("Europe/Helsinki")
CHANNELS = ("email", "sms", "phone", "post", "social")
ALL_PURPOSES = ("marketing", "service", "survey", "contract", "legal")
CONSENT_PURPOSES = ("marketing", "service", "survey")
KIND_ORDER = ("internal", "robinson", "telemarketing", "custom")
KIND_CODE = {"internal": "internal_prohibition", "robinson": "robinson_register",
             "telemarketing": "telemarketing_prohibition", "custom": "suppression_list"}
KIND_CHANNELS = {"internal": CHANNELS, "robinson": ("phone", "post"), "telemarketing": ("phone", "post")}
KIND_MAX_AGE = {"internal": None, "robinson": 30, "telemarketing": 30, "custom": None}


# libphonenumber's FI metadata (phonenumbers 9.0): the national-number patterns of the two types
# the fast path settles. Each matches no other FI type, lies inside FI's general pattern and FI's
# leading digits (not Åland's 18), so a number matching one of them is valid and of that type.
FI_MOBILE = r"(?:4[0-8]|50)[0-9]{4,8}"
FI_FIXED = r"1[3-7][1-8][0-9]{3,6}|(?:19[1-8]|[23568][1-8][0-9]|9(?:00|[1-8][0-9]))[0-9]{2,6}"
EMAIL_VALID = r"^[^@\t\n\x0b\f\r\x{85}\p{Z}]+@(?:[\p{L}0-9](?:[\p{L}0-9-]*[\p{L}0-9])?\.)+\p{L}{2,}$"
SEP = "','"  # between the parts of a key: punctuation never survives in a part, as in the build
TRUE_WORDS = ("true", "1", "yes", "y", "kyllä", "ja")
FALSE_WORDS = ("false", "0", "no", "n", "ei", "nej")


class PeerError(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def qlist(values) -> str:
    return "(" + ", ".join(q(v) for v in values) + ")" if values else "(NULL)"


# ---------------------------------------------------------------------------------------------
# Config (only what the rules need; the product's config checks are not repeated)

def _as_of(value) -> dt.datetime:
    if value is None:
        return dt.datetime.now(HELSINKI)
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            value = dt.date.fromisoformat(value.strip())
        else:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=HELSINKI)
    return dt.datetime.combine(value, dt.time(23, 59, 59, 999999), tzinfo=HELSINKI)


def _date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.date.fromisoformat(value.strip()[:10])
    if isinstance(value, dt.datetime):
        return value.astimezone(HELSINKI).date() if value.tzinfo else value.date()
    return value


def _file(entry, base: Path) -> tuple[Path, str]:
    if isinstance(entry, dict):
        return (base / entry["path"]).resolve(), entry.get("encoding", "utf-8")
    return (base / entry).resolve(), "utf-8"


def load_config(path: Path) -> dict:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    base = path.parent
    camp = raw["campaign"]
    channels = tuple(c for c in CHANNELS if c in camp["channels"])
    purpose = camp["purpose"]
    as_of = _as_of(camp.get("as_of"))
    lists = []
    for entry in raw.get("suppressions", []):
        kind = entry["kind"]
        spec = {
            "name": entry["name"], "kind": kind, "file": _file(entry["path"], base),
            "list_date": _date(entry.get("list_date")),
            "channels": tuple(entry.get("channels", KIND_CHANNELS.get(kind, CHANNELS))),
            "purposes": tuple(entry.get("purposes", ("marketing",))),
            "max_age_days": entry.get("max_age_days", KIND_MAX_AGE[kind]),
        }
        spec["applies"] = purpose in spec["purposes"] and any(c in channels for c in spec["channels"])
        lists.append(spec)
    if raw.get("pressure") or raw.get("arbitration"):
        raise PeerError("the peer does not implement [[pressure]] or [arbitration]; give it the campaign "
                        "without them (bench/run.py writes one)", 2)
    inputs = raw["inputs"]
    output = raw.get("output", {})
    return {
        "name": camp["name"], "purpose": purpose, "product_group": (camp.get("product_group") or None),
        "channels": channels, "segments": tuple(camp.get("segments", ("private", "business"))),
        "business_roles": tuple(r.lower() for r in camp.get("business_roles", ())),
        "as_of": as_of, "as_of_date": as_of.astimezone(HELSINKI).date(),
        "holdout_percent": float(camp.get("holdout_percent", 0)), "dedupe": bool(camp.get("dedupe", True)),
        "minimum_age": int(camp.get("minimum_age", 15)),
        "customers": _file(inputs["customers"], base), "consents": _file(inputs["consents"], base),
        "holdings": _file(inputs["holdings"], base) if inputs.get("holdings") else None,
        "lists": lists, "format": output.get("format", "csv"),
    }


# ---------------------------------------------------------------------------------------------
# Reading: every value as trimmed text, empty = NULL, header names matched case-insensitively

def _source(con: duckdb.DuckDBPyConnection, path: Path, encoding: str) -> tuple[str, list[str]]:
    """(FROM clause, normalized column names in file order)."""
    if path.suffix.lower() == ".parquet":
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({q(str(path))})").fetchall()]
        normalized = [n.strip().lstrip("\ufeff").strip().lower() for n in names]
        cols = ", ".join(f"CAST({_ident(n)} AS VARCHAR) AS {_ident(m)}" for n, m in zip(names, normalized))
        return f"(SELECT {cols} FROM read_parquet({q(str(path))}))", normalized
    with path.open("rb") as handle:
        first = handle.readline()
    header = first.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    sep = max([",", ";", "\t"], key=header.count)
    names = [h.strip().lstrip("\ufeff").strip().lower() for h in next(csv.reader([header], delimiter=sep))]
    enc = "utf-8" if encoding == "utf-8" else "latin-1"
    columns_sql = "{" + ", ".join(f"{q(n or f'column{i}')}: 'VARCHAR'" for i, n in enumerate(names)) + "}"
    return (f"read_csv({q(str(path))}, header = true, delim = {q(sep)}, quote = '\"', escape = '\"', "
            f"columns = {columns_sql}, encoding = {q(enc)}, auto_detect = false)"), names


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_table(con, name: str, file: tuple[Path, str], known: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
    path, encoding = file
    if not path.exists():
        raise PeerError(f"{path}: file not found", 3)
    source, names = _source(con, path, encoding)
    missing = [c for c in required if c not in names]
    if missing:
        raise PeerError(f"{path}: required column(s) missing: {', '.join(missing)}", 3)
    cols = ", ".join(f"clean({_ident(c)}) AS {c}" if c in names else f"CAST(NULL AS VARCHAR) AS {c}" for c in known)
    con.execute(f"CREATE TEMP VIEW {name} AS SELECT {cols} FROM {source}")
    return names


# ---------------------------------------------------------------------------------------------
# Phones

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def _parse_phone(raw: str, region: str) -> dict:
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return {"e164": None, "mobile": None, "problem": "unparseable"}
    if not phonenumbers.is_valid_number(number):
        return {"e164": None, "mobile": None, "problem": "not a valid number"}
    return {"e164": phonenumbers.format_number(number, PhoneNumberFormat.E164),
            "mobile": phonenumbers.number_type(number) in _MOBILE_TYPES, "problem": None}


def create_phone_table(con, sources: list[str]) -> None:
    """phones(raw, region, e164, mobile, problem) for every distinct (raw, region) of `sources`."""
    union = " UNION ".join(sources)
    con.execute(f"""
        CREATE TEMP TABLE phone_fast AS
        WITH p AS (SELECT DISTINCT raw, region FROM ({union}) WHERE raw IS NOT NULL),
        s AS (SELECT raw, region, regexp_replace(raw, '[ ().\\-/]', '', 'g') AS s FROM p),
        n AS (
            SELECT raw, region,
                CASE WHEN regexp_full_match(s, '\\+358[1-9][0-9]*') THEN substr(s, 5)
                     WHEN region = 'FI' AND regexp_full_match(s, '00358[1-9][0-9]*') THEN substr(s, 6)
                     WHEN region = 'FI' AND regexp_full_match(s, '0[1-9][0-9]*') THEN substr(s, 2)
                END AS nsn
            FROM s)
        SELECT raw, region,
            CASE WHEN regexp_full_match(nsn, '{FI_MOBILE}') THEN true
                 WHEN regexp_full_match(nsn, '{FI_FIXED}') THEN false END AS mobile,
            nsn
        FROM n
    """)
    # The leftovers go through `phonenumbers` in Python, once per distinct (value, region), and come
    # back as an Arrow table. (DuckDB's Python UDFs would do the same per value, but need numpy.)
    leftovers = con.execute("SELECT raw, region FROM phone_fast WHERE mobile IS NULL").fetchall()
    parsed = [_parse_phone(r, g) for r, g in leftovers]
    library = pa.table({
        "raw": pa.array([r for r, _ in leftovers], pa.string()),
        "region": pa.array([g for _, g in leftovers], pa.string()),
        "e164": pa.array([p["e164"] for p in parsed], pa.string()),
        "mobile": pa.array([p["mobile"] for p in parsed], pa.bool_()),
        "problem": pa.array([p["problem"] for p in parsed], pa.string()),
    })
    con.register("phone_library", library)
    con.execute("""
        CREATE TEMP TABLE phones AS
        SELECT raw, region, '+358' || nsn AS e164, mobile, CAST(NULL AS VARCHAR) AS problem
        FROM phone_fast WHERE mobile IS NOT NULL
        UNION ALL
        SELECT raw, region, e164, mobile, problem FROM phone_library
    """)
    con.unregister("phone_library")


# ---------------------------------------------------------------------------------------------
# The build

def setup(con) -> None:
    con.execute("SET TimeZone = 'Europe/Helsinki'")  # naive datetimes in the inputs are Helsinki time
    # The channels as an ENUM (in the contract's order, which is also the order of exclusions)
    con.execute(f"CREATE TYPE channel_t AS ENUM {qlist(CHANNELS)}")
    # Trim Unicode white space (Rust's and Python's White_Space: \p{Z} plus the controls). trim()
    # with a character list costs ~4x a plain trim, so it runs only where the regex finds some.
    ws = "".join(chr(c) for c in (9, 10, 11, 12, 13, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                                  0x2028, 0x2029, 0x202F, 0x205F, 0x3000))
    edge = r"[\t\n\x0b\f\r\x{85}\p{Z}]"
    con.execute(f"CREATE MACRO clean(x) AS CASE WHEN regexp_matches(x, '^{edge}|{edge}$') "
                f"THEN nullif(trim(x, {q(ws)}), '') ELSE nullif(x, '') END")
    # ISO dates, Finnish d.m.yyyy
    con.execute("CREATE MACRO parse_date(x) AS coalesce(try_strptime(x, '%Y-%m-%d'), "
                "try_strptime(x, '%d.%m.%Y'))::DATE")
    # ISO 8601 with or without offset (no offset = Helsinki: the session time zone), Finnish forms.
    # A local time in the repeated autumn hour is the earlier instant (ICU would take the later).
    con.execute("""
        CREATE MACRO local_ts(n) AS CASE
            WHEN month(n) = 10 AND hour(n) = 3
                 AND ((n::TIMESTAMPTZ - INTERVAL 1 HOUR) AT TIME ZONE 'Europe/Helsinki') = n
            THEN n::TIMESTAMPTZ - INTERVAL 1 HOUR ELSE n::TIMESTAMPTZ END
    """)
    con.execute("""
        CREATE MACRO parse_ts(x) AS CASE
            WHEN regexp_matches(x, '([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$') AND NOT regexp_matches(x, '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$')
                THEN try_cast(x AS TIMESTAMPTZ)
            ELSE local_ts(coalesce(
                try_cast(x AS TIMESTAMP),
                try_strptime(x, ['%d.%m.%Y %H.%M', '%d.%m.%Y %H.%M.%S', '%d.%m.%Y %H:%M', '%d.%m.%Y %H:%M:%S',
                                 '%d.%m.%Y klo %H.%M', '%d.%m.%Y klo %H.%M.%S', '%d.%m.%Y']))) END
    """)
    # The contract's name-and-address key part (lower() for case folding; see the module doc).
    con.execute("""
        CREATE MACRO key_part(x) AS nullif(trim(regexp_replace(regexp_replace(lower(nfc_normalize(x)),
            '\\p{P}', ' ', 'g'), '[\\t\\n\\x0b\\f\\r\\x{85}\\p{Z}]+', ' ', 'g')), '')
    """)
    con.execute("CREATE MACRO norm_email(x) AS nullif(lower(nfc_normalize(x)), '')")


def build(config: dict, out: Path, *, allow_stale: bool = False, threads: int | None = None,
          memory_limit: str | None = None, timings: dict | None = None) -> dict:
    """Write the run directory `out`; returns the summary. In-memory DuckDB; what does not fit in
    memory_limit spills to a temporary folder (removed at the end), not to DuckDB's default .tmp
    in the working directory."""
    con = duckdb.connect()
    spill = tempfile.mkdtemp(prefix="peer-duckdb-")
    try:
        con.execute(f"SET temp_directory = {q(spill)}")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            con.execute(f"SET memory_limit = {q(memory_limit)}")
        con.execute("SET preserve_insertion_order = false")
        setup(con)
        return _build(con, config, out, allow_stale=allow_stale, timings={} if timings is None else timings)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _build(con, config: dict, out: Path, *, allow_stale: bool, timings: dict) -> dict:
    started = dt.datetime.now(dt.timezone.utc)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    c = config
    channels, purpose = c["channels"], c["purpose"]
    as_of_date = c["as_of_date"]
    as_of_utc = c["as_of"].astimezone(dt.timezone.utc).replace(tzinfo=None)

    # Fail closed on stale or missing lists (section 5).
    applying = [s for s in c["lists"] if s["applies"]]
    stale = []
    for spec in applying:
        if not spec["file"][0].exists():
            raise PeerError(f"suppression list {spec['name']} is missing; the build fails closed", 4)
        age = (as_of_date - spec["list_date"]).days if spec["list_date"] else None
        if spec["max_age_days"] is not None and age is not None and age > spec["max_age_days"]:
            stale.append(spec["name"])
    if stale and not allow_stale:
        raise PeerError(f"stale suppression list(s): {', '.join(stale)}", 4)

    # -- inputs
    read_table(con, "raw_customers", c["customers"], CUSTOMER_COLUMNS, ("customer_id", "customer_type"))
    read_table(con, "raw_consents", c["consents"], CONSENT_COLUMNS,
               ("customer_id", "channel", "purpose", "status", "recorded_at"))
    if c["holdings"]:
        read_table(con, "raw_holdings", c["holdings"], HOLDING_COLUMNS, ("customer_id", "product_group", "start_date"))
    else:
        con.execute("CREATE TEMP VIEW raw_holdings AS SELECT " + ", ".join(
            f"CAST(NULL AS VARCHAR) AS {col}" for col in HOLDING_COLUMNS) + " WHERE false")

    con.execute(f"""
        CREATE TEMP TABLE customers AS
        SELECT customer_id, lower(customer_type) AS customer_type, first_name, last_name, company_name,
               email, phone, street_address, postal_code, city,
               coalesce(upper(country), 'FI') AS country,
               CASE WHEN regexp_full_match(lower(language), '\\p{{L}}{{2}}') THEN lower(language) ELSE 'fi' END AS language,
               deceased_date AS deceased_raw, parse_date(deceased_date) AS deceased_date,
               birth_date AS birth_raw, parse_date(birth_date) AS birth_date,
               paperless AS paperless_raw,
               CASE WHEN paperless IS NULL THEN false WHEN lower(paperless) IN {qlist(TRUE_WORDS)} THEN true
                    WHEN lower(paperless) IN {qlist(FALSE_WORDS)} THEN false END AS paperless,
               CASE WHEN address_protected IS NULL THEN false WHEN lower(address_protected) IN {qlist(TRUE_WORDS)}
                    THEN true WHEN lower(address_protected) IN {qlist(FALSE_WORDS)} THEN false END
                    AS address_protected,
               lower(business_role) AS business_role
        FROM raw_customers
        WHERE NOT (customer_id IS NULL AND customer_type IS NULL AND email IS NULL AND phone IS NULL
                   AND first_name IS NULL AND last_name IS NULL AND street_address IS NULL)
    """)
    lap("read customers")
    con.execute("""
        CREATE TEMP TABLE consents AS
        SELECT customer_id, lower(channel) AS channel, lower(purpose) AS purpose, lower(status) AS status,
               recorded_at AS recorded_raw, parse_ts(recorded_at) AS recorded_at, source
        FROM raw_consents
    """)
    lap("read consents")
    con.execute("""
        CREATE TEMP TABLE holdings AS
        SELECT customer_id, lower(product_group) AS product_group, start_date AS start_raw,
               parse_date(start_date) AS start_date, end_date AS end_raw, parse_date(end_date) AS end_date
        FROM raw_holdings
    """)
    lap("read holdings")

    # -- validation: counted, not listed (exit 3 as the contract says)
    bad = con.execute(f"""
        SELECT
          (SELECT count(*) - count(DISTINCT customer_id) + count(*) FILTER (WHERE customer_id IS NULL)
                  + count(*) FILTER (WHERE customer_type IS NULL OR customer_type NOT IN ('private', 'business'))
                  + count(*) FILTER (WHERE deceased_raw IS NOT NULL AND deceased_date IS NULL)
                  + count(*) FILTER (WHERE birth_raw IS NOT NULL AND birth_date IS NULL)
                  + count(*) FILTER (WHERE paperless IS NULL) + count(*) FILTER (WHERE address_protected IS NULL)
                  + count(*) FILTER (WHERE country IS NOT NULL AND NOT regexp_full_match(country, '[A-Z]{{2}}'))
           FROM customers),
          (SELECT count(*) FILTER (WHERE customer_id IS NULL OR recorded_at IS NULL
                  OR channel NOT IN {qlist((*CHANNELS, 'all'))} OR channel IS NULL
                  OR purpose NOT IN ('marketing', 'service', 'survey', 'all') OR purpose IS NULL
                  OR status NOT IN ('granted', 'denied') OR status IS NULL)
           FROM consents),
          (SELECT count(*) FILTER (WHERE customer_id IS NULL OR product_group IS NULL OR start_date IS NULL
                  OR (end_raw IS NOT NULL AND end_date IS NULL))
           FROM holdings)
    """).fetchone()
    if any(bad):
        raise PeerError(f"data errors: customers {bad[0]}, consents {bad[1]}, holdings {bad[2]}", 3)
    lap("validate")

    # -- suppression lists: one view per applying list, keys normalized
    list_views = []
    for i, spec in enumerate(applying):
        names = read_table(con, f"list_{i}", spec["file"], LIST_COLUMNS, ())
        has_name_address = all(n in names for n in ("first_name", "last_name", "street_address", "postal_code"))
        if not any(n in names for n in ("customer_id", "email", "phone")) and not has_name_address:
            raise PeerError(f"{spec['file'][0]}: no key column", 3)
        scope = [ch for ch in spec["channels"] if ch in channels]
        bad_channel = con.execute(f"SELECT count(*) FROM list_{i} WHERE lower(channel) NOT IN "
                                  f"{qlist(spec['channels'])}").fetchone()[0]
        if bad_channel:
            raise PeerError(f"{spec['file'][0]}: {bad_channel} row(s) with a channel outside the list's", 3)
        list_views.append((i, spec, scope))
    phone_sources = ["SELECT phone AS raw, country AS region FROM customers"]
    phone_sources += [f"SELECT phone AS raw, 'FI' AS region FROM list_{i}" for i, _, _ in list_views]
    create_phone_table(con, phone_sources)
    lap("phones")

    # -- contacts: normalized contact points per customer (section 4)
    holdout = c["holdout_percent"]
    bucket_sql = (f"('0x' || substr(sha256({q(c['name'] + ':')} || customer_id), 1, 16))::UBIGINT::DOUBLE "
                  f"/ 18446744073709551616.0 * 100" if holdout > 0 else "CAST(NULL AS DOUBLE)")
    con.execute(f"""
        CREATE TEMP TABLE contacts AS
        WITH e AS (
            SELECT cu.*, norm_email(cu.email) AS email_norm, p.e164 AS phone_e164, p.mobile AS phone_mobile,
                   p.problem AS phone_problem, key_part(cu.first_name) AS kp_first, key_part(cu.last_name) AS kp_last,
                   key_part(cu.street_address) AS kp_street, key_part(cu.postal_code) AS kp_postal
            FROM customers cu LEFT JOIN phones p ON p.raw = cu.phone AND p.region = cu.country)
        SELECT *,
            coalesce(regexp_matches(email_norm, '{EMAIL_VALID}'), false) AS email_valid,
            CASE WHEN street_address IS NULL AND postal_code IS NULL AND city IS NULL THEN 'missing'
                 WHEN street_address IS NULL OR postal_code IS NULL OR city IS NULL
                     THEN 'incomplete address (street, postal code and city are all needed)'
                 WHEN country = 'FI' AND NOT regexp_full_match(postal_code, '[0-9]{{5}}')
                     THEN 'postal code is not 5 digits' END AS address_problem,
            kp_first || {SEP} || kp_last || {SEP} || kp_street || {SEP} || kp_postal AS name_address_key,
            coalesce(kp_street, '') || {SEP} || coalesce(kp_postal, '') || {SEP} || coalesce(kp_last, '') AS post_key,
            {bucket_sql} AS bucket
        FROM e
    """)
    con.execute("""
        CREATE TEMP TABLE people AS
        SELECT customer_id, email_norm AS email, phone_e164 AS phone, first_name, last_name, company_name,
               street_address, postal_code, city, country, language,
               CASE WHEN email_valid THEN sha256(email_norm) END AS email_sha256,
               sha256(ltrim(phone_e164, '+')) AS phone_sha256
        FROM contacts
    """)
    lap("contacts")

    # -- consents: the latest event per (customer, channel) at as_of, denied wins ties
    if purpose in CONSENT_PURPOSES:
        con.execute(f"""
            CREATE TEMP TABLE consent_state AS
            WITH ev AS (
                SELECT customer_id, ch AS channel, recorded_at, source, channel AS event_channel,
                       purpose AS event_purpose,
                       epoch_us(recorded_at) * 2 + (status = 'denied')::BIGINT AS rank
                FROM consents, unnest(CASE WHEN channel = 'all' THEN {list(channels)!r}::VARCHAR[]
                                           ELSE [channel] END) AS t(ch)
                WHERE recorded_at <= TIMESTAMPTZ '{as_of_utc.isoformat()}+00:00'
                  AND purpose IN ({q(purpose)}, 'all') AND channel IN {qlist((*channels, 'all'))})
            SELECT customer_id, channel::channel_t AS channel,
                   CASE WHEN max(rank) % 2 = 1 THEN 'denied' ELSE 'granted' END AS consent_state,
                   arg_max(recorded_at, rank) AS consent_at, arg_max(source, rank) AS consent_source,
                   arg_max('channel=' || event_channel || ' purpose=' || event_purpose, rank) AS consent_event
            FROM ev GROUP BY customer_id, channel
        """)
    else:
        con.execute("CREATE TEMP TABLE consent_state (customer_id VARCHAR, channel channel_t, consent_state VARCHAR, "
                    "consent_at TIMESTAMPTZ, consent_source VARCHAR, consent_event VARCHAR)")
    # -- holdings: customers with an active holding of the product group
    pg = c["product_group"]
    if pg:
        con.execute(f"""
            CREATE TEMP TABLE holders AS
            SELECT DISTINCT customer_id FROM holdings
            WHERE product_group = {q(pg.lower())} AND start_date <= DATE '{as_of_date}'
              AND (end_date IS NULL OR end_date >= DATE '{as_of_date}')
        """)
    else:
        con.execute("CREATE TEMP TABLE holders (customer_id VARCHAR)")
    lap("consents+holdings")

    # -- suppression matches: (customer_id, channel, kind, detail)
    match_parts = []
    for i, spec, scope in list_views:
        row_channels = (f"CASE WHEN lower(channel) IS NULL THEN {list(scope)!r}::VARCHAR[] "
                        f"ELSE [lower(channel)] END")
        con.execute(f"""
            CREATE TEMP TABLE keys_{i} AS
            SELECT l.customer_id, norm_email(l.email) AS email_norm, p.e164 AS phone_e164,
                   key_part(l.first_name) || {SEP} || key_part(l.last_name) || {SEP}
                       || key_part(l.street_address) || {SEP} || key_part(l.postal_code) AS name_address_key,
                   {row_channels} AS row_channels
            FROM list_{i} l LEFT JOIN phones p ON p.raw = l.phone AND p.region = 'FI'
        """)
        for key_type, column in (("customer_id", "customer_id"), ("email", "email_norm"),
                                 ("phone", "phone_e164"), ("name_address", "name_address_key")):
            match_parts.append(f"""
                SELECT c.customer_id, ch AS channel, {q(spec['kind'])} AS kind,
                       {q(f"{spec['name']} ({key_type})")} AS match
                FROM contacts c JOIN keys_{i} k ON c.{column} = k.{column}, unnest(k.row_channels) AS t(ch)
                WHERE ch IN {qlist(scope)}""")
    if match_parts:
        con.execute(f"""
            CREATE TEMP TABLE matches AS
            SELECT customer_id, channel::channel_t AS channel,
                   string_agg(DISTINCT match, ', ' ORDER BY match) FILTER (WHERE kind = 'internal') AS sup_internal,
                   string_agg(DISTINCT match, ', ' ORDER BY match) FILTER (WHERE kind = 'robinson') AS sup_robinson,
                   string_agg(DISTINCT match, ', ' ORDER BY match) FILTER (WHERE kind = 'telemarketing') AS sup_telemarketing,
                   string_agg(DISTINCT match, ', ' ORDER BY match) FILTER (WHERE kind = 'custom') AS sup_custom
            FROM ({' UNION ALL '.join(match_parts)}) GROUP BY customer_id, channel
        """)
    else:
        con.execute("CREATE TEMP TABLE matches (customer_id VARCHAR, channel channel_t, sup_internal VARCHAR, "
                    "sup_robinson VARCHAR, sup_telemarketing VARCHAR, sup_custom VARCHAR)")
    lap("suppression matches")

    # -- the rules (section 6): one row per customer × channel
    phone_problem = ("CASE WHEN phone IS NULL THEN 'missing' WHEN phone_problem = 'unparseable' "
                     "THEN 'phone number cannot be parsed' WHEN phone_problem IS NOT NULL "
                     "THEN 'phone number is not a valid number' END")
    contact_problem = f"""CASE channel
        WHEN 'email' THEN CASE WHEN email_norm IS NULL THEN 'missing'
                               WHEN NOT email_valid THEN 'email address syntax is not valid' END
        WHEN 'sms' THEN CASE WHEN {phone_problem} IS NOT NULL THEN {phone_problem}
                             WHEN NOT phone_mobile THEN 'not a mobile number' END
        WHEN 'phone' THEN {phone_problem}
        WHEN 'post' THEN address_problem
        ELSE CASE WHEN email_norm IS NULL AND phone IS NULL THEN 'missing'
                  WHEN NOT email_valid AND phone_e164 IS NULL
                      THEN 'neither a valid email address nor a valid phone number' END END"""
    dedupe_key = "CASE channel WHEN 'email' THEN email_norm WHEN 'sms' THEN phone_e164 " \
                 "WHEN 'phone' THEN phone_e164 WHEN 'post' THEN post_key END"
    is_b2b = f"(customer_type = 'business' AND coalesce(business_role IN {qlist(c['business_roles'])}, false))"
    has_exception = f"(({'has_holding' if pg else 'false'}) OR is_b2b)"

    def applies(purposes) -> str:
        return "true" if purpose in purposes else "false"

    age = (f"({as_of_date.year} - year(birth_date) - CASE WHEN month(birth_date) * 100 + day(birth_date) > "
           f"{as_of_date.month * 100 + as_of_date.day} THEN 1 ELSE 0 END)")
    minimum_age = c["minimum_age"]
    rules = [  # (code, fails) in the contract's order; NULL-safe, and a NULL left over fails closed
        ("segment_not_targeted", f"customer_type NOT IN {qlist(c['segments'])}"),
        ("deceased", f"deceased_date IS NOT NULL AND deceased_date <= DATE '{as_of_date}'"),
        ("under_age", f"{applies(CONSENT_PURPOSES)} AND {minimum_age} > 0 AND birth_date IS NOT NULL "
                      f"AND {age} < {minimum_age}"),
        ("no_active_contract", f"{applies(('contract', 'legal'))} AND {'NOT has_holding' if pg else 'false'}"),
        ("paperless", f"{applies(('service', 'contract', 'legal'))} AND channel = 'post' AND paperless"),
        ("address_protected", "channel = 'post' AND address_protected"),
        ("missing_contact", "contact_problem IS NOT DISTINCT FROM 'missing'"),
        ("invalid_contact", "contact_problem IS NOT NULL AND contact_problem <> 'missing'"),
        ("customer_denied", f"{applies(CONSENT_PURPOSES)} AND consent_state IS NOT DISTINCT FROM 'denied'"),
        *[(KIND_CODE[k], f"sup_{k} IS NOT NULL") for k in KIND_ORDER],
        ("no_consent", f"{applies(('marketing',))} AND channel IN ('email', 'sms') "
                       f"AND consent_state IS DISTINCT FROM 'granted' AND NOT {has_exception}"),
    ]
    fail = [f"coalesce({expr}, true)" for _, expr in rules]
    details = {
        "segment_not_targeted": "'customer_type ' || coalesce(customer_type, '') || ' is not a targeted segment'",
        "deceased": f"'deceased_date ' || strftime(deceased_date, '%Y-%m-%d') || ' is on or before as_of {as_of_date}'",
        "no_active_contract": f"'no active holding of product group {pg} on {as_of_date}'",
        "paperless": "'paperless customer: documents go to the web service archive with an e-mail notice'",
        "under_age": f"'birth_date ' || strftime(birth_date, '%Y-%m-%d') || ': age ' || {age} || ' is below "
                     f"minimum_age {minimum_age}'",
        "address_protected": "'safety non-disclosure: the address never leaves in a file'",
        "missing_contact": "CASE channel WHEN 'email' THEN 'no email address' WHEN 'sms' THEN 'no phone number' "
                           "WHEN 'phone' THEN 'no phone number' WHEN 'post' THEN 'no postal address' "
                           "ELSE 'neither email address nor phone number' END",
        "invalid_contact": "contact_problem",
        "customer_denied": "'consent denied at ' || strftime(consent_at, '%Y-%m-%dT%H:%M:%S.%f') "
                           "|| regexp_replace(strftime(consent_at, '%z'), '^([+-][0-9][0-9])$', '\\1:00') || ' source ' "
                           "|| coalesce(consent_source, '(none)') || ' (' || consent_event || ')'",
        **{KIND_CODE[k]: f"sup_{k}" for k in KIND_ORDER},
        "no_consent": "'no granted consent (state ' || coalesce(consent_state, 'none') || '); no existing-customer "
                      "exception; not a business contact in a targeted role'",
    }
    flags = ", ".join(f"{f} AS f{i}" for i, f in enumerate(fail))
    reason = "CASE " + " ".join(f"WHEN f{i} THEN {q(code)}" for i, (code, _) in enumerate(rules)) + " END"
    all_reasons = "nullif(concat_ws(';', " + ", ".join(
        f"CASE WHEN f{i} THEN {q(code)} END" for i, (code, _) in enumerate(rules)) + "), '')"
    detail = "CASE reason_code " + " ".join(f"WHEN {q(code)} THEN {details[code]}" for code, _ in rules) + " END"
    electronic = f"{applies(('marketing',))} AND channel IN ('email', 'sms')"
    legal_basis = (
        "'legal_obligation'" if purpose == "legal" else "'contract'" if purpose == "contract" else
        f"CASE WHEN consent_state = 'granted' THEN 'consent' "
        f"WHEN {electronic} AND {'has_holding' if pg else 'false'} THEN 'existing_customer' "
        f"WHEN {electronic} AND is_b2b THEN 'b2b_legitimate_interest' ELSE 'legitimate_interest' END"
    )
    dedupe_channels = qlist(("email", "sms", "phone", "post")) if c["dedupe"] else "(NULL)"
    con.execute(f"""
        CREATE TEMP TABLE ruled AS
        WITH base AS (
            SELECT ct.customer_id, ch.channel, ct.customer_type, ct.deceased_date, ct.paperless, ct.business_role,
                   ct.birth_date, ct.address_protected,
                   ct.email_norm, ct.email_valid, ct.phone, ct.phone_e164, ct.phone_mobile, ct.phone_problem,
                   ct.address_problem, ct.post_key, ct.bucket,
                   h.customer_id IS NOT NULL AS has_holding,
                   cs.consent_state, cs.consent_at, cs.consent_source, cs.consent_event,
                   m.sup_internal, m.sup_robinson, m.sup_telemarketing, m.sup_custom
            FROM contacts ct
            CROSS JOIN (SELECT unnest({list(channels)!r}::channel_t[]) AS channel) ch
            LEFT JOIN holders h ON h.customer_id = ct.customer_id
            LEFT JOIN consent_state cs ON cs.customer_id = ct.customer_id AND cs.channel = ch.channel
            LEFT JOIN matches m ON m.customer_id = ct.customer_id AND m.channel = ch.channel),
        facts AS (
            SELECT *, {contact_problem} AS contact_problem, {is_b2b} AS is_b2b, {dedupe_key} AS dedupe_key
            FROM base),
        flagged AS (SELECT *, {flags} FROM facts),
        one_pass AS (
            SELECT customer_id, channel, dedupe_key, bucket, {reason} AS reason_code, {all_reasons} AS all_reasons,
                   {legal_basis} AS legal_basis, customer_type, deceased_date, birth_date, contact_problem, consent_state,
                   consent_at, consent_source, consent_event, sup_internal, sup_robinson, sup_telemarketing, sup_custom
            FROM flagged)
        -- R13, per customer and before R15: held out wherever the customer would be sendable
        SELECT customer_id, channel, CASE WHEN control THEN NULL ELSE dedupe_key END AS dedupe_key,
               CASE WHEN control THEN 'control_group' ELSE reason_code END AS reason_code,
               CASE WHEN control THEN 'control_group' ELSE all_reasons END AS all_reasons,
               CASE WHEN control THEN 'holdout bucket ' || round(bucket, 4) || ' is below holdout_percent {holdout}'
                    ELSE {detail} END AS detail,
               CASE WHEN reason_code IS NULL AND NOT control THEN legal_basis END AS legal_basis
        FROM (SELECT *, reason_code IS NULL AND coalesce(bucket < {holdout}, false) AS control FROM one_pass)
    """)
    lap("rules R1-R11, R13")
    # R15: among the rows still sendable, the smallest customer_id per contact point is kept.
    con.execute(f"""
        CREATE TEMP TABLE decisions AS
        WITH kept AS (
            SELECT channel, dedupe_key, min(customer_id) AS kept_id FROM ruled
            WHERE legal_basis IS NOT NULL AND dedupe_key IS NOT NULL AND channel IN {dedupe_channels}
            GROUP BY channel, dedupe_key HAVING count(*) > 1)
        SELECT r.customer_id, r.channel,
               CASE WHEN dup THEN 'duplicate_contact' ELSE reason_code END AS reason_code,
               CASE WHEN dup THEN 'duplicate_contact' ELSE all_reasons END AS all_reasons,
               CASE WHEN dup THEN 'same contact as kept customer_id ' || kept_id ELSE detail END AS detail,
               CASE WHEN NOT dup THEN legal_basis END AS legal_basis
        FROM (SELECT r.*, coalesce(r.legal_basis IS NOT NULL AND k.kept_id <> r.customer_id, false) AS dup, k.kept_id
              FROM ruled r LEFT JOIN kept k ON k.channel = r.channel AND k.dedupe_key = r.dedupe_key) r
    """)
    con.execute("DROP TABLE ruled")
    lap("rule R15")

    # -- outputs
    fmt = c["format"]
    out = out.resolve()
    temp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True, mode=0o700)
    ext = "parquet" if fmt == "parquet" else "csv"
    options = "(FORMAT parquet, COMPRESSION zstd)" if fmt == "parquet" else "(FORMAT csv, HEADER true)"
    written = {}
    for ch in channels:
        cols = ", ".join(f"d.{x}" if x == "legal_basis" else f"p.{x}" for x in CHANNEL_COLUMNS[ch])
        path = temp / f"{ch}.{ext}"
        con.execute(f"""COPY (SELECT {cols} FROM decisions d JOIN people p USING (customer_id)
                              WHERE d.channel = {q(ch)} AND d.legal_basis IS NOT NULL ORDER BY d.customer_id)
                        TO {q(str(path))} {options}""")
        written[ch] = path
    path = temp / f"exclusions.{ext}"
    con.execute(f"""COPY (SELECT customer_id, channel::VARCHAR AS channel, reason_code, all_reasons, detail
                          FROM decisions WHERE reason_code IS NOT NULL ORDER BY customer_id, decisions.channel)
                    TO {q(str(path))} {options}""")
    written["exclusions"] = path
    lap("write tables")

    # -- summary.json and manifest.json
    counts = con.execute("SELECT channel, reason_code, legal_basis, count(*) FROM decisions GROUP BY ALL").fetchall()
    summary_channels = {}
    for ch in channels:
        rows = [r for r in counts if r[0] == ch]
        summary_channels[ch] = {
            "candidates": sum(r[3] for r in rows),
            "sendable": sum(r[3] for r in rows if r[2] is not None),
            "excluded": sum(r[3] for r in rows if r[1] is not None),
            "excluded_by_reason": {r[1]: r[3] for r in sorted(rows, key=lambda r: r[1] or "") if r[1]},
            "sendable_by_legal_basis": {r[2]: r[3] for r in sorted(rows, key=lambda r: r[2] or "") if r[2]},
        }
    orphans = con.execute("SELECT DISTINCT customer_id FROM consents ANTI JOIN customers USING (customer_id) "
                          "ORDER BY customer_id").fetchall()
    rows_of = dict(con.execute("""
        SELECT 'customers', count(*) FROM customers UNION ALL SELECT 'consents', count(*) FROM consents
        UNION ALL SELECT 'holdings', count(*) FROM holdings""").fetchall())
    summary = {
        "campaign": c["name"], "purpose": purpose, "as_of": c["as_of"].astimezone(HELSINKI).isoformat(),
        "stale": bool(stale), "inputs": {**rows_of, "lists": {
            spec["name"]: con.execute(f"SELECT count(*) FROM list_{i}").fetchone()[0] for i, spec, _ in list_views}},
        "orphan_consent_ids": {"count": len(orphans), "examples": [o[0] for o in orphans[:20]]},
        "channels": summary_channels,
    }
    (temp / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")

    def sha256_of(path: Path) -> str:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()

    inputs = [("customers", c["customers"][0]), ("consents", c["consents"][0])]
    if c["holdings"]:
        inputs.append(("holdings", c["holdings"][0]))
    inputs += [(f"list:{spec['name']}", spec["file"][0]) for _, spec, _ in list_views]
    manifest = {
        "tool": "bench/peer_duckdb.py", "duckdb": duckdb.__version__, "command": sys.argv,
        "inputs": [{"role": role, "path": str(p), "sha256": sha256_of(p)} for role, p in inputs],
        "outputs": [{"file": p.name, "sha256": sha256_of(p)} for p in written.values()],
        "started_at": started.isoformat(), "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    (temp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for p in temp.iterdir():
        os.chmod(p, 0o600)
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        temp.rename(out)
        shutil.rmtree(old)
    else:
        temp.rename(out)
    lap("summary+manifest")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--allow-stale", action="store_true")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, the number of cores)")
    parser.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 16GB (default: DuckDB's, 80%% of RAM)")
    parser.add_argument("--timings", action="store_true", help="print the time of each stage on stderr")
    args = parser.parse_args(argv)
    timings: dict = {}
    try:
        build(load_config(args.config), args.out, allow_stale=args.allow_stale, threads=args.threads,
              memory_limit=args.memory_limit, timings=timings)
    except PeerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    if args.timings:
        for name, seconds in timings.items():
            print(f"{seconds:8.2f} s  {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
