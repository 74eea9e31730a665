"""The rules table (contract section 6): one row per rule, evaluated together in one pass.

Precedence, `all_reasons`, the per-reason counts, `explain` and the README's rules table all
come from RULES. Each rule says where it applies (channels, purposes), when it excludes (a
Polars expression over the decision frame, True = excluded) and what evidence it writes.

Nulls fail closed: an expression that evaluates to null counts as excluding. Rule expressions
handle missing values explicitly, so this only guards against the unforeseen.

Most rules are decided in one pass over the decision frame, one row per customer of a channel,
whose columns are the facts of `facts.FACTS`. A rule with a `stage` is decided after the pass,
on what the pass and the stages before it left sendable, by its stage in `stages.py`: the
stages run in the order of their numbers here (the contract's order), whatever their place in
this table (which orders `all_reasons` and the counts).

Rule numbers (`R1`…) appear here and nowhere else in the code: the README, `explain` and the
docs read them from this table.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import polars as pl

from .config import CHANNELS
from .datetimes import helsinki_time_text
from .errors import MAX_SHOWN_CHARS

ALL_PURPOSES = ("marketing", "service", "survey", "contract", "legal")
CONSENT_PURPOSES = ("marketing", "service", "survey")
LIST_KIND_CODES = {
    "internal": "internal_prohibition",
    "robinson": "robinson_register",
    "telemarketing": "telemarketing_prohibition",
    "custom": "suppression_list",
}
LEGAL_BASES = ("legal_obligation", "contract", "consent", "existing_customer",
               "b2b_legitimate_interest", "legitimate_interest")


@dataclass(frozen=True)
class Campaign:
    """The campaign facts a rule expression may use."""

    purpose: str
    segments: tuple[str, ...]
    business_roles: tuple[str, ...]
    product_group: str | None
    as_of_date: dt.date
    holdout_percent: float = 0.0
    dedupe: bool = True
    minimum_age: int = 0
    # The campaign channels some contact-pressure cap counts on (for the campaign's purpose).
    capped_channels: tuple[str, ...] = ()
    # [arbitration].order: the channels arbitrated, most preferred first.
    arbitration: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    number: str
    code: str
    channels: tuple[str, ...]
    purposes: tuple[str, ...]
    excludes: Callable[[Campaign], pl.Expr]
    detail: Callable[[Campaign], pl.Expr]
    text: str
    seed: str
    # None: decided in the one pass. A number: the rule's stage after the pass, in this order.
    stage: int | None = None
    # The evidence differs row by row (a time, a line): made per row, not per distinct value.
    detail_per_row: bool = False
    # When the rule is on at all for a campaign of its purposes (e.g. minimum_age > 0).
    active: Callable[[Campaign], bool] | None = None
    # The channels it applies on, when the campaign decides them (e.g. each cap's channels).
    channels_of: Callable[[Campaign], tuple[str, ...]] | None = None
    # How the README's table names its channels, when the campaign decides them.
    channels_text: str | None = None

    def applies(self, campaign: Campaign) -> bool:
        return campaign.purpose in self.purposes and (self.active is None or self.active(campaign))

    def channels_for(self, campaign: Campaign) -> tuple[str, ...]:
        return self.channels if self.channels_of is None else self.channels_of(campaign)

    def applies_on(self, campaign: Campaign, channel: str) -> bool:
        return self.applies(campaign) and channel in self.channels_for(campaign)

    def fails(self, campaign: Campaign, channel: str | None = None) -> pl.Expr:
        """True where this rule excludes the row; False where it does not apply. `channel`: the
        frame's one channel, when it has one (the rule's scope is then settled here, not per row)."""
        channels = self.channels_for(campaign)
        if not self.applies(campaign) or (channel is not None and channel not in channels):
            return pl.lit(False)
        if channel is not None or channels == CHANNELS:
            return self.excludes(campaign).fill_null(True)
        return pl.col("channel").is_in(channels) & self.excludes(campaign).fill_null(True)


def _txt(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([p if isinstance(p, pl.Expr) else pl.lit(p) for p in parts], ignore_nulls=True)


def shown_text(text: pl.Expr) -> pl.Expr:
    """Free text as detail shows it (errors.shown): over 200 characters, its first 199 and `…`."""
    return pl.when(text.str.len_chars() > MAX_SHOWN_CHARS) \
        .then(pl.concat_str([text.str.slice(0, MAX_SHOWN_CHARS - 1), pl.lit("…")])).otherwise(text)


def _date_text(column: str) -> pl.Expr:
    return pl.col(column).dt.to_string("%Y-%m-%d")


def _helsinki_time_text(column: str) -> pl.Expr:
    """A UTC instant as Helsinki time, `2026-12-01T14:05:00+02:00` (fractions of a second only when
    there are some)."""
    return pl.col(column).map_batches(helsinki_time_text, return_dtype=pl.String)


def _no_product_group(c: Campaign) -> pl.Expr:
    return pl.lit(c.product_group is None)


def _has_exception(c: Campaign) -> pl.Expr:
    return pl.col("has_holding") | pl.col("is_b2b")


MISSING_CONTACT_TEXT = {
    "email": "no email address",
    "sms": "no phone number",
    "phone": "no phone number",
    "post": "no postal address (street, postal code and city all missing)",
    "social": "neither an email address nor a phone number",
}


def _suppression_rule(number: str, kind: str, text: str, seed: str) -> Rule:
    column = f"sup_{kind}"
    return Rule(
        number=number, code=LIST_KIND_CODES[kind], channels=CHANNELS, purposes=CONSENT_PURPOSES,
        excludes=lambda c: pl.col(column).is_not_null(),
        detail=lambda c: _every_list_matched(),
        text=text, seed=seed,
    )


def _every_list_matched() -> pl.Expr:
    """Every matched list of every kind, in the kinds' order: an analyst sees the Robinson match of
    a customer excluded for the internal list too."""
    return _txt("matched ", pl.concat_str([pl.col(f"sup_{kind}") for kind in LIST_KIND_CODES],
                                          separator="; ", ignore_nulls=True))


def age_of(c: Campaign) -> pl.Expr:
    """Whole years from birth_date to the date of as_of: a birthday not reached yet this year does
    not count (29 February is reached on 1 March in other years: (3, 1) comes after (2, 29))."""
    born = pl.col("birth_date")
    before_birthday = (born.dt.month().cast(pl.Int32) * 100 + born.dt.day().cast(pl.Int32)) \
        > (c.as_of_date.month * 100 + c.as_of_date.day)
    return pl.lit(c.as_of_date.year, pl.Int32) - born.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)


SEED_PROHIBIT = "…när som helst senare rätt att förbjuda användningen av sina kontaktuppgifter i marknadsföringssyfte."
SEED_ROBINSON = ("…beaktar vi vid direktmarknadsföring per telefon och post också förbud mot telemarknadsföring i det "
                 "s.k. Robinson-registret och marknadsföringsförbud som lämnats till Suomen Telemarkkinointiliitto ry.")

RULES: tuple[Rule, ...] = (
    Rule(
        "R1", "segment_not_targeted", CHANNELS, ALL_PURPOSES,
        excludes=lambda c: ~pl.col("customer_type").is_in(c.segments),
        detail=lambda c: _txt("customer_type ", pl.col("customer_type"), f" is not in segments {list(c.segments)}"),
        text="The customer's type (private or business contact) is not one of the campaign's segments.",
        seed="Mandatum skickar till sina privat- och företagskunder information…",
    ),
    Rule(
        "R2", "deceased", CHANNELS, ALL_PURPOSES,
        excludes=lambda c: pl.col("deceased_date").is_not_null() & (pl.col("deceased_date") <= pl.lit(c.as_of_date)),
        detail=lambda c: _txt("deceased_date ", _date_text("deceased_date"), f" is on or before as_of {c.as_of_date}"),
        text="The customer died on or before the date of as_of.",
        seed="(DOMAIN.md) Deceased persons are not marketed to.",
    ),
    Rule(
        "R3", "under_age", CHANNELS, CONSENT_PURPOSES,
        excludes=lambda c: pl.col("birth_date").is_not_null() & (age_of(c) < c.minimum_age),
        detail=lambda c: _txt("birth_date ", _date_text("birth_date"), ": age ", age_of(c).cast(pl.String),
                              f" on {c.as_of_date} is below minimum_age {c.minimum_age}"),
        text="The customer is younger than the campaign's minimum_age (default 15; 0 turns the rule off) at "
             "the date of as_of.",
        seed="(DOMAIN.md) The Consumer Ombudsman: no direct marketing to children under 15.",
        active=lambda c: c.minimum_age > 0,
    ),
    Rule(
        "R4", "no_active_contract", CHANNELS, ("contract", "legal"),
        excludes=lambda c: ~_no_product_group(c) & ~pl.col("has_holding"),
        detail=lambda c: pl.lit(f"no active holding of product group {c.product_group} on {c.as_of_date}"),
        text="Contract and legal letters go only to customers with an active holding of the campaign's product group.",
        seed="En del av vår kundkommunikation kan emellertid basera sig på ett avtal om en produkt eller tjänst där kunden är part…",
    ),
    Rule(
        "R5", "paperless", ("post",), ("service", "contract", "legal"),
        excludes=lambda c: pl.col("paperless"),
        detail=lambda c: pl.lit("paperless customer: documents go to the web service archive with an e-mail notice"),
        text="Paperless customers get their documents in the web archive, not by post.",
        seed="Som kund hos Mandatum får du dina försäkringshandlingar i elektronisk form till Mandatums webbtjänst.",
    ),
    Rule(
        "R6", "address_protected", ("post",), ALL_PURPOSES,
        excludes=lambda c: pl.col("address_protected"),
        detail=lambda c: pl.lit("safety non-disclosure (turvakielto): the address never leaves in a file; send the "
                                "letter through the company's protected process"),
        text="The customer has a safety non-disclosure (turvakielto): the address is never written to a file, "
             "whatever the purpose.",
        seed="(DOMAIN.md) A safety non-disclosure in the population register: the address is not disclosed.",
    ),
    Rule(
        "R7", "missing_contact", CHANNELS, ALL_PURPOSES,
        excludes=lambda c: pl.col("contact_problem").eq_missing("missing"),
        detail=lambda c: pl.col("channel").replace_strict(MISSING_CONTACT_TEXT, return_dtype=pl.String),
        text="The channel's contact point is absent.",
        seed="Kontrollera att Mandatum har en giltig e-postadress för att skicka besked.",
    ),
    Rule(
        "R8", "invalid_contact", CHANNELS, ALL_PURPOSES,
        excludes=lambda c: pl.col("contact_problem").is_not_null() & pl.col("contact_problem").ne_missing("missing"),
        detail=lambda c: pl.col("contact_problem"),
        text="The contact point is present but not valid (email syntax, phone number, not a mobile for SMS, incomplete address).",
        seed="Kontrollera att Mandatum har en giltig e-postadress för att skicka besked.",
    ),
    Rule(
        "R9", "customer_denied", CHANNELS, CONSENT_PURPOSES,
        excludes=lambda c: pl.col("consent_state").eq_missing("denied"),
        detail=lambda c: _txt(
            "consent denied at ",
            _helsinki_time_text("consent_at"),
            " source ", shown_text(pl.col("consent_source").cast(pl.String)).fill_null("(none)"),
            " (channel=", pl.col("consent_channel").cast(pl.String),
            " purpose=", pl.col("consent_purpose").cast(pl.String),
            ", consents line ", pl.col("consent_line").cast(pl.String), ")",
        ),
        text="The customer's latest consent event for this channel and purpose at as_of is a denial.",
        seed=SEED_PROHIBIT, detail_per_row=True,
    ),
    _suppression_rule("R10", "internal", "The customer is on the company's own marketing prohibition list.", SEED_PROHIBIT),
    _suppression_rule("R10", "robinson", "The customer is on ASML's Robinson register (phone and post).", SEED_ROBINSON),
    _suppression_rule("R10", "telemarketing", "The customer is on Suomen Telemarkkinointiliitto's prohibition list.",
                      SEED_ROBINSON),
    _suppression_rule("R10", "custom", "The customer is on another suppression list of the campaign.", SEED_PROHIBIT),
    Rule(
        "R11", "no_consent", ("email", "sms"), ("marketing",),
        excludes=lambda c: ~pl.col("consent_state").eq_missing("granted")
        & ~_has_exception(c),
        detail=lambda c: _txt(
            "no granted consent (state ", pl.col("consent_state").cast(pl.String).fill_null("none"), "); ",
            f"no active holding of product group {c.product_group}" if c.product_group
            else "no existing-customer exception (the campaign has no product_group)",
            "; not a business contact in a targeted role"
            + (f" ({', '.join(c.business_roles)})" if c.business_roles else " (the campaign targets none)"),
        ),
        text="Electronic direct marketing needs prior consent, unless the customer has an active holding of the "
             "same product group or is a business contact in a targeted role.",
        seed="Elektronisk direktmarknadsföring skickas i regel på basis av samtycke till elektronisk direktmarknadsföring…",
    ),
    Rule(
        "R12", "contact_pressure", CHANNELS, CONSENT_PURPOSES,
        excludes=lambda c: pl.col("pressure").is_not_null(),
        detail=lambda c: pl.col("pressure"), detail_per_row=True,  # each its own latest sent_at
        text="The customer has already been contacted max_contacts times within a cap's window (the contact "
             "history, counted per [[pressure]] cap).",
        seed="(contract) Contact pressure: no more contacts than the caps allow.",
        channels_of=lambda c: c.capped_channels, channels_text="each cap's",
    ),
    Rule(
        "R13", "control_group", CHANNELS, ALL_PURPOSES,
        excludes=lambda c: pl.lit(False), detail=lambda c: pl.lit(None, pl.String),
        text="The customer's holdout bucket is below holdout_percent: held out on every channel as a control group.",
        seed="(contract) A control group measures the campaign's effect.", stage=1,
        active=lambda c: c.holdout_percent > 0,
    ),
    Rule(
        "R14", "channel_arbitration", CHANNELS, ALL_PURPOSES,
        excludes=lambda c: pl.lit(False), detail=lambda c: pl.lit(None, pl.String),
        text="The customer is still sendable on an earlier channel of [arbitration].order: one channel per person.",
        seed="(contract) One channel per person where the campaign asks for it.", stage=2,
        active=lambda c: bool(c.arbitration), channels_of=lambda c: c.arbitration,
        channels_text="those of [arbitration].order",
    ),
    Rule(
        "R15", "duplicate_contact", ("email", "sms", "phone", "post"), ALL_PURPOSES,
        excludes=lambda c: pl.lit(False), detail=lambda c: pl.lit(None, pl.String),
        text="Another customer with a smaller customer_id, still sendable, has the same contact point.",
        seed="(contract) One message per contact point.", stage=3,
        active=lambda c: c.dedupe,
    ),
)

ONE_PASS_RULES = tuple(r for r in RULES if r.stage is None)
STAGE_RULES = tuple(sorted((r for r in RULES if r.stage is not None), key=lambda r: r.stage))
RULE_OF = {r.code: r for r in RULES}
REASON_CODES = tuple(dict.fromkeys(r.code for r in RULES))


REASON_TYPE = pl.Enum(REASON_CODES)
BASIS_TYPE = pl.Enum(LEGAL_BASES)
# `reasons`: a bit per reason code, in table order; 32 bits hold every code the contract can have.
REASONS_MASK = pl.UInt32
REASON_BITS = {code: 1 << i for i, code in enumerate(REASON_CODES)}
assert len(REASON_BITS) <= 32, "a reason code past the 32nd does not fit the reasons mask"


def _reasons_of(mask: int) -> str:
    return ";".join(code for code, bit in REASON_BITS.items() if mask & bit)


def reasons_type(reasons: pl.Series) -> pl.Enum:
    """An enumeration of the `all_reasons` texts of these bit masks."""
    return pl.Enum(sorted({_reasons_of(mask) for mask in reasons.unique().drop_nulls().to_list()}))


def reasons_text(reasons: pl.Series, dtype: pl.DataType = pl.String) -> pl.Series:
    """`all_reasons` from the bit masks (a null stays null): codes in table order joined with `;`,
    as `dtype` (text, or a reasons_type holding them all). Made once per distinct mask, of which
    there are few, and put in place by the mask's place among them."""
    masks = reasons.unique().drop_nulls().sort()
    texts = pl.Series([_reasons_of(mask) for mask in masks.to_list()], dtype=dtype)
    if texts.is_empty():
        return pl.repeat(None, reasons.len(), dtype=dtype, eager=True).alias("all_reasons")
    places = masks.search_sorted(reasons, side="left")
    if reasons.null_count():
        places = pl.select(pl.when(reasons.is_not_null()).then(places)).to_series()
    return texts.gather(places).alias("all_reasons")


def legal_basis(campaign: Campaign, channel: str | None = None) -> pl.Expr:
    """The basis of a sendable row, in the contract's order (`channel`: as in `evaluate`). An
    enumeration (BASIS_TYPE) from the start: made as text per row and then cast, it took many
    times as long."""
    def basis(name: str) -> pl.Expr:
        return pl.lit(name, dtype=BASIS_TYPE)

    if campaign.purpose == "legal":
        return basis("legal_obligation")
    if campaign.purpose == "contract":
        return basis("contract")
    electronic = pl.col("channel").is_in(["email", "sms"]) if channel is None else pl.lit(channel in ("email", "sms"))
    electronic_marketing = pl.lit(campaign.purpose == "marketing") & electronic
    return (
        pl.when(pl.col("consent_state").eq_missing("granted")).then(basis("consent"))
        .when(electronic_marketing & pl.col("has_holding")).then(basis("existing_customer"))
        .when(electronic_marketing & pl.col("is_b2b")).then(basis("b2b_legitimate_interest"))
        .otherwise(basis("legitimate_interest"))
    )


def rules_markdown() -> str:
    """The rules table as Markdown, for the README (a test keeps the README in step)."""

    def scope(values: tuple[str, ...], everything: tuple[str, ...]) -> str:
        return "all" if values == everything else ", ".join(values)

    lines = ["| # | reason_code | channels | purposes | excluded when | seed |",
             "| --- | --- | --- | --- | --- | --- |"]
    for rule in RULES:
        channels = rule.channels_text or scope(rule.channels, CHANNELS)
        lines.append(f"| {rule.number} | `{rule.code}` | {channels} | "
                     f"{scope(rule.purposes, ALL_PURPOSES)} | {rule.text} | {rule.seed} |")
    return "\n".join(lines)
