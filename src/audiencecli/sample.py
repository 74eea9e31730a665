"""Synthetic data sets for trying and benchmarking audiencecli: `write_sample`.

One call writes customers, consents, holdings, the three kinds of suppression list and a
marketing campaign that exercises every rule a marketing campaign can trigger. Faker (fi_FI, and
sv_SE for the Swedish-speaking Finns, as Faker has no sv_FI) builds small seeded pools of names,
streets and companies; the rows are drawn from the pools with vectorized Polars expressions.
Randomness is a splitmix64 hash of (row, stream) in UInt64 arithmetic, so the files are a pure
function of (customers, seed, format) with the installed Faker, independent of the chunk size and
of Polars' own random generator.

Customers, consents and holdings are generated and appended a chunk at a time, so 10M customers
fit in a few GB. Every e-mail domain is `example.*`; names, addresses and numbers are invented.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import OrderedDict
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from .config import FORMATS
from .errors import UsageError
from .files import TEMP_MARK, cannot_write, new_files, remove_leftovers

AS_OF = dt.date(2026, 12, 1)
LIST_DATE = dt.date(2026, 11, 20)
CHUNK_ROWS = 1_000_000
LIST_SHARE = 0.10
POOL_SIZE = 400
CAMPAIGN_NAME = "sample-pension-2026-12"
TABLES = ("customers", "consents", "holdings", "contact_history", "internal", "robinson", "telemarketing")
HISTORY_DAYS = 180
# The campaigns the history's rows belong to; the sample campaign's own name among them, for
# its same_campaign cap.
HISTORY_CAMPAIGNS = ("autumn-newsletter-2026", "pension-letter-2026", "savings-sms-2026", "service-news-2026",
                     "terms-change-2026", "survey-2026", "black-week-2026", CAMPAIGN_NAME)

U64 = pl.UInt64
GOLDEN = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
MASK = (1 << 64) - 1
NONE = pl.lit(None, dtype=pl.String)


@dataclass(frozen=True)
class SampleSet:
    """What `write_sample` wrote: the folder, the campaign config, and every table's file and rows."""

    dir: Path
    config: Path
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


# --- randomness: splitmix64 over (row index, stream) ------------------------------------------


def _lit(v: int) -> pl.Expr:
    return pl.lit(v & MASK, dtype=U64)


def _mix(z: pl.Expr) -> pl.Expr:
    # the splitmix64 finalizer; UInt64 arithmetic in Polars wraps, as the algorithm needs
    z = (z ^ (z // (1 << 30))) * _lit(M1)
    z = (z ^ (z // (1 << 27))) * _lit(M2)
    return z ^ (z // (1 << 31))


class Rng:
    """Per-row random numbers as expressions over the global row index `_i`; one stream per name."""

    def __init__(self, seed: int, table: str):
        self.seed = seed
        self.table = table

    def u64(self, stream: str) -> pl.Expr:
        digest = hashlib.sha256(f"{self.seed}:{self.table}:{stream}".encode()).digest()
        return _mix(pl.col("_i").cast(U64) * _lit(GOLDEN) + _lit(int.from_bytes(digest[:8], "little")))

    def unif(self, stream: str) -> pl.Expr:
        """Uniform in [0, 1)."""
        return (self.u64(stream) // (1 << 11)).cast(pl.Float64) * (1.0 / (1 << 53))

    def below(self, stream: str, k: int) -> pl.Expr:
        """Uniform integer in [0, k)."""
        return (self.u64(stream) % _lit(k)).cast(pl.Int64)

    def digits(self, stream: str, n: int) -> pl.Expr:
        """n decimal digits, leading zeros kept."""
        return self.below(stream, 10**n).cast(pl.String).str.zfill(n)

    def weighted(self, stream: str, weights: list[float]) -> pl.Expr:
        """Index in [0, len(weights)) drawn with the given relative weights."""
        total = float(sum(weights))
        cumulative, acc = [], 0.0
        for w in weights[:-1]:
            acc += w / total
            cumulative.append(acc)
        thresholds = pl.lit(pl.Series(cumulative, dtype=pl.Float64))
        return thresholds.search_sorted(self.unif(stream), side="right").cast(pl.Int64)

    def choice(self, stream: str, values: list[str] | tuple[str, ...], weights: list[float] | None = None) -> pl.Expr:
        return pick(self.weighted(stream, weights) if weights else self.below(stream, len(values)), values)


def pick(idx: pl.Expr, values: list[str] | tuple[str, ...]) -> pl.Expr:
    return pl.lit(pl.Series(list(values), dtype=pl.String)).gather(idx)


def _rows(lo: int, hi: int) -> pl.DataFrame:
    return pl.DataFrame({"_i": pl.int_range(lo, hi, eager=True, dtype=pl.Int64)})


# --- pools ------------------------------------------------------------------------------------

# Swedish-speaking Finns mostly carry these surname forms; the filter keeps Sweden's recent
# immigrant surnames, which sv_SE also lists, out of a Finland-Swedish pool.
SWEDISH_SURNAME = re.compile(r"(ström|qvist|kvist|berg|holm|lund|roos|blom|gren|dahl|fors|strand|bäck|sson"
                             r"|ckman|rsman|yman)$")
LEGAL_FORM = re.compile(r"\b(Oy|Oyj|Ky|Osk|Tmi|ry|Ab)$")
# Faker draws the five Finnish street suffixes evenly; boulevards are in fact rare
FI_STREET_SUFFIX = OrderedDict([("tie", 0.45), ("katu", 0.30), ("kuja", 0.15), ("polku", 0.08), ("bulevardi", 0.02)])


@dataclass(frozen=True)
class Pools:
    fi_first: tuple[str, ...]
    sv_first: tuple[str, ...]
    fi_last: tuple[str, ...]
    sv_last: tuple[str, ...]
    fi_street: tuple[str, ...]
    sv_street: tuple[str, ...]
    company: tuple[str, ...]


def make_pools(seed: int) -> Pools:
    """A few hundred seeded Faker draws per pool; repeats keep Faker's name frequencies."""
    # imported here: only `sample` needs Faker, and every other command starts faster without it
    from faker import Faker
    from faker.providers.person.fi_FI import Provider as FinnishNames
    from faker.providers.person.sv_SE import Provider as SwedishNames

    fi, sv = Faker("fi_FI"), Faker("sv_SE")
    fi.seed_instance(seed)
    sv.seed_instance(seed)

    def draw(make: Callable[[], str], size: int = POOL_SIZE) -> tuple[str, ...]:
        return tuple(make() for _ in range(size))

    def swedish(names: OrderedDict) -> OrderedDict:
        return OrderedDict((name, w) for name, w in names.items() if SWEDISH_SURNAME.search(name))

    # Finland's own register (fi_FI) holds the real Finland-Swedish surnames; sv_SE adds variety
    local = round(POOL_SIZE * 0.7)
    sv_last = (tuple(fi.random_elements(swedish(FinnishNames.last_names), length=local, use_weighting=True))
               + tuple(sv.random_elements(swedish(SwedishNames.last_names), length=POOL_SIZE - local,
                                          use_weighting=True)))
    return Pools(
        fi_first=draw(fi.first_name), sv_first=draw(sv.first_name),
        fi_last=draw(fi.last_name), sv_last=sv_last,
        fi_street=draw(lambda: fi.street_prefix() + fi.random_element(FI_STREET_SUFFIX)),
        sv_street=draw(sv.street_name, POOL_SIZE // 4),
        company=tuple(c if LEGAL_FORM.search(c) else f"{c} Oy" for c in draw(fi.company, POOL_SIZE // 2)),
    )


def _ascii(names: tuple[str, ...]) -> tuple[str, ...]:
    """E-mail-safe spelling of names: accents dropped, anything but letters and hyphens removed."""
    folded = (unicodedata.normalize("NFKD", n).encode("ascii", "ignore").decode() for n in names)
    return tuple(re.sub(r"[^A-Za-z-]", "", n) or "x" for n in folded)


# city (fi), city (sv), first postal code, number of codes (step 10), weight among
# Finnish-speaking customers, weight among Swedish-speaking ones (who live mostly on the coast)
CITIES = [
    ("Helsinki", "Helsingfors", 100, 90, 24, 20),
    ("Espoo", "Esbo", 2100, 84, 11, 10),
    ("Tampere", "Tammerfors", 33100, 86, 9, 1),
    ("Vantaa", "Vanda", 1200, 57, 9, 4),
    ("Oulu", "Uleåborg", 90100, 84, 7, 0.5),
    ("Turku", "Åbo", 20100, 86, 7, 6),
    ("Jyväskylä", "Jyväskylä", 40100, 85, 5, 0.5),
    ("Kuopio", "Kuopio", 70100, 84, 4, 0.3),
    ("Lahti", "Lahtis", 15100, 85, 4, 0.5),
    ("Pori", "Björneborg", 28100, 80, 3, 0.5),
    ("Joensuu", "Joensuu", 80100, 69, 3, 0.2),
    ("Lappeenranta", "Villmanstrand", 53100, 87, 3, 0.3),
    ("Hämeenlinna", "Tavastehus", 13100, 62, 2, 0.3),
    ("Vaasa", "Vasa", 65100, 83, 3, 9),
    ("Seinäjoki", "Seinäjoki", 60100, 70, 2, 0.3),
    ("Rovaniemi", "Rovaniemi", 96100, 83, 2, 0.2),
    ("Porvoo", "Borgå", 6100, 55, 2, 6),
    ("Kokkola", "Karleby", 67100, 70, 1, 3),
    ("Raasepori", "Raseborg", 10300, 60, 1, 8),
    ("Pietarsaari", "Jakobstad", 68600, 7, 0.2, 8),
    ("Kirkkonummi", "Kyrkslätt", 2400, 5, 1, 5),
    ("Maarianhamina", "Mariehamn", 22100, 6, 0.05, 3),  # Åland: country AX
]
ALAND = len(CITIES) - 1
# customers living in Sweden: city, first postal code (written "NNN NN")
SE_CITIES = [("Stockholm", 11120), ("Göteborg", 41101), ("Malmö", 21111), ("Uppsala", 75310)]
DOMAINS = ["example.fi", "example.com", "example.net", "example.org"]
FI_MOBILE = ["40", "41", "44", "45", "46", "50"]
FI_AREA = ["9", "2", "3", "5", "6", "8", "13", "14", "15", "16", "17", "19"]


def _epoch_days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _day(start: dt.date, r: Rng, stream: str, span_days: int) -> pl.Expr:
    return (pl.lit(_epoch_days(start)) + r.below(stream, span_days)).cast(pl.Int32).cast(pl.Date)


def _mixed_date(r: Rng, stream: str, e: pl.Expr, finnish_share: float) -> pl.Expr:
    """ISO or Finnish `d.m.yyyy`, as exports from different systems mix them."""
    finnish = pl.format("{}.{}.{}", e.dt.day(), e.dt.month(), e.dt.year())
    return pl.when(r.unif(stream) < finnish_share).then(finnish).otherwise(e.dt.strftime("%Y-%m-%d"))


def _id(idx: pl.Expr, width: int) -> pl.Expr:
    return pl.lit("C") + (idx + 1).cast(pl.String).str.zfill(width)


def _from_previous(flag: pl.Expr, column: str) -> pl.Expr:
    """The previous customer's value where flag holds (households, shared phones and e-mails)."""
    value = pl.col(column)
    return pl.when(flag).then(pl.coalesce(value.shift(1), value)).otherwise(value).alias(column)


# --- phones: parts (kind, prefix, subscriber digits) and the formats people type ----------------


def _phone_parts(r: Rng, p: str, country: pl.Expr) -> list[pl.Expr]:
    """_pk (0 FI mobile, 1 FI landline, 2 SE mobile, 3 EE mobile), _pa (prefix), _ps (subscriber)."""
    kind = r.weighted(f"{p}kind", [84, 14.5, 1.0, 0.5])
    kind = pl.when((country == "SE") & (r.unif(f"{p}se_home") < 0.8)).then(2).otherwise(kind)
    fi_area = pl.when(country == "AX").then(pl.lit("18")).otherwise(
        r.choice(f"{p}area", FI_AREA, [30, 12, 12, 5, 6, 6, 3, 4, 3, 3, 3, 4]))
    prefix = (
        pl.when(kind == 0).then(r.choice(f"{p}mob", FI_MOBILE, [30, 10, 18, 14, 5, 23]))
        .when(kind == 1).then(fi_area)
        .when(kind == 2).then(r.choice(f"{p}se", ["70", "72", "73", "76"]))
        .otherwise(pl.lit("5"))
    )
    # Finnish subscriber numbers start 1-8; after a two-digit area code half of them have 6 digits
    sub7 = (r.below(f"{p}sub0", 8) + 1).cast(pl.String) + r.digits(f"{p}sub", 6)
    short = (kind == 1) & (prefix.str.len_chars() == 2) & (r.unif(f"{p}len") < 0.5)
    subscriber = pl.when(short).then(sub7.str.slice(0, 6)).otherwise(sub7)
    return [kind.alias("_pk"), prefix.alias("_pa"), subscriber.alias("_ps")]


def _phone_text(r: Rng, stream: str, kind: pl.Expr, a: pl.Expr, s: pl.Expr,
                international_only: pl.Expr | None = None) -> pl.Expr:
    """Phone parts written in one of the everyday spellings, chosen at random."""
    s3, rest = s.str.slice(0, 3), s.str.slice(3)
    spaced = pl.format("{} {}", s3, rest)
    f = r.weighted(stream, [35, 20, 25, 5, 10, 5])
    mobile = (
        pl.when(f == 0).then(pl.format("0{} {}", a, spaced))          # 040 123 4567
        .when(f == 1).then(pl.format("+358 {} {}", a, s))             # +358 40 1234567
        .when(f == 2).then(pl.format("0{}{}", a, s))                  # 0401234567
        .when(f == 3).then(pl.format("00358{}{}", a, s))              # 00358401234567
        .when(f == 4).then(pl.format("0{}-{}", a, s))                 # 040-1234567
        .otherwise(pl.format("+358{}{}", a, s))                       # +358401234567
    )
    landline = (
        pl.when(f <= 1).then(pl.format("(0{}) {}", a, spaced))       # (09) 123 4567
        .when(f == 2).then(pl.format("0{} {}", a, spaced))            # 09 123 4567
        .when(f == 3).then(pl.format("+358 {} {}", a, s))             # +358 9 1234567
        .otherwise(pl.format("0{}{}", a, s))                          # 091234567
    )
    international = pl.when(f <= 2).then(pl.format("+358 {} {}", a, s)).otherwise(pl.format("+358{}{}", a, s))
    return (
        pl.when(kind == 2).then(pl.format("+46 {} {} {}", a, s3, rest))  # +46 70 123 4567
        .when(kind == 3).then(pl.format("+372 {}{}", a, s))             # +372 51234567
        .when(international_only if international_only is not None else pl.lit(False)).then(international)
        .when(kind == 1).then(landline)
        .otherwise(mobile)
    )


# --- tables -----------------------------------------------------------------------------------

CUSTOMER_COLUMNS = (
    "customer_id", "customer_type", "first_name", "last_name", "company_name", "email", "phone",
    "street_address", "postal_code", "city", "country", "language", "birth_date", "deceased_date",
    "paperless", "business_role", "address_protected",
)
# what the suppression lists copy from the customers they pick
PICKED_COLUMNS = ("customer_id", "email", "first_name", "last_name", "street_address", "postal_code",
                  "_pk", "_pa", "_ps")


def _customers(lo: int, hi: int, seed: int, width: int, pools: Pools) -> pl.DataFrame:
    """Customers lo..hi-1 with their phone parts (_pk, _pa, _ps) for the suppression lists."""
    r = Rng(seed, "customers")
    # two rows before lo are generated too: a household or a shared e-mail copies from row i-1,
    # whose e-mail may use row i-2's last name; they are dropped at the end
    df = _rows(max(lo - 2, 0), hi).lazy().with_columns(
        customer_id=_id(pl.col("_i"), width),
        customer_type=pl.when(r.unif("type") < 0.90).then(pl.lit("private")).otherwise(pl.lit("business")),
        language=r.choice("lang", ["fi", "sv", "en"], [88, 9, 3]),
        _se=r.unif("country") < 0.005,
    )
    sv = pl.col("language") == "sv"
    df = df.with_columns(_city=pl.when(sv).then(r.weighted("citysv", [c[5] for c in CITIES]))
                         .otherwise(r.weighted("cityfi", [c[4] for c in CITIES])))
    df = df.with_columns(
        country=pl.when(pl.col("_se")).then(pl.lit("SE"))
        .when(pl.col("_city") == ALAND).then(pl.lit("AX")).otherwise(pl.lit("FI")),
    )
    df = df.with_columns(
        *_phone_parts(r, "ph", pl.col("country")),
        **_names(r, pools, sv), **_address(r, pools, sv),
        _num=(r.below("emailnum", 9990) + 10).cast(pl.String),
        # first.last (rare, so it collides), first.lastNNNN, flastNNNN, Mixed.CaseNNNN@EXAMPLE.FI
        _email_style=r.weighted("emailstyle", [2, 68, 26, 4]),
        _domain=r.choice("domain", DOMAINS, [40, 30, 18, 12]),
    )
    # households: ~4 % share the previous customer's last name and address (duplicate_contact on post)
    household = r.unif("household") < 0.04
    df = df.with_columns(_from_previous(household, c) for c in
                         ("last_name", "_last_ascii", "street_address", "postal_code", "city", "country"))
    df = df.with_columns(email=_email(r))
    # ~3 % share the previous customer's e-mail, ~7 % the phone (duplicate_contact on email, sms and phone)
    df = df.with_columns(_from_previous(r.unif("emailshare") < 0.03, "email"),
                         *(_from_previous(r.unif("phoneshare") < 0.07, c) for c in ("_pk", "_pa", "_ps")))
    df = df.with_columns(phone=_customer_phone(r), **_incomplete_address(r), **_profile(r, pools))
    return df.filter(pl.col("_i") >= lo).select("_i", *CUSTOMER_COLUMNS, "_pk", "_pa", "_ps").collect()


def _either(flag: pl.Expr, idx: pl.Expr, when_true: tuple[str, ...], otherwise: tuple[str, ...]) -> pl.Expr:
    return pl.when(flag).then(pick(idx, when_true)).otherwise(pick(idx, otherwise))


def _names(r: Rng, pools: Pools, sv: pl.Expr) -> dict[str, pl.Expr]:
    """Names from the Finnish or the Finland-Swedish pools (4 in 5 Swedish speakers have a Swedish
    surname), with their ASCII spellings for the e-mail addresses."""
    first, last = r.below("first", POOL_SIZE), r.below("last", POOL_SIZE)
    sv_last = sv & (r.unif("svlast") < 0.8)
    return {
        "first_name": _either(sv, first, pools.sv_first, pools.fi_first),
        "_first_ascii": _either(sv, first, _ascii(pools.sv_first), _ascii(pools.fi_first)),
        "last_name": _either(sv_last, last, pools.sv_last, pools.fi_last),
        "_last_ascii": _either(sv_last, last, _ascii(pools.sv_last), _ascii(pools.fi_last)),
    }


def _address(r: Rng, pools: Pools, sv: pl.Expr) -> dict[str, pl.Expr]:
    """Street, number (staircase and apartment for 60 %), the city's postal code, the city's name."""
    se, city = pl.col("_se"), pl.col("_city")
    # Åland and Sweden are Swedish-speaking: their streets and city names are Swedish for everyone
    swedish = sv | se | (city == ALAND)
    street = pl.when(swedish).then(r.choice("streetsv", pools.sv_street)).otherwise(
        r.choice("streetfi", pools.fi_street))
    house = (r.below("house", 120) + 1).cast(pl.String)
    apartment = pl.format("{} {} {} {}", street, house, r.choice("stair", ["A", "B", "C", "D"], [40, 30, 20, 10]),
                          (r.below("apt", 60) + 1).cast(pl.String))
    pc_base = pl.lit(pl.Series([c[2] for c in CITIES], dtype=pl.Int64)).gather(city)
    pc_count = pl.lit(pl.Series([c[3] for c in CITIES], dtype=pl.Int64)).gather(city)
    fi_postal = (pc_base + (r.unif("pc") * pc_count).cast(pl.Int64) * 10).cast(pl.String).str.zfill(5)
    se_city = r.below("secity", len(SE_CITIES))
    se_postal = (pl.lit(pl.Series([c[1] for c in SE_CITIES], dtype=pl.Int64)).gather(se_city)
                 + r.below("sepc", 80)).cast(pl.String)
    return {
        "street_address": pl.when(r.unif("hasapt") < 0.6).then(apartment)
        .otherwise(pl.format("{} {}", street, house)),
        "postal_code": pl.when(se).then(pl.format("{} {}", se_postal.str.slice(0, 3), se_postal.str.slice(3)))
        .otherwise(fi_postal),
        "city": pl.when(se).then(pick(se_city, [c[0] for c in SE_CITIES]))
        .otherwise(_either(swedish, city, tuple(c[1] for c in CITIES), tuple(c[0] for c in CITIES))),
    }


def _email(r: Rng) -> pl.Expr:
    """An address built from the name; 5 % missing, 2 % invalid in the ways people mistype them."""
    f = pl.col("_first_ascii").str.to_lowercase()
    last = pl.col("_last_ascii").str.to_lowercase()
    style, num = pl.col("_email_style"), pl.col("_num")
    local = (
        pl.when(style == 0).then(pl.format("{}.{}", f, last))
        .when(style == 1).then(pl.format("{}.{}{}", f, last, num))
        .when(style == 2).then(pl.format("{}{}{}", f.str.slice(0, 1), last, num))
        .otherwise(pl.format("{}.{}{}", pl.col("_first_ascii"), pl.col("_last_ascii"), num))
    )
    domain = pl.when(style == 3).then(pl.col("_domain").str.to_uppercase()).otherwise(pl.col("_domain"))
    bad = r.weighted("emailbadkind", [30, 30, 20, 20])
    invalid = (
        pl.when(bad == 0).then(pl.format("{}{}", local, domain))                      # no @
        .when(bad == 1).then(pl.format("{}@example", local))                          # one-label domain
        .when(bad == 2).then(pl.format("{} {}@{}", f, last, domain))                  # space in local part
        .otherwise(pl.format("{}@{}.", local, domain))                                # trailing dot
    )
    u = r.unif("emailq")
    return pl.when(u < 0.05).then(NONE).when(u < 0.07).then(invalid).otherwise(pl.format("{}@{}", local, domain))


def _customer_phone(r: Rng) -> pl.Expr:
    """The phone as typed; 5 % missing, ~1 % invalid. Customers abroad always write a country code."""
    bad = r.weighted("phonebadkind", [50, 30, 20])
    invalid = (
        pl.when(bad == 0).then(pl.format("0{} {}", pl.col("_pa"), pl.col("_ps").str.slice(0, 2)))  # 040 12
        .when(bad == 1).then(pl.format("+358 {}", pl.col("_ps").str.slice(0, 3)))                  # +358 123
        # libphonenumber drops one stray letter, so this one is usually valid after all
        .otherwise(pl.format("0{} 12a 4567", pl.col("_pa")))
    )
    typed = _phone_text(r, "phonefmt", pl.col("_pk"), pl.col("_pa"), pl.col("_ps"),
                        international_only=pl.col("country") != "FI")
    u = r.unif("phoneq")
    return pl.when(u < 0.05).then(NONE).when(u < 0.06).then(invalid).otherwise(typed)


def _incomplete_address(r: Rng) -> dict[str, pl.Expr]:
    """~3 % incomplete: nothing 1.2 %, no city 0.8 %, no street 0.5 %, a 4-digit postal code 0.5 %."""
    u = r.unif("addrq")
    return {
        "street_address": pl.when((u < 0.012) | ((u >= 0.020) & (u < 0.025))).then(NONE)
        .otherwise(pl.col("street_address")),
        "postal_code": pl.when(u < 0.012).then(NONE)
        .when((u >= 0.025) & (u < 0.030)).then(pl.col("postal_code").str.slice(0, 4))
        .otherwise(pl.col("postal_code")),
        "city": pl.when(u < 0.020).then(NONE).otherwise(pl.col("city")),
    }


def _profile(r: Rng, pools: Pools) -> dict[str, pl.Expr]:
    """Company and role of business contacts, birth and death dates, the paperless flag."""
    business = pl.col("customer_type") == "business"
    role = r.choice("role", ["ceo", "cfo", "hr", "sales", "it", ""], [25, 20, 20, 15, 10, 10])
    paperless = r.unif("paperless") < 0.30
    spelling = r.weighted("boolspell", [70, 15, 5, 10])
    return {
        "company_name": pl.when(business).then(r.choice("company", pools.company)).otherwise(NONE),
        "business_role": pl.when(business & (role != "")).then(role).otherwise(NONE),
        # a few percent born 2008-2016: minors, some of them under the minimum age
        "birth_date": _mixed_date(r, "birthfmt", pl.when(r.unif("young") < 0.04)
                                  .then(_day(dt.date(2008, 1, 1), r, "youngbirth", 9 * 365))
                                  .otherwise(_day(dt.date(1930, 1, 1), r, "birth", 76 * 365)), 0.15),
        # ~0.5 % under a safety non-disclosure (turvakielto)
        "address_protected": pl.when(r.unif("protected") < 0.005).then(pl.lit("true")).otherwise(NONE),
        "deceased_date": pl.when(r.unif("dead") < 0.005)
        .then(_mixed_date(r, "deathfmt", _day(dt.date(2018, 1, 1), r, "death", 8 * 365 + 330), 0.3))
        .otherwise(NONE),
        # true/false, 1/0, kyllä/ei, yes/(empty): the spellings the contract accepts
        "paperless": pl.when(spelling == 0).then(pl.when(paperless).then(pl.lit("true")).otherwise(pl.lit("false")))
        .when(spelling == 1).then(pl.when(paperless).then(pl.lit("1")).otherwise(pl.lit("0")))
        .when(spelling == 2).then(pl.when(paperless).then(pl.lit("kyllä")).otherwise(pl.lit("ei")))
        .otherwise(pl.when(paperless).then(pl.lit("yes")).otherwise(NONE)),
    }


def _per_customer(lo: int, hi: int, seed: int, table: str, weights: list[float], offset: int) -> pl.DataFrame:
    """Rows repeated 0..len(weights)-1 times per customer; `_i` numbers the events globally from offset."""
    r = Rng(seed, f"{table}-count")
    events = _rows(lo, hi).select(_c=pl.col("_i").repeat_by(r.weighted("k", weights)).explode()).drop_nulls()
    return events.with_row_index("_i", offset=offset).with_columns(pl.col("_i").cast(pl.Int64))


def _consents(lo: int, hi: int, n: int, seed: int, width: int, offset: int) -> pl.DataFrame:
    """0-6 events per customer (mean ~2.9), 25 % denials, 0.5 % after as_of, 0.1 % orphan ids."""
    ev = _per_customer(lo, hi, seed, "consent", [10, 14, 20, 20, 15, 11, 10], offset).lazy()
    r = Rng(seed, "consents")
    start = int(dt.datetime(2023, 12, 1, tzinfo=dt.timezone.utc).timestamp())
    end = int(dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.timezone.utc).timestamp())
    # events after as_of (up to two weeks) are what a point-in-time run must ignore
    secs = pl.when(r.unif("future") < 0.005).then(pl.lit(end) + r.below("fut", 14 * 86400)).otherwise(
        pl.lit(start) + r.below("t", end - start))
    denied = r.unif("status") < 0.25
    orphan = r.unif("orphan") < 0.001
    ev = ev.with_columns(
        customer_id=pl.when(orphan).then(_id(pl.lit(n) + r.below("orphid", max(1, n // 1000)), width))
        .otherwise(_id(pl.col("_c"), width)),
        channel=r.choice("channel", ["email", "sms", "phone", "post", "social", "all"], [35, 20, 12, 8, 10, 15]),
        purpose=r.choice("purpose", ["marketing", "service", "survey", "all"], [60, 20, 10, 10]),
        status=pl.when(denied).then(pl.lit("denied")).otherwise(pl.lit("granted")),
        _ts=pl.from_epoch(secs, time_unit="s").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Helsinki"),
        source=pl.when(denied)
        .then(r.choice("srcd", ["unsubscribe_link", "customer_service", "web", "sms_reply"], [50, 30, 15, 5]))
        .otherwise(r.choice("srcg", ["web", "customer_service", "app", "sms_reply", "branch"], [50, 20, 15, 10, 5])),
        _fmt=r.weighted("tsfmt", [70, 20, 10]),
    ).collect()
    ts = pl.col("_ts")
    formats = [
        ts.dt.strftime("%Y-%m-%dT%H:%M:%S%:z"),                                   # ISO with offset
        ts.dt.strftime("%Y-%m-%d %H:%M:%S"),                                      # ISO, local time
        pl.format("{}.{}.{} {}.{}", ts.dt.day(), ts.dt.month(), ts.dt.year(), ts.dt.hour(),
                  ts.dt.minute().cast(pl.String).str.zfill(2)),                   # Finnish d.m.yyyy h.mm
    ]
    # each spelling rendered on its own rows only (a when/then would render all three everywhere);
    # each customer's history in time order, as an export per customer gives it
    return pl.concat(
        [ev.lazy().filter(pl.col("_fmt") == k).with_columns(recorded_at=e) for k, e in enumerate(formats)]
    ).sort("_c", "_ts", "_i").select("customer_id", "channel", "purpose", "status", "recorded_at", "source").collect()


def _history(lo: int, hi: int, n: int, seed: int, width: int, offset: int, fmt: str) -> pl.DataFrame:
    """0-12 contacts per customer (mean ~6) over the HISTORY_DAYS before as_of, all channels and
    purposes, several campaigns; 0.1 % orphan ids. Parquet holds sent_at as a timestamp, CSV as
    ISO text with its offset; each customer's contacts in time order."""
    h = _per_customer(lo, hi, seed, "history", [3, 4, 6, 9, 11, 13, 13, 11, 9, 7, 6, 4, 4], offset).lazy()
    r = Rng(seed, "history")
    end = int(dt.datetime.combine(AS_OF, dt.time(22, 0), tzinfo=dt.timezone.utc).timestamp())
    secs = pl.lit(end - HISTORY_DAYS * 86400) + r.below("t", HISTORY_DAYS * 86400)
    orphan = r.unif("orphan") < 0.001
    h = h.with_columns(
        customer_id=pl.when(orphan).then(_id(pl.lit(n) + r.below("orphid", max(1, n // 1000)), width))
        .otherwise(_id(pl.col("_c"), width)),
        channel=r.choice("channel", ["email", "sms", "phone", "post", "social"], [45, 20, 8, 17, 10]),
        purpose=r.choice("purpose", ["marketing", "service", "survey", "contract", "legal"], [60, 25, 5, 5, 5]),
        sent_at=pl.from_epoch(secs, time_unit="s").dt.cast_time_unit("us").dt.replace_time_zone("UTC"),
        campaign=r.choice("campaign", HISTORY_CAMPAIGNS, [20, 20, 15, 15, 10, 10, 9.5, 0.5]),
    ).sort("_c", "sent_at", "_i")
    if fmt != "parquet":
        h = h.with_columns(sent_at=pl.col("sent_at").dt.convert_time_zone("Europe/Helsinki")
                           .dt.strftime("%Y-%m-%dT%H:%M:%S%:z"))
    return h.select("customer_id", "channel", "purpose", "sent_at", "campaign").collect()


def _holdings(lo: int, hi: int, seed: int, width: int, offset: int) -> pl.DataFrame:
    """0-4 holdings per customer (mean ~1.9); some ended, some ending or starting after as_of."""
    h = _per_customer(lo, hi, seed, "holding", [20, 20, 25, 20, 15], offset).lazy()
    r = Rng(seed, "holdings")
    first = _epoch_days(dt.date(1995, 1, 1))
    start = pl.lit(first) + r.below("start", _epoch_days(dt.date(2027, 2, 1)) - first)
    end = start + 30 + r.below("dur", 15 * 365)
    return h.select(
        customer_id=_id(pl.col("_c"), width),
        product_group=r.choice("pg", ["pension", "life", "savings", "non-life"], [30, 25, 20, 25]),
        start_date=_mixed_date(r, "sfmt", start.cast(pl.Int32).cast(pl.Date), 0.10),
        end_date=pl.when(r.unif("ended") < 0.30)
        .then(_mixed_date(r, "efmt", end.cast(pl.Int32).cast(pl.Date), 0.10)).otherwise(NONE),
    ).collect()


# --- suppression lists: each row picks a random customer `_c`, filled in chunk by chunk ---------


def _list_base(n_rows: int, n: int, seed: int, table: str) -> pl.DataFrame:
    r = Rng(seed, table)
    kind = r.weighted("rndkind", [80, 20])
    return _rows(0, n_rows).with_columns(
        _c=r.below("cust", n),
        _from=r.unif("from"),
        _rk=kind,
        _ra=pl.when(kind == 0).then(r.choice("rndmob", FI_MOBILE)).otherwise(r.choice("rndarea", FI_AREA)),
        _rs=(r.below("rndsub0", 8) + 1).cast(pl.String) + r.digits("rndsub", 6),
    )


def _picked(base: pl.DataFrame, customers: pl.DataFrame, lo: int) -> pl.DataFrame:
    """The list rows of base whose customer is in this chunk, with that customer's columns."""
    rows = base.filter((pl.col("_c") >= lo) & (pl.col("_c") < lo + customers.height)).select("_i", "_c")
    return pl.concat([rows.select("_i"), customers.select(PICKED_COLUMNS).gather(rows["_c"] - lo)],
                     how="horizontal")


def _phones(df: pl.DataFrame, seed: int, table: str, from_customers: float) -> pl.DataFrame:
    """A share of customers' numbers re-typed in another spelling, the rest other numbers; 0.2 % junk."""
    r = Rng(seed, table)
    mine = pl.col("_from") < from_customers
    df = df.with_columns(*(pl.when(mine).then(pl.col(c)).otherwise(pl.col(other)).alias(c)
                           for c, other in (("_pk", "_rk"), ("_pa", "_ra"), ("_ps", "_rs"))))
    return df.with_columns(
        phone=pl.when(r.unif("bad") < 0.002).then(r.choice("badtxt", ["12", "040", "n/a", "+358 1"]))
        .otherwise(_phone_text(r, "fmt", pl.col("_pk"), pl.col("_pa"), pl.col("_ps")))
    )


def _internal(df: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The company's own prohibitions: 60 % by customer id, 36 % by e-mail, 4 % unknown e-mails."""
    r = Rng(seed, "internal")
    kind = r.weighted("kind", [60, 36, 4])
    kind = pl.when((kind == 1) & pl.col("email").is_null()).then(0).otherwise(kind)
    email = pl.when(r.unif("case") < 0.3).then(pl.col("email").str.to_uppercase()).otherwise(pl.col("email"))
    return df.select(
        customer_id=pl.when(kind == 0).then(pl.col("customer_id")).otherwise(NONE),
        email=pl.when(kind == 1).then(email)
        .when(kind == 2).then(pl.format("former.customer{}@example.org", pl.col("_i"))).otherwise(NONE),
        note=r.choice("note", ["asked by phone not to be marketed to", "objection received by e-mail",
                               "former customer", "marketing prohibition (branch)"]),
    )


def _robinson(df: pl.DataFrame, seed: int) -> pl.DataFrame:
    """ASML's Robinson export: 90 % phone rows, 10 % name-and-address rows typed by hand."""
    df = _phones(df, seed, "robinson", from_customers=0.5)
    r = Rng(seed, "robinson-na")
    na = r.unif("na") < 0.10
    case = r.weighted("case", [50, 30, 20])
    street = pl.col("street_address")
    channel = r.unif("channel")
    return df.select(
        phone=pl.when(na).then(NONE).otherwise(pl.col("phone")),
        first_name=pl.when(na).then(pl.when(case == 1).then(pl.col("first_name").str.to_lowercase())
                                    .otherwise(pl.col("first_name"))),
        last_name=pl.when(na).then(pl.when(case == 2).then(pl.col("last_name").str.to_uppercase())
                                   .otherwise(pl.col("last_name"))),
        # some typed with a comma before the apartment: "Hämeenkatu 3 B,14"
        street_address=pl.when(na).then(pl.when(case == 1).then(street.str.replace(r" ([A-D]) (\d+)$", " ${1},${2}"))
                                        .otherwise(street)),
        postal_code=pl.when(na).then(pl.col("postal_code")),
        channel=pl.when(na & (channel < 0.5)).then(pl.lit("post"))
        .when(~na & (channel < 0.3)).then(pl.lit("phone")).otherwise(NONE),
    )


def _telemarketing(df: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Suomen Telemarkkinointiliitto's prohibitions: phone numbers with a membership date."""
    df = _phones(df, seed, "telemarketing", from_customers=0.4)
    r = Rng(seed, "telemarketing-date")
    first = dt.date(2015, 1, 1)
    since = _day(first, r, "since", _epoch_days(LIST_DATE) - 1 - _epoch_days(first))
    return df.select("phone", member_since=since.dt.strftime("%Y-%m-%d"))


LISTS = {"internal": _internal, "robinson": _robinson, "telemarketing": _telemarketing}
EXCEL_EXPORTS = ("robinson",)  # written as Excel saves CSV: BOM, ';' and CRLF


# --- writing ----------------------------------------------------------------------------------


class _Appender:
    """Appends chunks to one CSV or Parquet file, so that no whole table is ever held in memory.
    `path` is where it is written, `named` where it will be (for the message when it cannot be)."""

    def __init__(self, path: Path, named: Path, fmt: str, excel: bool = False):
        self.path, self.named, self.fmt, self.excel = path, named, fmt, excel
        self.rows = 0
        self._csv = None
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, df: pl.DataFrame) -> None:
        with cannot_write(self.named):
            if self.fmt == "parquet":
                table = df.to_arrow()
                if self._parquet is None:
                    self._schema = table.schema
                    self._parquet = pq.ParquetWriter(self.path, self._schema, compression="zstd")
                self._parquet.write_table(table.cast(self._schema))
            else:
                first = self._csv is None
                if first:
                    self._csv = self.path.open("wb")
                df.write_csv(self._csv, include_header=first, include_bom=self.excel and first,
                             separator=";" if self.excel else ",", line_terminator="\r\n" if self.excel else "\n")
        self.rows += df.height

    def close(self) -> None:
        with cannot_write(self.named):
            for handle in (self._csv, self._parquet):
                if handle is not None:
                    handle.close()


CAMPAIGN = """\
# Written by `audience sample` (customers = {n}, seed = {seed}, format = {fmt}).
# as_of and the list dates are fixed, so the lists are never stale.
[campaign]
name = "{name}"
purpose = "marketing"
product_group = "pension"
channels = ["email", "sms", "phone", "post", "social"]
business_roles = ["ceo", "cfo"]
as_of = {as_of}
holdout_percent = 5
# minimum_age = 15 (the default): no marketing to anyone younger

[inputs]
customers = "customers.{fmt}"
consents = "consents.{fmt}"
holdings = "holdings.{fmt}"
contact_history = "contact_history.{fmt}"

[[pressure]]
# at most two marketing contacts in 30 days, whatever the channel
name = "marketing-monthly"
max_contacts = 2
window_days = 30

[[pressure]]
# one sales call a quarter
name = "quarterly-call"
channels = ["phone"]
max_contacts = 1
window_days = 90

[[pressure]]
# never this campaign twice to one person
name = "once-per-campaign"
max_contacts = 1
window_days = 365
same_campaign = true

[arbitration]
# one direct contact per person, e-mail first; social is kept beside it
order = ["email", "sms", "post", "phone"]

[[suppressions]]
name = "internal-prohibitions"
kind = "internal"
path = "internal.{fmt}"

[[suppressions]]
name = "robinson-2026-11"
kind = "robinson"
path = "robinson.{fmt}"
list_date = {list_date}

[[suppressions]]
name = "telemarketing-2026-11"
kind = "telemarketing"
path = "telemarketing.{fmt}"
list_date = {list_date}

[output]
dir = "out"
format = "{fmt}"
# the social channel's customers also as upload files for these platforms' custom audiences
audiences = ["meta", "google"]
"""


def _prepare(out_dir: Path, customers: int, fmt: str, force: bool) -> None:
    """Usage checks first, so that nothing is written when one fails. What a killed run left in
    the folder (its hidden temporary folder) does not count: it is removed."""
    if isinstance(customers, bool) or not isinstance(customers, int) or customers < 1:
        raise UsageError(f"--customers: the number of customers must be at least 1 (got {customers})")
    if fmt not in FORMATS:
        raise UsageError(f"--format: {fmt!r} is not one of: {', '.join(FORMATS)}")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir():
        remove_leftovers(out_dir, TEMP_MARK)
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise UsageError(f"{out_dir} is not empty; use --force to write the sample into it anyway "
                         "(files of the same names are replaced)")


def write_sample(out_dir: str | Path, customers: int, seed: int = 1, fmt: str = "csv", *, force: bool = False,
                 progress: Callable[[str], None] | None = None, chunk_rows: int = CHUNK_ROWS) -> SampleSet:
    """Write a synthetic data set of `customers` customers and its campaign.toml into out_dir.

    Refuses (UsageError) a folder that is not empty unless `force`. The same (customers, seed,
    fmt) always gives byte-identical files. chunk_rows bounds the memory used (and is the Parquet
    row-group size); it never changes the data. The files appear together or not at all: they
    are written into a hidden folder inside out_dir and moved into place once all are whole; a
    write that fails raises OutputError naming the file and the cause, and leaves out_dir as it was.
    """
    out = Path(out_dir)
    _prepare(out, customers, fmt, force)
    step = progress or (lambda _description: None)
    step("building name, street and company pools (Faker)")
    pools = make_pools(seed)
    width = max(7, len(str(2 * customers)))
    n_list = max(1, int(customers * LIST_SHARE))
    bases = {name: _list_base(n_list, customers, seed, name) for name in LISTS}
    picked: dict[str, list[pl.DataFrame]] = {name: [] for name in LISTS}
    config = out / "campaign.toml"
    with new_files(out) as staging:
        tables = {name: _Appender(staging / f"{name}.{fmt}", out / f"{name}.{fmt}", fmt, excel=name in EXCEL_EXPORTS)
                  for name in TABLES}
        try:
            for lo in range(0, customers, chunk_rows):
                hi = min(customers, lo + chunk_rows)
                step(f"customers, consents and holdings {lo + 1:,}–{hi:,} of {customers:,}")
                chunk = _customers(lo, hi, seed, width, pools)
                tables["customers"].write(chunk.select(CUSTOMER_COLUMNS))
                for name, base in bases.items():
                    picked[name].append(_picked(base, chunk, lo))
                del chunk
                tables["consents"].write(_consents(lo, hi, customers, seed, width, tables["consents"].rows))
                tables["holdings"].write(_holdings(lo, hi, seed, width, tables["holdings"].rows))
                tables["contact_history"].write(_history(lo, hi, customers, seed, width,
                                                         tables["contact_history"].rows, fmt))
            step("suppression lists")
            for name, finish in LISTS.items():
                rows = pl.concat(picked.pop(name)).sort("_i").drop("_i")
                tables[name].write(finish(pl.concat([bases.pop(name), rows], how="horizontal"), seed))
        except BaseException:
            for table in tables.values():
                with suppress(Exception):
                    table.close()
            raise
        for table in tables.values():
            table.close()
        with cannot_write(config):
            (staging / config.name).write_text(CAMPAIGN.format(
                n=customers, seed=seed, fmt=fmt, name=CAMPAIGN_NAME, as_of=AS_OF.isoformat(),
                list_date=LIST_DATE.isoformat()), encoding="utf-8")
    for table in TABLES:  # a table left over in the other format would only confuse
        for other in FORMATS:
            if other != fmt:
                with suppress(OSError):
                    (out / f"{table}.{other}").unlink(missing_ok=True)
    return SampleSet(dir=out, config=config, files={name: out / f"{name}.{fmt}" for name in TABLES},
                     rows={name: t.rows for name, t in tables.items()})
