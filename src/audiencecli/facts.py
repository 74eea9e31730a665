"""The facts a rule may read, and how each is made from the inputs (contract sections 3–6).

FACTS is the registry: one row per column of the decision frame, the frame every rule's
expression reads (rules.py). A customer fact is made once per customer from the contacts and
the active holders; a channel fact once per customer and channel; a fact of the consents or of
the lists comes from the consent resolution or the suppression matching, put in place per
channel. The columns `contact_frame` keeps of the customers, and those the decision frames
select, are read off the registry's expressions: a new rule that reads a new customer column
adds one Fact here, nothing else.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import partial
from typing import Callable, Literal

import polars as pl

from . import normalize
from .config import CHANNELS, Config, SuppressionList
from .consent import CAMPAIGN_CHANNEL_TYPE, resolve_consents
from .datetimes import helsinki_time_text
from .engine import ENGINE
from .errors import QUERY_LABEL, shown
from .inputs import Inputs, Progress, no_progress, release
from .phones import normalize_phones
from .rules import LIST_KIND_CODES, Campaign
from .schedule import Together, sequential
from .sources import CUSTOMER_COLUMNS, Loaded, counted_by
from .sources.readers import LINE

KIND_ORDER = tuple(LIST_KIND_CODES)
KIND_TYPE = pl.Enum(KIND_ORDER)
CHANNEL_ORDER = CAMPAIGN_CHANNEL_TYPE  # a channel as an enum, in the contract's order

# What each channel file shows of a customer (contract section 7); the contacts keep these columns.
CHANNEL_COLUMNS = {
    "email": ("customer_id", "email", "first_name", "last_name", "language", "legal_basis"),
    "sms": ("customer_id", "phone", "language", "legal_basis"),
    "phone": ("customer_id", "phone", "first_name", "last_name", "company_name", "language", "legal_basis"),
    "post": ("customer_id", "first_name", "last_name", "company_name", "street_address", "postal_code", "city",
             "country", "language", "legal_basis"),
    "social": ("customer_id", "email_sha256", "phone_sha256", "legal_basis"),
}

Scope = Literal["customer", "channel", "consents", "lists", "history"]


@dataclass(frozen=True)
class Fact:
    """A column of the decision frame. `made(campaign, channel)`: its expression over the contacts
    (and the active holders' `holding_line`), for customer and channel facts; None for the facts
    of the consents and of the lists, which their own steps make."""

    name: str
    scope: Scope
    text: str
    made: Callable[[Campaign, str], pl.Expr] | None = None


def _column(name: str) -> Callable[[Campaign, str], pl.Expr]:
    return lambda campaign, channel: pl.col(name)


def channel_contact(channel: str) -> tuple[pl.Expr, pl.Expr | None]:
    """(contact_problem, dedupe key) of one channel: null problem = usable contact point."""
    problem_of = normalize.contact_problem
    phone_problem = pl.when(pl.col("phone").is_null()).then(problem_of("missing")).otherwise(
        pl.when(pl.col("phone_problem") == "unparseable").then(problem_of("phone number cannot be parsed"))
        .when(pl.col("phone_problem").is_not_null()).then(problem_of("phone number is not a valid number"))
    )
    if channel == "email":
        problem = pl.when(pl.col("email_norm").is_null()).then(problem_of("missing")).when(~pl.col("email_valid")) \
            .then(problem_of("email address syntax is not valid"))
        return problem, pl.col("email_norm")
    if channel == "sms":
        problem = pl.when(phone_problem.is_not_null()).then(phone_problem).when(~pl.col("phone_mobile")) \
            .then(problem_of("not a mobile number"))
        return problem, pl.col("phone_e164")
    if channel == "phone":
        return phone_problem, pl.col("phone_e164")
    if channel == "post":
        return pl.col("address_problem"), pl.col("post_key")
    problem = (
        pl.when(pl.col("email_norm").is_null() & pl.col("phone").is_null()).then(problem_of("missing"))
        .when(~pl.col("email_valid") & pl.col("phone_e164").is_null())
        .then(problem_of("neither a valid email address nor a valid phone number"))
    )
    return problem, None


def _dedupe_key(campaign: Campaign, channel: str) -> pl.Expr:
    key = channel_contact(channel)[1]
    return key if key is not None else pl.lit(None, pl.String)


FACTS: tuple[Fact, ...] = (
    Fact("customer_type", "customer", "private or business", _column("customer_type")),
    Fact("deceased_date", "customer", "the date of death, if any", _column("deceased_date")),
    Fact("paperless", "customer", "documents go to the web archive", _column("paperless")),
    Fact("birth_date", "customer", "the date of birth, if known", _column("birth_date")),
    Fact("address_protected", "customer", "a safety non-disclosure (turvakielto) is in force",
         _column("address_protected")),
    Fact("is_b2b", "customer", "a business contact in one of the campaign's business_roles",
         lambda c, channel: (pl.col("customer_type").eq("business") & pl.col("business_role").is_in(c.business_roles))
         .fill_null(False)),
    Fact("holding_line", "customer", "the holdings line of the active holding of the campaign's product group",
         _column("holding_line")),
    Fact("has_holding", "customer", "an active holding of the campaign's product group",
         lambda c, channel: pl.col("holding_line").is_not_null()),
    Fact("channel", "channel", "the channel decided", lambda c, channel: pl.lit(channel, dtype=CHANNEL_ORDER)),
    Fact("contact_problem", "channel", "null for a usable contact point; `missing`; or why it is not valid",
         lambda c, channel: channel_contact(channel)[0]),
    Fact("dedupe_key", "channel", "the normalized contact point duplicates are found by", _dedupe_key),
    Fact("consent_state", "consents", "the deciding event's status (granted, denied) or null: none"),
    Fact("consent_at", "consents", "the deciding event's recorded_at (UTC)"),
    Fact("consent_source", "consents", "the deciding event's source"),
    Fact("consent_line", "consents", "the deciding event's line in the consents file"),
    Fact("consent_channel", "consents", "the deciding event's own channel (the channel or all)"),
    Fact("consent_purpose", "consents", "the deciding event's own purpose (the purpose or all)"),
    *(Fact(f"sup_{kind}", "lists", f"the matched {kind} lists and key types, or null") for kind in KIND_ORDER),
    Fact("pressure", "history", "the contact-pressure caps the customer has reached on the channel, each with "
                                "its count, window and latest sent_at; null when none"),
)
CUSTOMER_FACTS = tuple(f for f in FACTS if f.scope == "customer")
CHANNEL_FACTS = tuple(f for f in FACTS if f.scope == "channel")

# The registry's expressions read the same columns whatever the campaign's values: a campaign of
# placeholders finds them.
_ANY_CAMPAIGN = Campaign(purpose="marketing", segments=(), business_roles=(), product_group=None,
                         as_of_date=dt.date(2000, 1, 1))


def _read_by(facts: tuple[Fact, ...]) -> tuple[str, ...]:
    """The columns the facts' expressions read, on any channel, in first-seen order."""
    names = [name for fact in facts for channel in CHANNELS
             for name in fact.made(_ANY_CAMPAIGN, channel).meta.root_names()]
    return tuple(dict.fromkeys(names))


# Customer columns the contacts keep: what the facts read and the channel files show, the
# first name (of the name-and-address key) and the country (of phone numbers).
_WANTED = {*_read_by(CUSTOMER_FACTS), *_read_by(CHANNEL_FACTS), *(c for cs in CHANNEL_COLUMNS.values() for c in cs),
           "first_name", "country"}
KEPT_CUSTOMER_COLUMNS = tuple(c for c in CUSTOMER_COLUMNS if c in _WANTED and c != "email")
# Contact columns the channel facts read (normalized ones among them), kept in the base frame.
CHANNEL_FACT_INPUTS = tuple(c for c in _read_by(CHANNEL_FACTS) if c not in {f.name for f in CUSTOMER_FACTS})


KEY_PARTS = ("first_name", "last_name", "street_address", "postal_code")
# Columns of a few distinct values, kept categorical: 4 bytes a customer instead of a 16-byte string.
FEW_VALUES = ("customer_type", "country", "language", "business_role")
POST_KEY_PARTS = ("street_address", "postal_code", "last_name")  # duplicate_contact's postal address
REPEATED_KEY_PARTS = ("first_name", "last_name", "postal_code")  # few distinct values (see key_part_values)


def contact_frame(customers: pl.DataFrame, together: Together = sequential) -> pl.DataFrame:
    """Customers sorted by customer_id, numbered (`cix`, the key of every later join), with
    the customer columns the facts read and the channel files show (KEPT_CUSTOMER_COLUMNS),
    normalized contact points and their problems.

    Sorted once (`load_customers` already sorts them; sorting here would hold two copies), every
    output in customer order needs no sort of its own. Emails and key parts take a fast path
    where the general normalization is plain lower-casing.
    """
    if not customers.get_column("customer_id").is_sorted():
        customers = customers.sort("customer_id")
    # The phones beside the rest: the values the fast path leaves go to phonenumbers, Python code
    # that keeps one core busy while Polars normalizes the emails and key parts.
    phones, (emails, parts) = together([
        lambda: normalize_phones(customers.get_column("phone"), customers.get_column("country")),
        lambda: (normalize.email_values(customers.get_column("email")),
                 {f"_key_{c}": normalize.key_part_values(customers.get_column(c), repeated=c in REPEATED_KEY_PARTS)
                  for c in POST_KEY_PARTS}),
    ])
    part = {c: pl.col(f"_key_{c}") for c in POST_KEY_PARTS}
    contacts = (
        customers.select(
            *KEPT_CUSTOMER_COLUMNS,
            phone_e164=phones.get_column("e164"),
            phone_mobile=phones.get_column("mobile"),
            phone_problem=phones.get_column("problem"),
            email_norm=emails,
            **parts,
        )
        .lazy()
        .with_columns(
            address_problem=normalize.address_problem(pl.col("street_address"), pl.col("postal_code"),
                                                      pl.col("city"), pl.col("country")),
        )
        .with_columns(
            email_valid=normalize.email_is_valid(pl.col("email_norm")).fill_null(False),
            post_key=normalize.join_key([part[c].fill_null("") for c in POST_KEY_PARTS]),
        )
        .drop(f"_key_{c}" for c in POST_KEY_PARTS)
        .with_columns(pl.col(c).cast(pl.Categorical) for c in FEW_VALUES)
        .collect(engine=ENGINE)
    )
    return contacts.with_row_index("cix")


def social_hashes() -> list[pl.Expr]:
    """The social file's SHA-256 of the normalized valid email and of the E.164 digits."""
    return [
        normalize.sha256_hex(pl.when(pl.col("email_valid")).then(pl.col("email_norm"))).alias("email_sha256"),
        normalize.sha256_hex(pl.col("phone_e164").str.strip_prefix("+")).alias("phone_sha256"),
    ]


SUPPRESSION_KEYS = (  # (key type, normalized key columns of lists and of contacts)
    ("customer_id", ("customer_id",)),
    ("email", ("email_norm",)),
    ("phone", ("phone_e164",)),
    # The name-and-address key as two columns: the post key (street, postal code, last name),
    # which every customer has already, and the first name, made only for customers whose post
    # key a list has.
    ("name_address", ("post_key", "first_name_key")),
)


def list_name_address_keys(rows: pl.DataFrame) -> dict[str, pl.Series]:
    """A list's name-and-address key as `post_key` (made as `contact_frame` makes it) and
    `first_name_key`, both null unless all four parts are present after normalization."""
    parts = pl.DataFrame([normalize.key_part_values(rows.get_column(c), repeated=c in REPEATED_KEY_PARTS)
                          for c in KEY_PARTS])
    complete = pl.all_horizontal(pl.col(c).is_not_null() for c in KEY_PARTS)
    keys = parts.select(
        post_key=pl.when(complete).then(normalize.join_key([pl.col(c) for c in POST_KEY_PARTS])),
        first_name_key=pl.when(complete).then(pl.col("first_name")),
    )
    return {column.name: column for column in keys.get_columns()}


def _customer_keys(contacts: pl.DataFrame, columns: tuple[str, ...], keys: pl.DataFrame) -> pl.DataFrame:
    """cix and the key columns of the customers who could match `keys`: for the name-and-address
    key, the customers whose post key a list has, with their first name normalized."""
    if columns != SUPPRESSION_KEYS[-1][1]:
        return contacts.select("cix", *columns)
    candidates = contacts.select("cix", "post_key", "first_name") \
        .filter(pl.col("post_key").is_in(keys.get_column("post_key").unique().implode()))
    return candidates.select("cix", "post_key",
                             first_name_key=normalize.key_part_values(candidates.get_column("first_name"),
                                                                      repeated=True))


def suppression_matches(contacts: pl.DataFrame, config: Config, lists: dict[str, Loaded],
                        warnings: list[str], together: Together = sequential) -> pl.DataFrame:
    """Per (cix, channel, kind) of list that suppresses the customer there, the evidence `text`:
    the matched lists and key types (`name (key type)`, sorted, joined with `, `); in order of
    cix, channel and kind.

    The rows of every list, one per channel they stand for, are matched together: one join of
    the customers per key type, however many lists there are. A match is carried as the number
    of its text (numbered in text order), and made text once per distinct evidence. A row given
    twice is matched twice: `_evidence` keeps each match once, cheaper than making the keys
    distinct first.
    """
    specs = [spec for spec in config.applying_lists() if spec.name in lists]
    # Match texts (`name (key type)`) numbered in text order, so that sorting numbers sorts texts.
    texts = sorted({f"{shown(spec.name)} ({key_type})" for spec in specs for key_type, _ in SUPPRESSION_KEYS})
    number = {text: i for i, text in enumerate(texts)}

    def keyed(list_number: int, spec: SuppressionList) -> tuple[pl.DataFrame, str | None]:
        """The list's rows with normalized keys, one per channel they stand for; and a warning."""
        rows = lists[spec.name].frame
        scope = [c for c in spec.channels if c in config.channels]
        phones = normalize_phones(rows.get_column("phone"), pl.repeat("FI", rows.height, dtype=pl.String, eager=True))
        unusable = rows.get_column("phone").is_not_null() & phones.get_column("e164").is_null()
        warning = _unusable_phones_warning(spec.name, lists[spec.name].label,
                                           rows.get_column(LINE).filter(unusable)) if unusable.any() else None
        return rows.select(
            "customer_id",
            email_norm=normalize.email_values(rows.get_column("email")),
            phone_e164=phones.get_column("e164"),
            **list_name_address_keys(rows),
            channel=pl.when(pl.col("channel").is_null())
            .then(pl.lit(scope, dtype=pl.List(pl.String)))
            .otherwise(pl.concat_list(pl.col("channel"))),
            kind=pl.lit(spec.kind, dtype=KIND_TYPE),
            list_number=pl.lit(list_number, dtype=pl.UInt32),
        ).explode("channel").filter(pl.col("channel").is_in(scope)) \
            .with_columns(pl.col("channel").cast(CHANNEL_ORDER)), warning

    def matched(list_rows: pl.DataFrame, key_type: str, columns: tuple[str, ...]) -> pl.DataFrame | None:
        """(cix, channel, kind, match) of the customers whose key of this type a list row has."""
        match_of_list = pl.Series([number[f"{shown(spec.name)} ({key_type})"] for spec in specs], dtype=pl.UInt32)
        keys = list_rows.filter(pl.all_horizontal(pl.col(c).is_not_null() for c in columns)).select(
            *columns, "channel", "kind", match=pl.lit(match_of_list).gather("list_number"),
        )
        if keys.height == 0:
            return None
        return _customer_keys(contacts, columns, keys) \
            .filter(pl.all_horizontal(pl.col(c).is_not_null() for c in columns)) \
            .join(keys, on=list(columns), how="inner").drop(*columns)

    # Lists are keyed, and then key types matched, side by side: each step keeps about one core
    # busy (a list's phones go through Python where the fast path leaves them).
    parts = together([partial(keyed, number, spec) for number, spec in enumerate(specs)])
    warnings.extend(warning for _, warning in parts if warning is not None)  # in the lists' order
    list_rows = pl.concat([frame for frame, _ in parts]) if parts else pl.DataFrame()
    found = together([partial(matched, list_rows, *key) for key in (SUPPRESSION_KEYS if list_rows.height else ())])
    hits = [part for part in found if part is not None]
    if not hits:
        return pl.DataFrame(schema=SUPPRESSED_SCHEMA)
    return _evidence(pl.concat(hits), pl.Series(texts, dtype=pl.String))


LISTED_LINES = 5  # a warning names the first few lines of the rows it is about, never their values


def _unusable_phones_warning(name: str, label: str, lines: pl.Series) -> str:
    """Which rows of a list hold a phone that matches no one: the file and its first few lines."""
    count = lines.len()
    listed = ", ".join(str(line) for line in lines.head(LISTED_LINES).to_list())
    name = shown(name)
    more = f" and {count - LISTED_LINES} more" if count > LISTED_LINES else ""
    rows = "row" if label.endswith(QUERY_LABEL) else "line"  # a query's rows have no lines
    if count == 1:
        return (f"list {name}: 1 phone value cannot be parsed or is not a valid number, so it matches no one "
                f"({label} {rows} {listed}; the row's other keys still match)")
    return (f"list {name}: {count} phone values cannot be parsed or are not valid numbers, so they match no "
            f"one ({label} {rows}s {listed}{more}; the rows' other keys still match)")


SUPPRESSED_SCHEMA = {"cix": pl.UInt32, "channel": CHANNEL_ORDER, "kind": KIND_TYPE, "text": pl.Categorical}
MATCH_BITS = 20  # a match number (a list and key type) in the low bits of one sort key


def _evidence(found: pl.DataFrame, text_of: pl.Series) -> pl.DataFrame:
    """One row per (cix, channel, kind) matched: its matches' texts, sorted, joined with `, `.

    Every match becomes one integer, (customer, channel, kind) above the match number, so that
    one sort of one column groups the matches and orders them; a group's rows are neighbours.
    Nearly every group has one match: its text is that match's; only the few others are joined.
    """
    assert text_of.len() < 1 << MATCH_BITS
    group = (pl.col("cix").cast(pl.UInt64) * 64 + pl.col("channel").to_physical().cast(pl.UInt64) * 8
             + pl.col("kind").to_physical().cast(pl.UInt64))
    key = found.select(group * (1 << MATCH_BITS) + pl.col("match").cast(pl.UInt64)).to_series().sort()
    matches = key.filter(key.ne_missing(key.shift(1))).to_frame("key").select(
        group=pl.col("key") // (1 << MATCH_BITS), match=pl.col("key") % (1 << MATCH_BITS))
    alone = pl.col("group").ne_missing(pl.col("group").shift(1)) & pl.col("group").ne_missing(pl.col("group").shift(-1))
    single = matches.filter(alone).select("group", text=pl.lit(text_of).gather("match"))
    several = matches.filter(~alone).group_by("group", maintain_order=True) \
        .agg(text=pl.lit(text_of).gather("match").str.join(", "))
    evidence = pl.concat([single, several]).sort("group")
    return evidence.select(
        cix=(pl.col("group") // 64).cast(pl.UInt32),
        channel=pl.lit(pl.Series(CHANNELS, dtype=CHANNEL_ORDER)).gather((pl.col("group") // 8) % 8),
        kind=pl.lit(pl.Series(KIND_ORDER, dtype=KIND_TYPE)).gather(pl.col("group") % 8),
        text=pl.col("text").cast(pl.Categorical),
    )


def number_consents(consents: pl.DataFrame, customer_ids: pl.Series) -> pl.DataFrame:
    """The consent log with each event's customer number (`cix`; null for an id not among the customers).

    `customer_ids` are the customers' ids in customer order, which is sorted and without duplicates
    (load_customers): a customer's number is its place, found by binary search. A log lists a
    customer's events together, so only the first event of each run of one id is looked up
    (much cheaper than a hash join)."""
    if customer_ids.is_empty():
        return consents.with_columns(cix=pl.lit(None, pl.UInt32))
    ids = consents.get_column("customer_id")
    starts = ids.ne_missing(ids.shift(1))
    looked_up = ids.filter(starts)
    place = customer_ids.search_sorted(looked_up, side="left").cast(pl.UInt32)
    found = customer_ids.gather(place.clip(upper_bound=customer_ids.len() - 1)) == looked_up
    of_run = place.to_frame("place").select(pl.when(found).then(pl.col("place"))).to_series()
    return consents.with_columns(cix=of_run.gather(starts.cum_sum() - 1))


def orphan_ids(numbered_consents: pl.DataFrame) -> pl.Series:
    """Consent customer_ids not in the customers file, distinct and sorted (from `number_consents`)."""
    return numbered_consents.filter(pl.col("cix").is_null()).get_column("customer_id").unique().sort()


def campaign_of(config: Config) -> Campaign:
    """The campaign facts the rules table reads."""
    return Campaign(
        purpose=config.purpose, segments=config.segments, business_roles=config.business_roles,
        product_group=config.product_group, as_of_date=config.as_of_date,
        holdout_percent=config.holdout_percent, dedupe=config.dedupe, minimum_age=config.minimum_age,
        capped_channels=tuple(c for c in config.channels if config.applying_caps(c)),
        arbitration=config.arbitration,
    )


def numbered_history(inputs: Inputs, customer_ids: pl.Series) -> pl.DataFrame | None:
    """The contact history's rows that caps count, with their customer number `cix`, numbered
    once and kept so (null cix: an id not among the customers)."""
    if inputs.history is None:
        return None
    loaded = inputs.history.loaded
    if "cix" not in loaded.frame.columns:
        inputs.history = replace(inputs.history, loaded=replace(loaded, frame=number_consents(loaded.frame,
                                                                                              customer_ids)))
    return inputs.history.loaded.frame


def history_orphans(inputs: Inputs, customer_ids: pl.Series) -> pl.Series | None:
    """The contact history's customer_ids (of every row read) not among `customer_ids` (sorted,
    as load_customers leaves them), distinct and sorted; None without a history."""
    if inputs.history is None:
        return None
    return orphan_ids(number_consents(inputs.history.customer_ids.to_frame("customer_id"), customer_ids))


CAP_COUNT_SCHEMA = {"cix": pl.UInt32, "cap": pl.UInt32, "count": pl.UInt32, "latest": pl.Datetime("us", "UTC")}


def cap_counts(config: Config, history: pl.DataFrame | None) -> pl.DataFrame:
    """Per customer and cap of config.pressure (`cap`: its index) that counts for the campaign,
    the contacts it counts (counted_by) and the latest sent_at; customers it counts none for
    have no row."""
    parts = []
    for i in config.counting_cap_indexes() if history is not None else ():
        rows = history.filter(pl.col("cix").is_not_null(), counted_by(config.pressure[i], config.name, config.as_of))
        parts.append(rows.group_by("cix").agg(count=pl.len(), latest=pl.col("sent_at").max())
                     .with_columns(cap=pl.lit(i, pl.UInt32)))
    if not parts:
        return pl.DataFrame(schema=CAP_COUNT_SCHEMA)
    return pl.concat(parts).select(*CAP_COUNT_SCHEMA).cast(CAP_COUNT_SCHEMA).sort("cix", "cap")


def pressure_texts(config: Config, counts: pl.DataFrame) -> pl.DataFrame:
    """cix, channel, pressure: for each customer and campaign channel where a cap that applies is
    reached (count ≥ max_contacts), every such cap with its count, window and latest sent_at.

    Each reached cap's text is made once, and the texts are put together once per distinct set
    of caps (channels mostly share one); a customer with one reached cap, the common case, needs
    no group-by. The texts stay plain text (a Categorical would hash millions of distinct texts):
    `_in_customer_order` gathers them into each channel's frame, which shares them, not copies."""
    schema = {"cix": pl.UInt32, "pressure": pl.String, "channel": CHANNEL_ORDER}
    caps = pl.DataFrame({
        "cap": pl.Series(range(len(config.pressure)), dtype=pl.UInt32),
        "name": [shown(cap.name) for cap in config.pressure],
        "window_days": pl.Series([cap.window_days for cap in config.pressure], dtype=pl.Int64),
        "max_contacts": pl.Series([cap.max_contacts for cap in config.pressure], dtype=pl.UInt32),
    })
    reached = counts.join(caps, on="cap", how="left", maintain_order="left") \
        .filter(pl.col("count") >= pl.col("max_contacts"))
    if reached.is_empty():
        return pl.DataFrame(schema=schema)
    texts = reached.select("cix", "cap", text=pl.format(
        "cap {}: {} {} within {} days (max_contacts {}), latest sent_at {}",
        "name", "count", pl.when(pl.col("count") == 1).then(pl.lit("contact")).otherwise(pl.lit("contacts")),
        "window_days", "max_contacts", pl.col("latest").map_batches(helsinki_time_text, return_dtype=pl.String)))
    joined: dict[tuple[int, ...], pl.DataFrame] = {}
    parts = []
    for channel in config.channels:
        applying = config.applying_cap_indexes(channel)
        if not applying:
            continue
        if applying not in joined:
            rows = texts.filter(pl.col("cap").is_in(list(applying)))  # in (cix, cap) order, as counts are
            several = rows.get_column("cix").is_duplicated()
            joined[applying] = pl.concat([
                rows.filter(~several).select("cix", pressure="text"),
                rows.filter(several).group_by("cix", maintain_order=True).agg(pressure=pl.col("text").str.join("; ")),
            ]).sort("cix")
        parts.append(joined[applying].with_columns(channel=pl.lit(channel, dtype=CHANNEL_ORDER)))
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).select(*schema).cast(schema)


def decision_frames(config: Config, inputs: Inputs, contacts: pl.DataFrame, progress: Progress = no_progress,
                    consume: bool = False, resolved: pl.DataFrame | None = None,
                    together: Together = sequential) -> dict[str, pl.LazyFrame]:
    """Per campaign channel, one row per customer in customer order with every fact of FACTS, put
    in place by `cix`, the customer's number.

    A frame per channel rather than one customer × channel frame: the rules and the stages after
    them work within a channel, and one channel at a time needs a fifth of the memory.
    `consume`: let go of the lists' rows once matched, and the history's once counted.
    `resolved`: the resolved consents (resolve_consents), when the caller has made them already.
    """
    campaign = campaign_of(config)
    numbers = contacts.select("customer_id", "cix")
    if resolved is None:  # `build` resolves them while the contacts are made
        progress("resolving consents")
        numbered = number_consents(inputs.consents.frame, numbers.get_column("customer_id"))
        resolved = resolve_consents(numbered, config.channels, config.purpose, config.as_of)
    holders = inputs.holders.join(numbers, on="customer_id", how="inner").select("cix", "holding_line")
    progress("matching suppression lists")
    suppressed = suppression_matches(contacts, config, inputs.lists, inputs.warnings, together)
    if consume:
        inputs.lists = {name: release(loaded) for name, loaded in inputs.lists.items()}
    customer_facts = [fact.name for fact in CUSTOMER_FACTS]
    read = [c for c in _read_by(CUSTOMER_FACTS) if c in contacts.columns]
    base = pl.concat([
        contacts.select("cix", *read, *(c for c in CHANNEL_FACT_INPUTS if c not in read)),
        _in_customer_order([holders], contacts.height),
    ], how="horizontal").with_columns(fact.made(campaign, "").alias(fact.name) for fact in CUSTOMER_FACTS) \
        .select("cix", *customer_facts, *(c for c in CHANNEL_FACT_INPUTS if c not in customer_facts))
    counts = cap_counts(config, numbered_history(inputs, numbers.get_column("customer_id")))
    if consume and inputs.history is not None:  # the counts are all the rules need of its rows
        inputs.history = replace(inputs.history, loaded=release(inputs.history.loaded))
    pressed = pressure_texts(config, counts)
    consents_of, suppressed_of = _by_channel(resolved, config.channels), _by_channel(suppressed, config.channels)
    pressure_of = _by_channel(pressed, config.channels)
    del resolved, suppressed, pressed  # their parts per channel are copies
    frames = {}
    for channel in config.channels:
        joined = [consents_of[channel], *_by_kind(suppressed_of[channel]), pressure_of[channel]]
        frames[channel] = pl.concat([
            base.lazy().select("cix", *customer_facts,
                               *(fact.made(campaign, channel).alias(fact.name) for fact in CHANNEL_FACTS)),
            pl.defer(partial(_in_customer_order, joined, base.height),
                     schema={name: dtype for part in joined for name, dtype in part.schema.items() if name != "cix"}),
        ], how="horizontal")
    return frames

def _in_customer_order(parts: list[pl.DataFrame], customers: int) -> pl.DataFrame:
    """The parts' columns (but cix) with one row per customer in customer order, null where a part
    has no row of the customer. Each part has at most one row per customer: its values are set
    in place by cix, with no join (a hash join costs several times as much), each column into
    one of nulls (cheaper than gathering every column by each customer's row). Text columns are
    gathered instead, by each customer's row of the part: a gather shares the part's text, where
    setting it in place would copy every text."""
    columns = []
    for part in parts:
        cix = part.get_column("cix")
        row_of = None  # each customer's row of the part, for its text columns
        for column in part.drop("cix").get_columns():
            if column.dtype == pl.String:
                if row_of is None:
                    row_of = pl.repeat(None, customers, dtype=pl.UInt32, eager=True).scatter(
                        cix, pl.int_range(part.height, dtype=pl.UInt32, eager=True))
                columns.append(column.gather(row_of))
            else:
                columns.append(pl.repeat(None, customers, dtype=column.dtype, eager=True).scatter(cix, column)
                               .alias(column.name))
    return pl.DataFrame(columns)


def _by_kind(evidence: pl.DataFrame) -> list[pl.DataFrame]:
    """One channel's suppression evidence as one frame per list kind: cix, sup_<kind>."""
    parts = evidence.partition_by("kind", as_dict=True, include_key=False)
    empty = evidence.drop("kind").clear()
    return [parts.get((kind,), empty).rename({"text": f"sup_{kind}"}) for kind in KIND_ORDER]


def _by_channel(frame: pl.DataFrame, channels: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    """A frame's rows per channel (without the channel column), split in one pass."""
    parts = frame.partition_by("channel", as_dict=True, include_key=False)
    empty = frame.drop("channel").clear()
    return {channel: parts.get((channel,), empty) for channel in channels}


