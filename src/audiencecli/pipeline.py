"""Compose the build: inputs → normalized contacts → decision frame → rules → run tables.

Everything here returns data; nothing prints or writes. `cli.py` renders, `outputs.py` writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import polars as pl

from . import normalize
from .config import CHANNELS, HELSINKI, Config, SuppressionList
from .consent import active_holders, resolve_consents
from .errors import InputError, Problem, ProblemLog, StaleListError
from .inputs import Loaded, file_label, load_consents, load_customers, load_holdings, load_list
from .phones import normalize_phones
from .rules import CONTROL_RULE, DUPLICATE_RULE, LEGAL_BASES, LIST_KIND_CODES, REASON_CODES, Campaign, evaluate

Progress = Callable[[str], None]

CHANNEL_COLUMNS = {
    "email": ("customer_id", "email", "first_name", "last_name", "language", "legal_basis"),
    "sms": ("customer_id", "phone", "language", "legal_basis"),
    "phone": ("customer_id", "phone", "first_name", "last_name", "company_name", "language", "legal_basis"),
    "post": ("customer_id", "first_name", "last_name", "company_name", "street_address", "postal_code", "city",
             "country", "language", "legal_basis"),
    "social": ("customer_id", "email_sha256", "phone_sha256", "legal_basis"),
}
EXCLUSION_COLUMNS = ("customer_id", "channel", "reason_code", "all_reasons", "detail")
KIND_ORDER = tuple(LIST_KIND_CODES)


@dataclass(frozen=True)
class InputFacts:
    """What the manifest records of one input or list."""

    role: str
    path: str
    sha256: str
    rows: int
    list_date: str | None = None


@dataclass
class Inputs:
    customers: Loaded
    consents: Loaded
    holdings: Loaded | None
    lists: dict[str, Loaded]
    stale_lists: tuple[SuppressionList, ...]
    skipped_lists: tuple[SuppressionList, ...]
    warnings: list[str] = field(default_factory=list)

    def facts(self, config: Config) -> list[InputFacts]:
        facts = [InputFacts("customers", str(config.customers.path), self.customers.sha256, self.customers.rows),
                 InputFacts("consents", str(config.consents.path), self.consents.sha256, self.consents.rows)]
        if self.holdings is not None and config.holdings is not None:
            facts.append(InputFacts("holdings", str(config.holdings.path), self.holdings.sha256, self.holdings.rows))
        for spec in config.suppressions:
            if spec.name in self.lists:
                loaded = self.lists[spec.name]
                facts.append(InputFacts(f"list:{spec.name}", str(spec.file.path), loaded.sha256, loaded.rows,
                                        spec.list_date.isoformat() if spec.list_date else None))
        return facts


@dataclass
class BuildResult:
    config: Config
    inputs: Inputs
    channel_tables: dict[str, pl.DataFrame]
    exclusions: pl.DataFrame
    decisions: pl.DataFrame
    summary: dict


def no_progress(_: str) -> None:
    return None


@dataclass
class InputCheck:
    """Everything reading the inputs found: the loaded inputs (None when data errors stop the build)
    and the problems, by exit code: data errors (3), then missing or stale lists (4)."""

    inputs: Inputs | None
    data_problems: ProblemLog
    list_problems: ProblemLog


def check_inputs(config: Config, *, allow_stale: bool = False, progress: Progress = no_progress) -> InputCheck:
    """Read every input and every applying list, collecting every problem instead of stopping."""
    problems = ProblemLog()
    list_problems = ProblemLog()
    progress("reading customers")
    customers = load_customers(config.customers, problems)
    progress("reading consents")
    consents = load_consents(config.consents, problems)
    holdings = None
    if config.holdings is not None:
        progress("reading holdings")
        holdings = load_holdings(config.holdings, problems)
    lists: dict[str, Loaded] = {}
    stale: list[SuppressionList] = []
    for spec in config.applying_lists():
        progress(f"reading list {spec.name}")
        label = file_label(spec.file.path)
        if not spec.file.path.exists():
            list_problems.add(Problem(file=label, message=f"suppression list {spec.name} is missing; "
                                                          "the build fails closed"))
            continue
        try:
            with spec.file.path.open("rb"):
                pass
        except OSError as exc:
            list_problems.add(Problem(file=label, message=f"suppression list {spec.name} cannot be opened "
                                                          f"({exc.strerror}); the build fails closed"))
            continue
        loaded = load_list(spec.file, spec.channels, problems)
        if loaded is not None:
            lists[spec.name] = loaded
        if spec.is_stale(config.as_of_date):
            stale.append(spec)
            if not allow_stale:
                list_problems.add(Problem(
                    file=label,
                    message=f"suppression list {spec.name} is stale: list_date {spec.list_date}, "
                            f"{spec.age_days(config.as_of_date)} days old at as_of {config.as_of_date}, "
                            f"max_age_days {spec.max_age_days}; refresh it or run with --allow-stale",
                ))
    inputs = None
    if not problems:
        inputs = Inputs(customers=customers, consents=consents, holdings=holdings, lists=lists,
                        stale_lists=tuple(stale), skipped_lists=config.skipped_lists())
    return InputCheck(inputs=inputs, data_problems=problems, list_problems=list_problems)


def load_inputs(config: Config, *, allow_stale: bool = False, progress: Progress = no_progress) -> Inputs:
    """Read every input and every applying list; fail with the first of exit codes 3, 4 that applies.

    Data errors of all files are gathered first (exit 3); only then are missing or stale lists
    reported (exit 4), as the contract orders them.
    """
    check = check_inputs(config, allow_stale=allow_stale, progress=progress)
    check.data_problems.raise_as(InputError)
    check.list_problems.raise_as(StaleListError)
    return check.inputs


KEY_PARTS = ("first_name", "last_name", "street_address", "postal_code")


def contact_frame(customers: pl.DataFrame) -> pl.DataFrame:
    """Customers with normalized contact points and the problems that R5/R6 report.

    Lazy, so that Polars computes each shared sub-expression (a normalized key part, say) once.
    """
    phones = normalize_phones(customers.get_column("phone"), customers.get_column("country"))
    part = {c: pl.col(f"_key_{c}") for c in KEY_PARTS}
    return (
        customers.with_columns(
            phone_e164=phones.get_column("e164"),
            phone_mobile=phones.get_column("mobile"),
            phone_problem=phones.get_column("problem"),
        )
        .lazy()
        .with_columns(
            email_norm=normalize.email(pl.col("email")),
            address_problem=normalize.address_problem(pl.col("street_address"), pl.col("postal_code"),
                                                      pl.col("city"), pl.col("country")),
            **{f"_key_{c}": normalize.key_part(pl.col(c)) for c in KEY_PARTS},
        )
        .with_columns(
            email_valid=normalize.email_is_valid(pl.col("email_norm")).fill_null(False),
            name_address_key=normalize.join_key([part[c] for c in KEY_PARTS]),
            post_key=normalize.join_key([part[c].fill_null("") for c in ("street_address", "postal_code", "last_name")]),
        )
        .with_columns(
            email_sha256=normalize.sha256_hex(pl.when(pl.col("email_valid")).then(pl.col("email_norm"))),
            phone_sha256=normalize.sha256_hex(pl.col("phone_e164").str.strip_prefix("+")),
        )
        .drop(f"_key_{c}" for c in KEY_PARTS)
        .collect()
    )


def _channel_contact(channel: str) -> tuple[pl.Expr, pl.Expr | None]:
    """(contact_problem, dedupe key) of one channel: null problem = usable contact point."""
    phone_problem = pl.when(pl.col("phone").is_null()).then(pl.lit("missing")).otherwise(
        pl.when(pl.col("phone_problem") == "unparseable").then(pl.lit("phone number cannot be parsed"))
        .when(pl.col("phone_problem").is_not_null()).then(pl.lit("phone number is not a valid number"))
    )
    if channel == "email":
        problem = pl.when(pl.col("email_norm").is_null()).then(pl.lit("missing")).when(~pl.col("email_valid")) \
            .then(pl.lit("email address syntax is not valid"))
        return problem, pl.col("email_norm")
    if channel == "sms":
        problem = pl.when(phone_problem.is_not_null()).then(phone_problem).when(~pl.col("phone_mobile")) \
            .then(pl.lit("not a mobile number"))
        return problem, pl.col("phone_e164")
    if channel == "phone":
        return phone_problem, pl.col("phone_e164")
    if channel == "post":
        return pl.col("address_problem"), pl.col("post_key")
    problem = (
        pl.when(pl.col("email_norm").is_null() & pl.col("phone").is_null()).then(pl.lit("missing"))
        .when(~pl.col("email_valid") & pl.col("phone_e164").is_null())
        .then(pl.lit("neither a valid email address nor a valid phone number"))
    )
    return problem, None


def suppression_matches(contacts: pl.DataFrame, config: Config, lists: dict[str, Loaded],
                        warnings: list[str]) -> pl.DataFrame:
    """(customer_id, channel, kind, detail) for every customer a list suppresses on a channel."""
    found = []
    for spec in config.applying_lists():
        if spec.name not in lists:
            continue
        rows = lists[spec.name].frame.with_row_index("_row")
        scope = [c for c in spec.channels if c in config.channels]
        phones = normalize_phones(rows.get_column("phone"), pl.Series(["FI"] * rows.height, dtype=pl.String))
        unusable = rows.get_column("phone").is_not_null() & phones.get_column("e164").is_null()
        if unusable.any():
            warnings.append(
                f"list {spec.name}: {int(unusable.sum())} phone value(s) cannot be parsed or are not valid "
                "numbers; they match no one (the rows' other keys still match)"
            )
        keyed = rows.with_columns(
            email_norm=normalize.email(pl.col("email")),
            phone_e164=phones.get_column("e164"),
            name_address_key=normalize.name_address_key(pl.col("first_name"), pl.col("last_name"),
                                                        pl.col("street_address"), pl.col("postal_code")),
            row_channels=pl.when(pl.col("channel").is_null())
            .then(pl.lit(scope, dtype=pl.List(pl.String)))
            .otherwise(pl.concat_list(pl.col("channel"))),
        )
        for key_type, list_key, customer_key in (
            ("customer_id", "customer_id", "customer_id"),
            ("email", "email_norm", "email_norm"),
            ("phone", "phone_e164", "phone_e164"),
            ("name_address", "name_address_key", "name_address_key"),
        ):
            keys = keyed.filter(pl.col(list_key).is_not_null()).select(pl.col(list_key).alias("_key"), "row_channels")
            if keys.height == 0:
                continue
            hits = contacts.select("customer_id", pl.col(customer_key).alias("_key")).filter(
                pl.col("_key").is_not_null()
            ).join(keys, on="_key", how="inner")
            found.append(
                hits.explode("row_channels")
                .filter(pl.col("row_channels").is_in(scope))
                .select("customer_id", pl.col("row_channels").alias("channel"), pl.lit(spec.kind).alias("kind"),
                        pl.lit(f"{spec.name} ({key_type})").alias("match"))
            )
    if not found:
        return pl.DataFrame(schema={"customer_id": pl.String, "channel": pl.String, "kind": pl.String,
                                    "detail": pl.String})
    return (
        pl.concat(found).unique()
        .group_by("customer_id", "channel", "kind")
        .agg(pl.col("match").sort().str.join(", ").alias("detail"))
    )


def campaign_of(config: Config) -> Campaign:
    """The campaign facts the rules table reads."""
    return Campaign(
        purpose=config.purpose, segments=config.segments, business_roles=config.business_roles,
        product_group=config.product_group, as_of_date=config.as_of_date,
        holdout_percent=config.holdout_percent, dedupe=config.dedupe,
    )


def decision_frames(config: Config, inputs: Inputs, contacts: pl.DataFrame,
                    progress: Progress = no_progress) -> dict[str, pl.LazyFrame]:
    """Per campaign channel, one row per customer with every fact a rule reads (see rules.py).

    A frame per channel rather than one customer × channel frame: rules, R10 and R11 all work
    within a channel, and one channel at a time needs a fifth of the memory.
    """
    progress("resolving consents")
    consents = resolve_consents(inputs.consents.frame, config.channels, config.purpose, config.as_of)
    holders = active_holders(inputs.holdings.frame if inputs.holdings else None, config.product_group,
                             config.as_of_date)
    progress("matching suppression lists")
    matches = suppression_matches(contacts, config, inputs.lists, inputs.warnings)
    suppressed = matches.group_by("customer_id", "channel").agg(
        pl.col("detail").filter(pl.col("kind") == kind).first().alias(f"sup_{kind}") for kind in KIND_ORDER
    )
    base = contacts.select(
        "customer_id", "customer_type", "deceased_date", "paperless",
        (pl.col("customer_type").eq("business") & pl.col("business_role").is_in(config.business_roles))
        .fill_null(False).alias("is_b2b"),
        "email_norm", "phone_e164", "phone_mobile", "phone_problem", "phone", "email_valid",
        "address_problem", "post_key",
    ).join(holders, on="customer_id", how="left").with_columns(
        has_holding=pl.col("holding_line").is_not_null()
    )
    frames = {}
    for channel in config.channels:
        problem, key = _channel_contact(channel)
        frames[channel] = (
            base.lazy().select(
                "customer_id", pl.lit(channel).alias("channel"), "customer_type", "deceased_date", "paperless",
                "is_b2b", "has_holding", "holding_line",
                problem.alias("contact_problem"),
                (key if key is not None else pl.lit(None, pl.String)).alias("dedupe_key"),
            )
            .join(consents.lazy().filter(pl.col("channel") == channel).drop("channel"), on="customer_id",
                  how="left")
            .join(suppressed.lazy().filter(pl.col("channel") == channel).drop("channel"), on="customer_id",
                  how="left")
        )
    return frames


DECISION_COLUMNS = ("customer_id", "channel", "reason_code", "all_reasons", "detail", "legal_basis")


def decide(config: Config, inputs: Inputs, contacts: pl.DataFrame, progress: Progress = no_progress, *,
           evidence: bool = False) -> pl.DataFrame:
    """One row per customer × campaign channel (in no particular order): reason_code/all_reasons/detail,
    or legal_basis. With `evidence`, every fact the rules read is kept too (for `explain`),
    including `bucket` (R11) and `kept_id` (R10)."""
    campaign = campaign_of(config)
    frames = decision_frames(config, inputs, contacts, progress)
    buckets = None
    if config.holdout_percent > 0 and CONTROL_RULE.applies(campaign):
        buckets = contacts.select("customer_id",
                                  normalize.holdout_bucket(config.name, pl.col("customer_id")).alias("bucket"))
        if not evidence:
            buckets = buckets.filter(pl.col("bucket") < config.holdout_percent)
    decided = []
    for channel, frame in frames.items():
        progress(f"evaluating rules: {channel}")
        evaluated = evaluate(frame, campaign)
        if not evidence:
            evaluated = evaluated.select(*DECISION_COLUMNS, "dedupe_key")
        decisions = _hold_out(evaluated.collect(engine="streaming"), buckets, config)
        decisions = _dedupe(decisions) if config.dedupe else decisions.with_columns(kept_id=pl.lit(None, pl.String))
        decided.append(decisions if evidence else decisions.select(DECISION_COLUMNS))
    return pl.concat(decided)


def _hold_out(decisions: pl.DataFrame, buckets: pl.DataFrame | None, config: Config) -> pl.DataFrame:
    """R11: customers whose bucket is below holdout_percent, where R1–R9 left them sendable."""
    if buckets is None:
        return decisions.with_columns(bucket=pl.lit(None, pl.Float64))
    return decisions.lazy().join(buckets.lazy(), on="customer_id", how="left").with_columns(
        control=(pl.col("reason_code").is_null() & (pl.col("bucket") < config.holdout_percent)).fill_null(False)
    ).with_columns(
        reason_code=pl.when("control").then(pl.lit(CONTROL_RULE.code)).otherwise("reason_code"),
        all_reasons=pl.when("control").then(pl.lit(CONTROL_RULE.code)).otherwise("all_reasons"),
        detail=pl.when("control").then(
            pl.format("holdout bucket {} is below holdout_percent {}", pl.col("bucket").round(4),
                      pl.lit(config.holdout_percent))
        ).otherwise("detail"),
        legal_basis=pl.when("control").then(pl.lit(None, pl.String)).otherwise("legal_basis"),
    ).drop("control").collect()


def _dedupe(decisions: pl.DataFrame) -> pl.DataFrame:
    """R10: among rows still sendable, the smallest customer_id per contact point is kept.

    Grouped over the candidate rows only (a window over every row costs seconds and gigabytes).
    """
    key = ["channel", "dedupe_key"]
    candidates = decisions.lazy().filter(
        pl.col("reason_code").is_null() & pl.col("channel").is_in(DUPLICATE_RULE.channels)
        & pl.col("dedupe_key").is_not_null()
    ).select("customer_id", *key)
    kept = candidates.group_by(key).agg(kept_id=pl.col("customer_id").min())
    duplicates = (
        candidates.join(kept, on=key).filter(pl.col("customer_id") != pl.col("kept_id"))
        .select("customer_id", "channel", "kept_id", duplicate=pl.lit(True))
    )
    return decisions.lazy().join(duplicates, on=["customer_id", "channel"], how="left").with_columns(
        reason_code=pl.when("duplicate").then(pl.lit(DUPLICATE_RULE.code)).otherwise("reason_code"),
        all_reasons=pl.when("duplicate").then(pl.lit(DUPLICATE_RULE.code)).otherwise("all_reasons"),
        detail=pl.when("duplicate").then(pl.format("same contact as kept customer_id {}", pl.col("kept_id")))
        .otherwise("detail"),
        legal_basis=pl.when("duplicate").then(pl.lit(None, pl.String)).otherwise("legal_basis"),
    ).drop("duplicate").collect()


def run_tables(config: Config, contacts: pl.DataFrame, decisions: pl.DataFrame) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The channel files' rows and the exclusions, sorted by customer_id."""
    people = contacts.select(
        "customer_id",
        pl.col("email_norm").alias("email"),
        pl.col("phone_e164").alias("phone"),
        "first_name", "last_name", "company_name", "street_address", "postal_code", "city", "country",
        "language", "email_sha256", "phone_sha256",
    )
    sendable = decisions.filter(pl.col("legal_basis").is_not_null())
    tables = {}
    for channel in config.channels:
        rows = sendable.filter(pl.col("channel") == channel).select("customer_id", "legal_basis")
        tables[channel] = rows.join(people, on="customer_id", how="left").select(CHANNEL_COLUMNS[channel]) \
            .sort("customer_id")
    exclusions = (
        decisions.filter(pl.col("reason_code").is_not_null())
        .select(EXCLUSION_COLUMNS)
        .sort("customer_id", pl.col("channel").cast(pl.Enum(CHANNELS)))
    )
    return tables, exclusions


def summarize(config: Config, inputs: Inputs, decisions: pl.DataFrame, orphans: pl.Series) -> dict:
    """summary.json as the contract shapes it."""
    channels = {}
    counts = decisions.group_by("channel", "reason_code", "legal_basis").len()
    for channel in config.channels:
        mine = counts.filter(pl.col("channel") == channel)
        excluded = mine.filter(pl.col("reason_code").is_not_null())
        sendable = mine.filter(pl.col("legal_basis").is_not_null())
        channels[channel] = {
            "candidates": int(mine.get_column("len").sum()),
            "sendable": int(sendable.get_column("len").sum()),
            "excluded": int(excluded.get_column("len").sum()),
            "excluded_by_reason": _ordered_counts(excluded, "reason_code", REASON_CODES),
            "sendable_by_legal_basis": _ordered_counts(sendable, "legal_basis", LEGAL_BASES),
        }
    return {
        "campaign": config.name,
        "purpose": config.purpose,
        "as_of": config.as_of.astimezone(HELSINKI).isoformat(),
        "stale": bool(inputs.stale_lists),
        "inputs": {
            "customers": inputs.customers.rows,
            "consents": inputs.consents.rows,
            "holdings": inputs.holdings.rows if inputs.holdings else 0,
            "lists": {name: loaded.rows for name, loaded in inputs.lists.items()},
        },
        "orphan_consent_ids": {"count": orphans.len(), "examples": orphans.head(20).to_list()},
        "warnings": list(inputs.warnings),
        "channels": channels,
        "stale_lists": [s.name for s in inputs.stale_lists],
        "skipped_lists": [s.name for s in inputs.skipped_lists],
    }


def _ordered_counts(frame: pl.DataFrame, column: str, order: tuple[str, ...]) -> dict[str, int]:
    totals = dict(frame.group_by(column).agg(pl.col("len").sum()).iter_rows())
    return {key: int(totals[key]) for key in order if totals.get(key)}


def orphan_ids(inputs: Inputs) -> pl.Series:
    """Consent customer_ids not in the customers file, distinct and sorted."""
    known = inputs.customers.frame.get_column("customer_id").implode()
    consent_ids = inputs.consents.frame.get_column("customer_id").unique()
    return consent_ids.filter(~consent_ids.is_in(known)).sort()


def build(config: Config, *, allow_stale: bool = False, progress: Progress = no_progress) -> BuildResult:
    """Everything `audience build` computes, as data."""
    inputs = load_inputs(config, allow_stale=allow_stale, progress=progress)
    progress("normalizing contacts")
    contacts = contact_frame(inputs.customers.frame)
    decisions = decide(config, inputs, contacts, progress)
    tables, exclusions = run_tables(config, contacts, decisions)
    summary = summarize(config, inputs, decisions, orphan_ids(inputs))
    return BuildResult(config=config, inputs=inputs, channel_tables=tables, exclusions=exclusions,
                       decisions=decisions, summary=summary)
