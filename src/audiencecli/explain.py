"""`explain`: every rule's verdict and evidence for chosen customers, from the build's own rules table.

Nothing here decides anything: the outcome comes from `stages.decide` (the build's code path),
each one-pass rule's pass/fail from the same `Rule.fails` expressions over the same
`decision_frames` the build evaluates, and each stage's check and evidence from the stage
itself, so explain and build cannot disagree.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl
import polars.selectors as cs

from . import schedule
from .config import HELSINKI, Config
from .datetimes import HELSINKI_TIME_FORMAT, helsinki_time_text
from .engine import ENGINE
from .errors import UsageError, shown
from .facts import KIND_ORDER, campaign_of, cap_counts, contact_frame, decision_frames, numbered_history, social_hashes
from .inputs import Inputs
from .rules import ONE_PASS_RULES, RULES, Rule, age_of
from .stages import STAGES, decide

FAIL, PASS, NOT_APPLICABLE, NOT_REACHED = "fail", "pass", "not applicable", "not reached"


@dataclass
class RuleCheck:
    number: str
    code: str
    status: str
    detail: str | None = None


@dataclass
class ChannelExplanation:
    channel: str
    outcome: str
    reason_code: str | None
    all_reasons: str | None
    detail: str | None
    legal_basis: str | None
    checks: list[RuleCheck] = field(default_factory=list)
    evidence: dict = field(default_factory=dict)


@dataclass
class Explanation:
    customer_id: str
    campaign: str
    purpose: str
    as_of: str
    channels: list[ChannelExplanation]

    def as_dict(self) -> dict:
        return asdict(self)


def explain(config: Config, inputs: Inputs, customer_ids: list[str] | None = None) -> dict[str, Explanation]:
    """Explanations for the given customers (all when None). Unknown ids are a usage error."""
    contacts = contact_frame(inputs.customers.frame, schedule.together)
    if customer_ids is not None:
        known = set(contacts.filter(pl.col("customer_id").is_in(customer_ids)).get_column("customer_id").to_list())
        unknown = [c for c in customer_ids if c not in known]
        if unknown:
            raise UsageError(f"customer_id {', '.join(unknown)} is not in {inputs.customers.label}")
    chosen = contacts if customer_ids is None else contacts.filter(pl.col("customer_id").is_in(customer_ids))
    chosen_cix = chosen.get_column("cix").implode()
    frames = decision_frames(config, inputs, contacts, together=schedule.together)
    decided = decide(config, inputs, contacts, frames=frames, together=schedule.together)
    prepared = [stage.prepare(config, contacts) for stage in STAGES]
    ids = contacts.get_column("customer_id")
    campaign = campaign_of(config)
    per_channel = []
    for channel, frame in frames.items():
        outcome = decided[channel].as_text(ids)
        per_channel.append(
            frame.filter(pl.col("cix").is_in(chosen_cix)).collect(engine=ENGINE)
            .join(outcome, on="cix", how="left")
        )
    facts = pl.concat(per_channel, how="diagonal_relaxed")
    cix = facts.get_column("cix")
    checked = facts.with_columns(
        customer_id=ids.gather(cix),
        **{name: column for stage, ready in zip(STAGES, prepared) for name, column in stage.explained(ready, cix).items()},
    ).with_columns(
        *[rule.fails(campaign).alias(f"fail_{i}") for i, rule in enumerate(ONE_PASS_RULES)],
        *[rule.detail(campaign).alias(f"why_{i}") for i, rule in enumerate(ONE_PASS_RULES)],
        consent_at_text=pl.col("consent_at").dt.convert_time_zone(str(HELSINKI)).dt.to_string(HELSINKI_TIME_FORMAT),
        birth_date_text=pl.col("birth_date").dt.to_string("%Y-%m-%d"),
        age=pl.when(pl.col("birth_date").is_not_null()).then(age_of(campaign)),
    ).join(chosen.select("cix", *sorted(set(CONTACT_EVIDENCE.values()) - {"email_sha256"}),
                         social_hashes()[0]), on="cix", how="left")
    caps = _caps_of(config, inputs, ids, chosen_cix)
    order = {c: i for i, c in enumerate(config.channels)}
    as_of = config.as_of.astimezone(HELSINKI).isoformat()
    result: dict[str, Explanation] = {}
    # Dates and times are shown as the texts made above: a year-0000 date, which the readers
    # accept, has no Python equivalent.
    for row in checked.sort("cix").select(~cs.temporal()).iter_rows(named=True):
        explanation = result.setdefault(row["customer_id"], Explanation(
            customer_id=row["customer_id"], campaign=config.name, purpose=config.purpose, as_of=as_of,
            channels=[]))
        explanation.channels.append(_channel(row, config, campaign, caps.get(row["cix"], {})))
    for explanation in result.values():
        explanation.channels.sort(key=lambda c: order[c.channel])
        if config.arbitration:
            chosen_channel = _channel_chosen(explanation.channels, config.arbitration)
            for channel in explanation.channels:
                if channel.channel in config.arbitration:
                    channel.evidence["channel_chosen"] = chosen_channel
    return result


# Reasons given after arbitration: a channel excluded by one of them had been kept by arbitration.
_AFTER_ARBITRATION = {stage.code for stage in STAGES[[s.code for s in STAGES].index("channel_arbitration") + 1:]}


def _channel_chosen(channels: list[ChannelExplanation], order: tuple[str, ...]) -> str | None:
    """The channel arbitration kept: the first of `order` that passed it (still sendable, or lost
    afterwards to a later stage such as duplicate_contact)."""
    passed = {c.channel for c in channels if c.outcome == "sendable" or c.reason_code in _AFTER_ARBITRATION}
    return next((channel for channel in order if channel in passed), None)


def _caps_of(config: Config, inputs: Inputs, ids: pl.Series, chosen_cix: pl.Series) -> dict[int, dict[int, dict]]:
    """Per chosen customer (cix) and cap (its index), the contacts the cap counts and the latest."""
    if not config.pressure:
        return {}
    counts = cap_counts(config, numbered_history(inputs, ids)).filter(pl.col("cix").is_in(chosen_cix))
    counts = counts.with_columns(latest=helsinki_time_text(counts.get_column("latest")))
    found: dict[int, dict[int, dict]] = {}
    for cix, cap, count, latest in counts.iter_rows():
        found.setdefault(cix, {})[cap] = {"count": count, "latest_sent_at": latest}
    return found


CONTACT_EVIDENCE = {
    "email": "email_norm",
    "sms": "phone_e164",
    "phone": "phone_e164",
    "social": "email_sha256",
}


def _channel(row: dict, config: Config, campaign, caps: dict[int, dict]) -> ChannelExplanation:
    channel = row["channel"]
    checks = []
    for i, rule in enumerate(ONE_PASS_RULES):
        if not _in_scope(rule, campaign, channel):
            checks.append(RuleCheck(rule.number, rule.code, NOT_APPLICABLE))
        elif row[f"fail_{i}"]:
            checks.append(RuleCheck(rule.number, rule.code, FAIL, row[f"why_{i}"]))
        else:
            checks.append(RuleCheck(rule.number, rule.code, PASS))
    excluded_before = any(c.status == FAIL for c in checks)
    stage_checks = {}
    for stage in STAGES:  # in the order they run, each on what the ones before it left sendable
        stage_checks[stage.code] = _stage_check(stage, config, channel, excluded_before, row)
        excluded_before = excluded_before or row["reason_code"] == stage.code
    checks += [stage_checks[rule.code] for rule in RULES if rule.code in stage_checks]  # in table order
    evidence = {
        "contact_problem": row["contact_problem"],
        "consent": None if row["consent_state"] is None else {
            "state": row["consent_state"], "recorded_at": row["consent_at_text"], "source": shown(row["consent_source"]) if row["consent_source"] else None,
            "event": f"channel={row['consent_channel']} purpose={row['consent_purpose']}",
            "consents_line": row["consent_line"],
        },
        "lists": {kind: row[f"sup_{kind}"] for kind in KIND_ORDER if row[f"sup_{kind}"]},
        "active_holding_line": row["holding_line"],
        "business_contact_in_targeted_role": row["is_b2b"],
        "birth_date": row["birth_date_text"],
        "age": row["age"],
        "address_protected": row["address_protected"],
        "pressure": [
            {"cap": shown(config.pressure[i].name), "count": caps.get(i, {}).get("count", 0),
             "max_contacts": config.pressure[i].max_contacts, "window_days": config.pressure[i].window_days,
             "latest_sent_at": caps.get(i, {}).get("latest_sent_at")}
            for i in config.applying_cap_indexes(channel)
        ],
        **{key: row[column] for stage in STAGES for key, column in stage.evidence.items()},
    }
    if channel in CONTACT_EVIDENCE:
        evidence["contact"] = row[CONTACT_EVIDENCE[channel]]
    return ChannelExplanation(
        channel=channel,
        outcome="sendable" if row["legal_basis"] else "excluded",
        reason_code=row["reason_code"], all_reasons=row["all_reasons"], detail=row["detail"],
        legal_basis=row["legal_basis"], checks=checks, evidence=evidence,
    )


def _in_scope(rule: Rule, campaign, channel: str) -> bool:
    return rule.applies_on(campaign, channel)


def _stage_check(stage, config: Config, channel: str, excluded_before: bool, row: dict) -> RuleCheck:
    """A stage's check: it runs on what the one pass and the stages before it left sendable."""
    rule = stage.rule
    if not stage.applies(config, channel):
        return RuleCheck(rule.number, rule.code, NOT_APPLICABLE)
    detail = stage.check_detail(row, config)
    if excluded_before:
        return RuleCheck(rule.number, rule.code, NOT_REACHED, detail)
    return RuleCheck(rule.number, rule.code, FAIL if row["reason_code"] == rule.code else PASS, detail)
