#!/usr/bin/env python3
"""Generate a large synthetic input set for benchmarking `audience build`.

    .venv/bin/python bench/generate.py OUT_DIR --customers N --seed S [--format csv|parquet]

Writes customers, consents, holdings, internal, robinson and telemarketing tables plus a
campaign.toml (marketing, product group pension, all five channels, roles ceo/cfo, as_of
2026-12-01, 5 % holdout, the three lists dated 2026-11-20) into OUT_DIR.

Everything is vectorized with Polars expressions: no per-row Python loop. Randomness comes from
a splitmix64 finalizer computed in Polars UInt64 arithmetic over (row index, stream key), so the
output is a pure function of (N, seed, format) and does not depend on the Polars version's hash
or random number generator. Only Polars is needed (numpy is not).

Every name, address, e-mail address and phone number is invented; e-mail domains are `example.*`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
import time
from pathlib import Path

import polars as pl

U64 = pl.UInt64
GOLDEN = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
MASK = (1 << 64) - 1

AS_OF = dt.date(2026, 12, 1)
LIST_DATE = dt.date(2026, 11, 20)

# ----------------------------------------------------------------------------------------------
# Randomness: splitmix64 over (row index, stream)
# ----------------------------------------------------------------------------------------------


def _lit(v: int) -> pl.Expr:
    return pl.lit(v & MASK, dtype=U64)


def _mix(z: pl.Expr) -> pl.Expr:
    # splitmix64 finalizer; UInt64 arithmetic in Polars wraps, as the algorithm needs.
    z = (z ^ (z // (1 << 30))) * _lit(M1)
    z = (z ^ (z // (1 << 27))) * _lit(M2)
    return z ^ (z // (1 << 31))


class Rng:
    """Deterministic per-row random numbers: r.u64("name") is a fresh stream per name."""

    def __init__(self, seed: int, table: str, index: str = "_i"):
        self.seed = seed
        self.table = table
        self.index = index

    def _key(self, stream: str) -> int:
        h = hashlib.sha256(f"{self.seed}:{self.table}:{stream}".encode()).digest()
        return int.from_bytes(h[:8], "little")

    def u64(self, stream: str) -> pl.Expr:
        i = pl.col(self.index).cast(U64)
        return _mix(i * _lit(GOLDEN) + _lit(self._key(stream)))

    def unif(self, stream: str) -> pl.Expr:
        """Uniform float in [0, 1)."""
        return (self.u64(stream) // (1 << 11)).cast(pl.Float64) * (1.0 / (1 << 53))

    def below(self, stream: str, k: int) -> pl.Expr:
        """Uniform integer in [0, k)."""
        return (self.u64(stream) % _lit(k)).cast(pl.Int64)

    def digits(self, stream: str, n: int) -> pl.Expr:
        """n random decimal digits as a string (leading zeros kept)."""
        return self.below(stream, 10**n).cast(pl.String).str.zfill(n)

    def weighted(self, stream: str, weights: list[float]) -> pl.Expr:
        """Index in [0, len(weights)) drawn with the given relative weights."""
        total = float(sum(weights))
        acc, cum = 0.0, []
        for w in weights[:-1]:
            acc += w / total
            cum.append(acc)
        # number of thresholds <= u
        cum_s = pl.Series(cum, dtype=pl.Float64)
        return pl.lit(cum_s).search_sorted(self.unif(stream), side="right").cast(pl.Int64)

    def choice(self, stream: str, values: list[str], weights: list[float] | None = None) -> pl.Expr:
        idx = self.weighted(stream, weights) if weights else self.below(stream, len(values))
        return pick(idx, values)


def pick(idx: pl.Expr, values: list[str]) -> pl.Expr:
    return pl.lit(pl.Series(values, dtype=pl.String)).gather(idx)


def rows(n: int) -> pl.DataFrame:
    return pl.DataFrame({"_i": pl.int_range(0, n, eager=True, dtype=pl.Int64)})


# ----------------------------------------------------------------------------------------------
# Pools
# ----------------------------------------------------------------------------------------------

FI_FIRST = """Matti Juha Timo Mikko Jari Kari Antti Pekka Heikki Jukka Mika Markku Sami Janne Hannu
Ville Juho Eero Olli Tuomas Ilkka Jouni Väinö Aleksi Lauri Anna Maria Liisa Tiina Anne Päivi Sari
Minna Marja Leena Johanna Kaisa Helena Riitta Pirjo Eeva Sanna Aino Emilia Anna-Liisa Tuula Kirsi
Satu Noora Laura Elina Sirpa Marja-Leena Hilkka""".split()
SV_FIRST = """Anders Erik Johan Mikael Fredrik Henrik Karl Lars Peter Stefan Björn Mats Nils Kristian
Ulf Anna Maria Kristina Eva Karin Britt Ulla Ingrid Sofia Emma Linnéa Camilla Birgitta Marianne
Annika""".split()
FI_LAST = """Virtanen Korhonen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen
Lehtonen Lehtinen Saarinen Salminen Heinonen Niemi Heikkilä Kinnunen Salonen Turunen Salo Laitinen
Tuominen Rantanen Karjalainen Jokinen Mattila Savolainen Lahtinen Ahonen Hiltunen Ojala Rantala
Kallio Leinonen Hirvonen Nurmi Koivisto Väisänen Pöllänen""".split()
SV_LAST = """Lindqvist Holmström Åberg Lindroos Nyström Sjöberg Forsman Björklund Grönroos Lindberg
Eriksson Johansson Karlsson Andersson Sundström Westerlund Ekholm Blomqvist Strandberg Wikström
Lindholm""".split()
FI_STREETS = [
    "Mannerheimintie", "Hämeenkatu", "Kauppakatu", "Aleksanterinkatu", "Puistokatu", "Kirkkokatu",
    "Yliopistonkatu", "Satakunnankatu", "Hallituskatu", "Kalevankatu", "Pohjoisesplanadi",
    "Tapiolantie", "Otakaari", "Länsiväylä", "Fredrikinkatu", "Kuninkaankatu", "Rautatienkatu",
    "Koulukatu", "Isokatu", "Rantakatu", "Keskuskatu", "Torikatu", "Asemakatu", "Myllytie",
    "Koivukuja", "Mäntytie", "Kuusitie", "Koivistontie", "Vanha Porvoontie", "Itäinen Pitkäkatu",
]
SV_STREETS = [
    "Runebergsgatan", "Auragatan", "Storgatan", "Torggatan", "Skolgatan", "Strandvägen",
    "Kyrkogatan", "Norra Esplanaden", "Sandvikskajen", "Nylandsgatan",
]
# city (fi), city (sv or same), first postal code, number of codes (step 10), weight
CITIES = [
    ("Helsinki", "Helsingfors", 100, 90, 24),
    ("Espoo", "Esbo", 2100, 84, 11),
    ("Tampere", "Tammerfors", 33100, 86, 9),
    ("Vantaa", "Vanda", 1200, 57, 9),
    ("Oulu", "Uleåborg", 90100, 84, 7),
    ("Turku", "Åbo", 20100, 86, 7),
    ("Jyväskylä", "Jyväskylä", 40100, 85, 5),
    ("Kuopio", "Kuopio", 70100, 84, 4),
    ("Lahti", "Lahtis", 15100, 85, 4),
    ("Pori", "Björneborg", 28100, 80, 3),
    ("Joensuu", "Joensuu", 80100, 69, 3),
    ("Lappeenranta", "Villmanstrand", 53100, 87, 3),
    ("Hämeenlinna", "Tavastehus", 13100, 62, 2),
    ("Vaasa", "Vasa", 65100, 83, 3),
    ("Seinäjoki", "Seinäjoki", 60100, 70, 2),
    ("Rovaniemi", "Rovaniemi", 96100, 83, 2),
    ("Porvoo", "Borgå", 6100, 55, 2),
    ("Kokkola", "Karleby", 67100, 70, 1),
    ("Raasepori", "Raseborg", 10300, 60, 1),
]
COMPANY_A = ["Suomen", "Pohjolan", "Nordic", "Lapin", "Etelä-Suomen", "Keski-Suomen", "Länsi", "Itä",
             "Saaristo", "Järvi", "Metsä", "Kaupunki"]
COMPANY_B = ["Rakennus", "Kuljetus", "Konsultointi", "Kiinteistöt", "Metalli", "Ohjelmistot",
             "Tilitoimisto", "Logistiikka", "Sähkö", "Puutarha", "Kone", "Media"]
COMPANY_C = ["Oy", "Ab", "Oyj", "Ky", "Tmi"]
DOMAINS = ["example.fi", "example.com", "example.net", "example.org"]
FI_MOBILE = ["40", "41", "44", "45", "46", "50"]
FI_AREA = ["9", "2", "3", "5", "6", "8", "13", "14", "15", "16", "17", "19"]


def fold_ascii(e: pl.Expr) -> pl.Expr:
    return e.str.replace_many(["ä", "ö", "å", "é", "Ä", "Ö", "Å"], ["a", "o", "a", "e", "A", "O", "A"])


def epoch_days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def fi_date(e: pl.Expr) -> pl.Expr:
    """Finnish d.m.yyyy (not zero-padded) from a Date expression."""
    return pl.format("{}.{}.{}", e.dt.day(), e.dt.month(), e.dt.year())


def mixed_date(r: Rng, stream: str, e: pl.Expr, finnish_share: float) -> pl.Expr:
    return pl.when(r.unif(stream) < finnish_share).then(fi_date(e)).otherwise(e.dt.strftime("%Y-%m-%d"))


# ----------------------------------------------------------------------------------------------
# Phones: components (kind, prefix, subscriber digits) and the formats people type
# ----------------------------------------------------------------------------------------------


def phone_parts(r: Rng, p: str) -> list[pl.Expr]:
    """Columns _pk (0 FI mobile, 1 FI landline, 2 SE mobile, 3 EE mobile), _pa (prefix), _ps."""
    kind = r.weighted(f"{p}kind", [84, 14.5, 1.0, 0.5])
    fi_area = r.choice(f"{p}area", FI_AREA, [30, 12, 12, 5, 6, 6, 3, 4, 3, 3, 3, 4])
    mob = r.choice(f"{p}mob", FI_MOBILE, [30, 10, 18, 14, 5, 23])
    se = r.choice(f"{p}se", ["70", "72", "73", "76"])
    prefix = (
        pl.when(kind == 0).then(mob)
        .when(kind == 1).then(fi_area)
        .when(kind == 2).then(se)
        .otherwise(pl.lit("5"))
    )
    # two-digit area codes: 7 or 6 subscriber digits; everything else 7.
    # the first subscriber digit is 1-8 (Finnish fixed-line numbers cannot start with 0 or 9 there)
    sub7 = (r.below(f"{p}sub0", 8) + 1).cast(pl.String) + r.digits(f"{p}sub", 6)
    sub = (
        pl.when((kind == 1) & (fi_area.str.len_chars() == 2) & (r.unif(f"{p}len") < 0.5))
        .then(sub7.str.slice(0, 6))
        .otherwise(sub7)
    )
    return [kind.alias("_pk"), prefix.alias("_pa"), sub.alias("_ps")]


def phone_text(r: Rng, stream: str, kind: pl.Expr, a: pl.Expr, s: pl.Expr, international_only: pl.Expr | None = None) -> pl.Expr:
    """Render phone components in a randomly chosen everyday format."""
    s3, srest = s.str.slice(0, 3), s.str.slice(3)
    spaced = pl.format("{} {}", s3, srest)
    f = r.weighted(stream, [35, 20, 25, 5, 10, 5])
    national = (
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
    intl_fi = pl.when(f <= 2).then(pl.format("+358 {} {}", a, s)).otherwise(pl.format("+358{}{}", a, s))
    text = (
        pl.when(kind == 2).then(pl.format("+46 {} {} {}", a, s3, srest))   # +46 70 123 4567
        .when(kind == 3).then(pl.format("+372 {}{}", a, s))               # +372 51234567
        .when(international_only if international_only is not None else pl.lit(False)).then(intl_fi)
        .when(kind == 1).then(landline)
        .otherwise(national)
    )
    return text


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------


def id_expr(idx: pl.Expr, width: int) -> pl.Expr:
    return pl.lit("C") + (idx + 1).cast(pl.String).str.zfill(width)


def customers(n: int, seed: int, width: int) -> pl.DataFrame:
    r = Rng(seed, "customers")
    # lazy, so that common subexpressions (a random draw used in several branches) run once
    df = rows(n).lazy()
    lang_idx = r.weighted("lang", [88, 9, 3])
    df = df.with_columns(
        customer_id=id_expr(pl.col("_i"), width),
        customer_type=pl.when(r.unif("type") < 0.90).then(pl.lit("private")).otherwise(pl.lit("business")),
        language=pick(lang_idx, ["fi", "sv", "en"]),
        country=r.choice("country", ["FI", "SE", "AX"], [99.2, 0.5, 0.3]),
        _fi_first=r.choice("fifirst", FI_FIRST),
        _sv_first=r.choice("svfirst", SV_FIRST),
        _fi_last=r.choice("filast", FI_LAST),
        _sv_last=r.choice("svlast", SV_LAST),
        _street_fi=r.choice("streetfi", FI_STREETS),
        _street_sv=r.choice("streetsv", SV_STREETS),
        _house=(r.below("house", 120) + 1).cast(pl.String),
        _stair=r.choice("stair", ["A", "B", "C", "D"], [40, 30, 20, 10]),
        _apt=(r.below("apt", 60) + 1).cast(pl.String),
        _has_apt=r.unif("hasapt") < 0.6,
        _city=r.weighted("city", [c[4] for c in CITIES]),
        _pc_step=r.unif("pcstep"),
        _num=(r.below("emailnum", 9990) + 10).cast(pl.String),
        # first.last (rare: collides), first.lastNNNN, flastNNNN, Mixed.CaseNNNN@EXAMPLE.FI
        _email_style=r.weighted("emailstyle", [2, 68, 26, 4]),
        _domain=r.choice("domain", DOMAINS, [40, 30, 18, 12]),
        *phone_parts(r, "ph"),
    )
    sv = pl.col("language") == "sv"
    pl_first = pl.when(sv).then(pl.col("_sv_first")).otherwise(pl.col("_fi_first"))
    pl_last = pl.when(sv & (r.unif("svlastuse") < 0.8)).then(pl.col("_sv_last")).otherwise(pl.col("_fi_last"))
    street = pl.when(sv).then(pl.col("_street_sv")).otherwise(pl.col("_street_fi"))
    street_full = pl.when(pl.col("_has_apt")).then(
        pl.format("{} {} {} {}", street, pl.col("_house"), pl.col("_stair"), pl.col("_apt"))
    ).otherwise(pl.format("{} {}", street, pl.col("_house")))
    city_fi = pick(pl.col("_city"), [c[0] for c in CITIES])
    city_sv = pick(pl.col("_city"), [c[1] for c in CITIES])
    pc_base = pl.lit(pl.Series([c[2] for c in CITIES], dtype=pl.Int64)).gather(pl.col("_city"))
    pc_count = pl.lit(pl.Series([c[3] for c in CITIES], dtype=pl.Int64)).gather(pl.col("_city"))
    postal = (pc_base + (pl.col("_pc_step") * pc_count).cast(pl.Int64) * 10).cast(pl.String).str.zfill(5)
    df = df.with_columns(
        first_name=pl_first,
        last_name=pl_last,
        street_address=street_full,
        postal_code=postal,
        city=pl.when(sv).then(city_sv).otherwise(city_fi),
    )

    # Households: ~4 % share the previous customer's last name and address (spouses; R10 on post),
    # ~7 % the previous customer's phone, ~3 % the previous customer's e-mail.
    hh = r.unif("household") < 0.04
    df = df.with_columns(
        [pl.when(hh).then(pl.col(c).shift(1)).otherwise(pl.col(c)).alias(c)
         for c in ["last_name", "street_address", "postal_code", "city"]]
    )

    # E-mail from the (possibly household) name.
    f = fold_ascii(pl.col("first_name")).str.to_lowercase()
    last = fold_ascii(pl.col("last_name")).str.to_lowercase()
    st = pl.col("_email_style")
    local = (
        pl.when(st == 0).then(pl.format("{}.{}", f, last))
        .when(st == 1).then(pl.format("{}.{}{}", f, last, pl.col("_num")))
        .when(st == 2).then(pl.format("{}{}{}", f.str.slice(0, 1), last, pl.col("_num")))
        .otherwise(pl.format("{}.{}{}", fold_ascii(pl.col("first_name")), fold_ascii(pl.col("last_name")), pl.col("_num")))
    )
    domain = pl.when(st == 3).then(pl.col("_domain").str.to_uppercase()).otherwise(pl.col("_domain"))
    email = pl.format("{}@{}", local, domain)
    bad = r.weighted("emailbadkind", [30, 30, 20, 20])
    invalid_email = (
        pl.when(bad == 0).then(pl.format("{}{}", local, domain))                      # no @
        .when(bad == 1).then(pl.format("{}@example", local))                          # one-label domain
        .when(bad == 2).then(pl.format("{} {}@{}", f, last, domain))                  # space in local part
        .otherwise(pl.format("{}@{}.", local, domain))                                # trailing dot
    )
    u_email = r.unif("emailq")
    email = pl.when(u_email < 0.05).then(pl.lit(None, dtype=pl.String)).when(u_email < 0.07).then(invalid_email).otherwise(email)
    df = df.with_columns(email=email)
    df = df.with_columns(
        email=pl.when(r.unif("emailshare") < 0.03).then(pl.col("email").shift(1)).otherwise(pl.col("email"))
    )

    # Phone: shared with the previous customer for ~7 %, then rendered; ~5 % missing, ~1 % invalid.
    share = r.unif("phoneshare") < 0.07
    df = df.with_columns(
        [pl.when(share).then(pl.col(c).shift(1)).otherwise(pl.col(c)).alias(c) for c in ["_pk", "_pa", "_ps"]]
    )
    df = df.with_columns(_pk=pl.col("_pk").fill_null(0), _pa=pl.col("_pa").fill_null("40"),
                         _ps=pl.col("_ps").fill_null("1234567"))
    phone = phone_text(r, "phonefmt", pl.col("_pk"), pl.col("_pa"), pl.col("_ps"),
                       international_only=pl.col("country") != "FI")
    bad_phone = r.weighted("phonebadkind", [50, 30, 20])
    invalid_phone = (
        pl.when(bad_phone == 0).then(pl.format("0{} {}", pl.col("_pa"), pl.col("_ps").str.slice(0, 2)))  # 040 12
        .when(bad_phone == 1).then(pl.format("+358 {}", pl.col("_ps").str.slice(0, 3)))                  # +358 123
        # a stray letter: libphonenumber drops a single letter, so "040 12a 4567" parses as the valid
        # +35840124567; this keeps the share of numbers that are actually invalid near 0.8 %
        .otherwise(pl.format("0{} 12a 4567", pl.col("_pa")))
    )
    u_phone = r.unif("phoneq")
    df = df.with_columns(
        phone=pl.when(u_phone < 0.05).then(pl.lit(None, dtype=pl.String))
        .when(u_phone < 0.06).then(invalid_phone).otherwise(phone)
    )

    # Incomplete addresses (~3 %): all missing 1.2 %, no city 0.8 %, no street 0.5 %, 4-digit code 0.5 %.
    ua = r.unif("addrq")
    none = pl.lit(None, dtype=pl.String)
    df = df.with_columns(
        street_address=pl.when((ua < 0.012) | ((ua >= 0.020) & (ua < 0.025))).then(none).otherwise(pl.col("street_address")),
        postal_code=pl.when(ua < 0.012).then(none)
        .when((ua >= 0.025) & (ua < 0.030)).then(pl.col("postal_code").str.slice(0, 4))
        .otherwise(pl.col("postal_code")),
        city=pl.when(ua < 0.020).then(none).otherwise(pl.col("city")),
    )

    business = pl.col("customer_type") == "business"
    company = pl.format("{} {} {}", r.choice("coa", COMPANY_A), r.choice("cob", COMPANY_B),
                        r.choice("coc", COMPANY_C, [80, 10, 3, 5, 2]))
    role = r.choice("role", ["ceo", "cfo", "hr", "sales", "it", ""], [25, 20, 20, 15, 10, 10])
    birth = (pl.lit(epoch_days(dt.date(1930, 1, 1))) + r.below("birth", 76 * 365)).cast(pl.Int32).cast(pl.Date)
    death = (pl.lit(epoch_days(dt.date(2018, 1, 1))) + r.below("death", 8 * 365 + 330)).cast(pl.Int32).cast(pl.Date)
    pp = r.unif("paperless") < 0.30
    spelling = r.weighted("boolspell", [70, 15, 5, 10])
    paperless = (
        pl.when(spelling == 0).then(pl.when(pp).then(pl.lit("true")).otherwise(pl.lit("false")))
        .when(spelling == 1).then(pl.when(pp).then(pl.lit("1")).otherwise(pl.lit("0")))
        .when(spelling == 2).then(pl.when(pp).then(pl.lit("kyllä")).otherwise(pl.lit("ei")))
        .otherwise(pl.when(pp).then(pl.lit("yes")).otherwise(none))
    )
    df = df.with_columns(
        company_name=pl.when(business).then(company).otherwise(none),
        business_role=pl.when(business & (role != "")).then(role).otherwise(none),
        birth_date=mixed_date(r, "birthfmt", birth, 0.15),
        deceased_date=pl.when(r.unif("dead") < 0.005).then(mixed_date(r, "deathfmt", death, 0.3)).otherwise(none),
        paperless=paperless,
    )
    return df.select(
        "_i", "customer_id", "customer_type", "first_name", "last_name", "company_name", "email", "phone",
        "street_address", "postal_code", "city", "country", "language", "birth_date", "deceased_date",
        "paperless", "business_role", "_pk", "_pa", "_ps",
    ).collect()


def consents(n: int, seed: int, width: int) -> pl.DataFrame:
    r = Rng(seed, "consent-count")
    # 0..6 events per customer, mean ~2.9
    k = r.weighted("k", [10, 14, 20, 20, 15, 11, 10])
    ev = rows(n).select(cust=pl.col("_i").repeat_by(k).explode()).drop_nulls()
    ev = ev.with_row_index("_i").lazy()
    r = Rng(seed, "consents")
    start = int(dt.datetime(2023, 12, 1, tzinfo=dt.timezone.utc).timestamp())
    end = int(dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.timezone.utc).timestamp())
    span = end - start
    # ~0.5 % of events fall after as_of (up to two weeks): point-in-time must ignore them
    secs = pl.when(r.unif("future") < 0.005).then(pl.lit(end) + r.below("fut", 14 * 86400)).otherwise(pl.lit(start) + r.below("t", span))
    status_denied = r.unif("status") < 0.25
    n_orph = max(1, n // 1000)
    orphan = r.unif("orphan") < 0.001
    cust_id = pl.when(orphan).then(id_expr(pl.lit(n) + r.below("orphid", n_orph), width)).otherwise(id_expr(pl.col("cust"), width))
    ev = ev.with_columns(
        customer_id=cust_id,
        channel=r.choice("channel", ["email", "sms", "phone", "post", "social", "all"], [35, 20, 12, 8, 10, 15]),
        purpose=r.choice("purpose", ["marketing", "service", "survey", "all"], [60, 20, 10, 10]),
        status=pl.when(status_denied).then(pl.lit("denied")).otherwise(pl.lit("granted")),
        _ts=pl.from_epoch(secs, time_unit="s").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Helsinki"),
        source=pl.when(status_denied)
        .then(r.choice("srcd", ["unsubscribe_link", "customer_service", "web", "sms_reply"], [50, 30, 15, 5]))
        .otherwise(r.choice("srcg", ["web", "customer_service", "app", "sms_reply", "branch"], [50, 20, 15, 10, 5])),
    )
    ev = ev.with_columns(_fmt=r.weighted("tsfmt", [70, 20, 10])).collect()
    # each datetime format is rendered only on its own rows (a when/then would render all three)
    ts = pl.col("_ts")
    formats = [
        ts.dt.strftime("%Y-%m-%dT%H:%M:%S%:z"),                          # ISO with offset
        ts.dt.strftime("%Y-%m-%d %H:%M:%S"),                             # ISO local time
        pl.format("{}.{}.{} {}.{}", ts.dt.day(), ts.dt.month(), ts.dt.year(), ts.dt.hour(),
                  ts.dt.minute().cast(pl.String).str.zfill(2)),          # Finnish d.m.yyyy h.mm
    ]
    ev = pl.concat(
        [ev.lazy().filter(pl.col("_fmt") == k).with_columns(recorded_at=e) for k, e in enumerate(formats)]
    ).sort("_ts", "customer_id", maintain_order=True)
    return ev.select("customer_id", "channel", "purpose", "status", "recorded_at", "source").collect()


def holdings(n: int, seed: int, width: int) -> pl.DataFrame:
    r = Rng(seed, "holding-count")
    k = r.weighted("k", [20, 20, 25, 20, 15])  # mean ~1.9
    h = rows(n).select(cust=pl.col("_i").repeat_by(k).explode()).drop_nulls().with_row_index("_i").lazy()
    r = Rng(seed, "holdings")
    start = (pl.lit(epoch_days(dt.date(1995, 1, 1))) + r.below("start", epoch_days(dt.date(2027, 2, 1)) - epoch_days(dt.date(1995, 1, 1))))
    end = start + 30 + r.below("dur", 15 * 365)
    sd = start.cast(pl.Int32).cast(pl.Date)
    ed = end.cast(pl.Int32).cast(pl.Date)
    h = h.with_columns(
        customer_id=id_expr(pl.col("cust"), width),
        product_group=r.choice("pg", ["pension", "life", "savings", "non-life"], [30, 25, 20, 25]),
        start_date=mixed_date(r, "sfmt", sd, 0.10),
        end_date=pl.when(r.unif("ended") < 0.30).then(mixed_date(r, "efmt", ed, 0.10)).otherwise(pl.lit(None, dtype=pl.String)),
    )
    return h.select("customer_id", "product_group", "start_date", "end_date").collect()


def random_fi_phone(r: Rng, p: str) -> list[pl.Expr]:
    kind = r.weighted(f"{p}kind", [80, 20])
    a = pl.when(kind == 0).then(r.choice(f"{p}mob", FI_MOBILE)).otherwise(r.choice(f"{p}area", FI_AREA))
    sub = (r.below(f"{p}sub0", 8) + 1).cast(pl.String) + r.digits(f"{p}sub", 6)
    return [kind.alias("_pk"), a.alias("_pa"), sub.alias("_ps")]


def phone_list(cust: pl.DataFrame, n_rows: int, seed: int, table: str, from_customers: float) -> pl.DataFrame:
    """Rows with phone components: a share from customers' phones (re-typed), the rest random."""
    r = Rng(seed, table)
    n = cust.height
    base = rows(n_rows).with_columns(_c=r.below("cust", n), _from=r.unif("from") < from_customers,
                                     *random_fi_phone(r, "rnd"))
    picked = cust.select("_pk", "_pa", "_ps", "first_name", "last_name", "street_address", "postal_code").gather(base["_c"])
    picked = picked.rename({c: f"c{c}" for c in picked.columns})
    df = pl.concat([base, picked], how="horizontal")
    df = df.with_columns(
        [pl.when(pl.col("_from")).then(pl.col(f"c{c}")).otherwise(pl.col(c)).alias(c) for c in ["_pk", "_pa", "_ps"]]
    )
    bad = r.unif("bad") < 0.002
    df = df.with_columns(
        phone=pl.when(bad).then(r.choice("badtxt", ["12", "040", "n/a", "+358 1"]))
        .otherwise(phone_text(r, "fmt", pl.col("_pk"), pl.col("_pa"), pl.col("_ps")))
    )
    return df


def internal(cust: pl.DataFrame, n_rows: int, seed: int) -> pl.DataFrame:
    r = Rng(seed, "internal")
    n = cust.height
    base = rows(n_rows).with_columns(_c=r.below("cust", n))
    picked = cust.select(_cid="customer_id", _email="email").gather(base["_c"])
    df = pl.concat([base, picked], how="horizontal")
    kind = r.weighted("kind", [60, 36, 4])  # by id, by customer e-mail, by unknown e-mail
    # a by-e-mail row whose customer has no e-mail is written by id instead
    kind = pl.when((kind == 1) & pl.col("_email").is_null()).then(0).otherwise(kind)
    email = pl.when(r.unif("case") < 0.3).then(pl.col("_email").str.to_uppercase()).otherwise(pl.col("_email"))
    none = pl.lit(None, dtype=pl.String)
    df = df.with_columns(
        customer_id=pl.when(kind == 0).then(pl.col("_cid")).otherwise(none),
        email=pl.when(kind == 1).then(email)
        .when(kind == 2).then(pl.format("former.customer{}@example.org", pl.col("_i")))
        .otherwise(none),
        note=r.choice("note", ["asked by phone not to be marketed to", "objection received by e-mail",
                               "former customer", "marketing prohibition (branch)"]),
    )
    return df.select("customer_id", "email", "note")


def robinson(cust: pl.DataFrame, n_rows: int, seed: int) -> pl.DataFrame:
    df = phone_list(cust, n_rows, seed, "robinson", from_customers=0.5)
    r = Rng(seed, "robinson-na")
    na = r.unif("na") < 0.10  # name-and-address rows
    case = r.weighted("case", [50, 30, 20])
    first = pl.col("cfirst_name")
    last = pl.col("clast_name")
    street = pl.col("cstreet_address")
    df = df.with_columns(
        phone=pl.when(na).then(pl.lit(None, dtype=pl.String)).otherwise(pl.col("phone")),
        first_name=pl.when(na).then(pl.when(case == 1).then(first.str.to_lowercase()).otherwise(first)),
        last_name=pl.when(na).then(pl.when(case == 2).then(last.str.to_uppercase()).otherwise(last)),
        # some typed with a comma before the apartment: "Hämeenkatu 3 B,14"
        street_address=pl.when(na).then(
            pl.when(case == 1).then(street.str.replace(r" ([A-D]) (\d+)$", " ${1},${2}")).otherwise(street)
        ),
        postal_code=pl.when(na).then(pl.col("cpostal_code")),
    )
    ch = r.unif("channel")
    df = df.with_columns(
        channel=pl.when(na & (ch < 0.5)).then(pl.lit("post"))
        .when(~na & (ch < 0.3)).then(pl.lit("phone"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return df.select("phone", "first_name", "last_name", "street_address", "postal_code", "channel")


def telemarketing(cust: pl.DataFrame, n_rows: int, seed: int) -> pl.DataFrame:
    df = phone_list(cust, n_rows, seed, "telemarketing", from_customers=0.4)
    r = Rng(seed, "telemarketing-date")
    since = (pl.lit(epoch_days(dt.date(2015, 1, 1))) + r.below("since", epoch_days(dt.date(2026, 11, 19)) - epoch_days(dt.date(2015, 1, 1)))).cast(pl.Int32).cast(pl.Date)
    return df.with_columns(member_since=since.dt.strftime("%Y-%m-%d")).select("phone", "member_since")


CAMPAIGN = """\
# Benchmark campaign generated by bench/generate.py (customers={n}, seed={seed}).
[campaign]
name = "bench-pension-2026-12"
purpose = "marketing"
product_group = "pension"
channels = ["email", "sms", "phone", "post", "social"]
business_roles = ["ceo", "cfo"]
as_of = 2026-12-01
holdout_percent = 5

[inputs]
customers = "customers.{ext}"
consents = "consents.{ext}"
holdings = "holdings.{ext}"

[[suppressions]]
name = "internal-prohibitions"
kind = "internal"
path = "internal.{ext}"
list_date = {list_date}

[[suppressions]]
name = "robinson-2026-11"
kind = "robinson"
path = "robinson.{ext}"
list_date = {list_date}

[[suppressions]]
name = "telemarketing-2026-11"
kind = "telemarketing"
path = "telemarketing.{ext}"
list_date = {list_date}

[output]
dir = "out"
format = "{fmt}"
"""


def write(df: pl.DataFrame, path: Path, fmt: str, excel: bool = False) -> None:
    df = df.select([c for c in df.columns if not c.startswith("_")])
    if fmt == "parquet":
        df.write_parquet(path.with_suffix(".parquet"))
    elif excel:  # Excel-style export: BOM, semicolons, CRLF
        df.write_csv(path.with_suffix(".csv"), include_bom=True, separator=";", line_terminator="\r\n")
    else:
        df.write_csv(path.with_suffix(".csv"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--customers", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--list-share", type=float, default=0.10, help="rows of each list as a share of N (default 0.10)")
    a = ap.parse_args(argv)
    n = a.customers
    if n < 1:
        ap.error("--customers must be positive")
    width = max(7, len(str(2 * n)))
    out: Path = a.out_dir
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    counts = {}

    cust = customers(n, a.seed, width)
    write(cust, out / "customers", a.format)
    counts["customers"] = cust.height
    n_list = max(1, int(n * a.list_share))
    for name, make, excel in [
        ("internal", lambda: internal(cust, n_list, a.seed), False),
        ("robinson", lambda: robinson(cust, n_list, a.seed), True),
        ("telemarketing", lambda: telemarketing(cust, n_list, a.seed), False),
    ]:
        df = make()
        write(df, out / name, a.format, excel=excel)
        counts[name] = df.height
        del df
    del cust
    for name, make in [("consents", consents), ("holdings", holdings)]:
        df = make(n, a.seed, width)
        write(df, out / name, a.format)
        counts[name] = df.height
        del df
    ext = "parquet" if a.format == "parquet" else "csv"
    (out / "campaign.toml").write_text(CAMPAIGN.format(n=n, seed=a.seed, ext=ext, fmt=a.format,
                                                       list_date=LIST_DATE.isoformat()))
    dt_s = time.perf_counter() - t0
    print(f"wrote {out} in {dt_s:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
