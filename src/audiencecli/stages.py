"""The decision: the rules' one pass per channel, then the stages after it, in the contract's order.

`decide` is the only way a customer is decided, for `build` and `explain` alike. The one pass
evaluates every rule without a stage (rules.ONE_PASS_RULES) on a channel's decision frame; then
each stage (rules.STAGE_RULES, in their order) takes what is still sendable on every channel and
moves some of it to the excluded, with its rule's reason code. A stage sees every channel at
once, so a rule that needs every channel's result has a place; `explain` asks the same stages
for their evidence.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import polars as pl

from . import normalize
from .config import Config
from .engine import ENGINE
from .facts import campaign_of, decision_frames
from .inputs import Inputs, Progress, no_progress
from .rules import (BASIS_TYPE, ONE_PASS_RULES, REASON_BITS, REASON_TYPE, REASONS_MASK, RULE_OF, STAGE_RULES,
                    Campaign, Rule, legal_basis, reasons_text)
from .schedule import Together, sequential

SENDABLE_SCHEMA = {"cix": pl.UInt32, "legal_basis": BASIS_TYPE}
EXCLUDED_SCHEMA = {"cix": pl.UInt32, "reason_code": REASON_TYPE, "reasons": REASONS_MASK, "detail": pl.String,
                   "kept_cix": pl.UInt32}


@dataclass
class ChannelDecisions:
    """One channel's decisions, in customer order (`cix`: the customer's row in the contacts,
    which are sorted by customer_id). `sendable`: cix, legal_basis. `excluded`: cix, reason_code,
    reasons (bit mask, see rules.REASON_BITS), detail, kept_cix (the customer kept instead, for
    a stage that keeps one customer of several)."""

    sendable: pl.DataFrame
    excluded: pl.DataFrame

    def as_text(self, ids: pl.Series) -> pl.DataFrame:
        """Every customer's decision with its texts: cix, reason_code, all_reasons, detail,
        legal_basis, kept_id (the kept customer's customer_id); for explain and small runs."""
        excluded = self.excluded
        return pl.concat([
            self.sendable.select("cix", pl.col("legal_basis").cast(pl.String)),
            excluded.select(
                "cix", pl.col("reason_code").cast(pl.String), reasons_text(excluded.get_column("reasons")),
                pl.col("detail").cast(pl.String), kept_id=ids.gather(excluded.get_column("kept_cix")),
            ),
        ], how="diagonal").select("cix", "reason_code", "all_reasons", "detail", "legal_basis", "kept_id")


def evaluate(decisions: pl.LazyFrame, campaign: Campaign, channel: str | None = None) -> pl.LazyFrame:
    """Add reason_code (the first failing rule), reasons (a bit per failing rule, see REASON_BITS)
    and legal_basis (null when excluded): small integer columns, so that a decision costs a few
    bytes. The texts (all_reasons, detail) are made only for excluded rows: see `with_detail`.
    `channel`: the frame's one channel, when it has one (rules of other channels then cost nothing)."""
    live = [(i, r) for i, r in enumerate(ONE_PASS_RULES)
            if r.applies(campaign) and (channel is None or channel in r.channels_for(campaign))]
    fails = [(pl.col(f"fail_{i}"), r) for i, r in live]
    return decisions.with_columns(
        rule.fails(campaign, channel).alias(f"fail_{i}") for i, rule in live
    ).with_columns(
        reason_code=pl.coalesce([pl.when(f).then(pl.lit(r.code, dtype=REASON_TYPE)) for f, r in fails]
                                or [pl.lit(None, REASON_TYPE)]),
        reasons=pl.sum_horizontal([pl.when(f).then(pl.lit(REASON_BITS[r.code], dtype=REASONS_MASK))
                                   .otherwise(pl.lit(0, dtype=REASONS_MASK)) for f, r in fails]
                                  or [pl.lit(0, dtype=REASONS_MASK)]).cast(REASONS_MASK),
    ).with_columns(
        legal_basis=pl.when(pl.col("reason_code").is_null()).then(legal_basis(campaign, channel)),
    ).drop(f"fail_{i}" for i, _ in live)


def with_detail(excluded: pl.LazyFrame, campaign: Campaign) -> pl.LazyFrame:
    """The evidence text of each excluded row, from the rule that excluded it.

    Each rule's text is made only on its own rows (a chain of when/then would format every
    rule's text for every row), and the parts are put back together. Texts that repeat are made
    once per distinct value of what they are made of and shared by their rows (a 130-byte text
    on 4M rows would otherwise be 4M copies); only `detail_per_row` texts are made per row.
    """
    parts = []
    for rule in ONE_PASS_RULES:
        if not rule.applies(campaign):
            continue
        rows = excluded.filter(pl.col("reason_code") == pl.lit(rule.code, dtype=REASON_TYPE))
        detail = rule.detail(campaign).cast(pl.String).alias("detail")
        made_of = list(dict.fromkeys(detail.meta.root_names()))
        if rule.detail_per_row or not made_of:  # a constant text is one literal, shared already
            parts.append(rows.with_columns(detail))
        else:
            texts = rows.select(made_of).unique().with_columns(detail)
            parts.append(rows.join(texts, on=made_of, how="left", nulls_equal=True, maintain_order="left"))
    if not parts:
        return excluded.with_columns(detail=pl.lit(None, pl.String))
    return pl.concat(parts)


@dataclass
class ChannelPass:
    """One channel after the one pass: still sendable, excluded, and the columns of the decision
    frame (every customer, in customer order) that the stages read."""

    sendable: pl.DataFrame
    excluded: pl.DataFrame
    read: dict[str, pl.Series]


def one_pass(frame: pl.LazyFrame, campaign: Campaign, channel: str, reads: tuple[str, ...]) -> ChannelPass:
    """The rules without a stage, on one channel's decision frame."""
    flagged = evaluate(frame, campaign, channel).collect(engine=ENGINE)
    # The columns the stages read stay where they are (one per customer, in customer order) until
    # a stage needs those of the rows still sendable: filtering them along with every step cost more.
    read = {name: flagged.get_column(name) for name in reads}
    sendable = flagged.filter(pl.col("reason_code").is_null()).select("cix", "legal_basis")
    excluded = with_detail(flagged.lazy().filter(pl.col("reason_code").is_not_null()), campaign) \
        .select("cix", "reason_code", "reasons", "detail", kept_cix=pl.lit(None, pl.UInt32)).collect(engine=ENGINE)
    return ChannelPass(sendable=sendable, excluded=excluded, read=read)


def moved(rows: pl.DataFrame, code: str, detail: pl.Expr, kept: pl.Expr | None = None) -> pl.DataFrame:
    """Sendable rows that a stage excludes, in the excluded table's shape."""
    return rows.select(
        "cix", reason_code=pl.lit(code, dtype=REASON_TYPE), reasons=pl.lit(REASON_BITS[code], dtype=REASONS_MASK),
        detail=detail, kept_cix=kept if kept is not None else pl.lit(None, pl.UInt32),
    )


class Stage:
    """A rule decided after the one pass. `reads`: decision-frame columns it needs of every
    customer of a channel. `evidence`: explain's evidence keys and the explained columns they show."""

    code: str = ""
    reads: tuple[str, ...] = ()
    evidence: dict[str, str] = {}

    @property
    def rule(self) -> Rule:
        return RULE_OF[self.code]

    def applies(self, config: Config, channel: str) -> bool:
        return self.rule.applies_on(campaign_of(config), channel)

    def prepare(self, config: Config, contacts: pl.DataFrame) -> Any:
        """What the stage makes of the customers before it runs (while the decision frames are made)."""
        return None

    def run(self, config: Config, passed: dict[str, ChannelPass], prepared: Any, ids: pl.Series,
            together: Together) -> dict[str, tuple[pl.DataFrame, pl.DataFrame | None]]:
        """Per channel: (still sendable, the rows this stage moves to the excluded, or None)."""
        raise NotImplementedError

    def explained(self, prepared: Any, cix: pl.Series) -> dict[str, pl.Series]:
        """The columns explain shows of these customers (see `evidence`)."""
        return {}

    def check_detail(self, row: dict, config: Config) -> str | None:
        """The detail of explain's check of this stage for one row of explain's frame."""
        return None


class ControlGroup(Stage):
    """A customer whose holdout bucket is below holdout_percent is held out on every channel."""

    code = "control_group"
    evidence = {"holdout_bucket": "bucket"}

    def prepare(self, config: Config, contacts: pl.DataFrame) -> pl.Series | None:
        return holdout_buckets(config, contacts)

    def run(self, config, passed, prepared, ids, together):
        channels = list(passed)
        return dict(zip(channels, together([partial(self._hold_out, passed[c].sendable, prepared, config)
                                            for c in channels])))

    def _hold_out(self, sendable: pl.DataFrame, buckets: pl.Series | None,
                  config: Config) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        if buckets is None:
            return sendable, None
        with_bucket = sendable.with_columns(bucket=buckets.gather(sendable.get_column("cix")))
        control = pl.col("bucket") < config.holdout_percent
        held_out = moved(with_bucket.filter(control), self.code, pl.format(
            "holdout bucket {} is below holdout_percent {}", pl.col("bucket").round(4),
            pl.lit(config.holdout_percent)))
        return with_bucket.filter(~control).drop("bucket"), held_out

    def explained(self, prepared, cix):
        return {"bucket": prepared.gather(cix) if prepared is not None
                else pl.repeat(None, cix.len(), dtype=pl.Float64, eager=True)}

    def check_detail(self, row, config):
        if row["bucket"] is None:
            return None
        return f"bucket {row['bucket']:.4f} vs holdout_percent {config.holdout_percent}"


class Arbitration(Stage):
    """One channel per person: a customer still sendable on several channels of
    [arbitration].order keeps the first of them and is excluded on the others."""

    code = "channel_arbitration"  # explain shows the channel chosen (explain.channel_chosen)

    def run(self, config, passed, prepared, ids, together):
        order = [c for c in config.arbitration if c in passed]
        if len(order) < 2:
            return {c: (passed[c].sendable, None) for c in passed}
        chosen = pl.repeat(None, ids.len(), dtype=pl.UInt8, eager=True)  # the order index of each one's channel
        done = {}
        for place, channel in enumerate(order):
            sendable = passed[channel].sendable
            taken = chosen.gather(sendable.get_column("cix")).is_not_null()
            lost = sendable.filter(taken)
            places = chosen.gather(lost.get_column("cix")).cast(pl.UInt32)
            texts = pl.Series([f"chosen: {c}" for c in order], dtype=pl.String).gather(places).alias("detail")
            lost = moved(lost, self.code, pl.lit(texts) if lost.height else pl.lit(None, pl.String))
            kept = sendable.filter(~taken)
            chosen = chosen.scatter(kept.get_column("cix"), place)
            done[channel] = (kept, lost)
        return {c: done.get(c, (passed[c].sendable, None)) for c in passed}

    def check_detail(self, row, config):
        if row["reason_code"] == self.code:
            return row["detail"]
        return None


class Duplicates(Stage):
    """Among rows still sendable, the smallest customer_id per contact point is kept."""

    code = "duplicate_contact"
    reads = ("dedupe_key",)
    evidence = {"duplicate_of": "kept_id"}

    def run(self, config, passed, prepared, ids, together):
        deduped = [c for c in passed if self.applies(config, c)]
        done = dict(zip(deduped, together([partial(dedupe, passed[c].sendable, passed[c].read["dedupe_key"], ids,
                                                   self.code) for c in deduped])))
        return {c: done.get(c, (passed[c].sendable, None)) for c in passed}

    def check_detail(self, row, config):
        return f"kept customer_id {row['kept_id']}" if row["kept_id"] else None


# Every stage rule's logic, by its reason code; run in the order of rules.STAGE_RULES.
STAGE_OF: dict[str, Stage] = {stage.code: stage for stage in (ControlGroup(), Arbitration(), Duplicates())}
assert set(STAGE_OF) == {rule.code for rule in STAGE_RULES}, "every stage of the rules table has its logic here"
STAGES: tuple[Stage, ...] = tuple(STAGE_OF[rule.code] for rule in STAGE_RULES)

BUCKET_SLICE = 1_000_000


def holdout_buckets(config: Config, contacts: pl.DataFrame) -> pl.Series | None:
    """Every customer's holdout bucket, in customer order; None when the campaign holds none out."""
    if not RULE_OF[ControlGroup.code].applies(campaign_of(config)):
        return None
    # A million customers at a time: the hex digests are 64 bytes each, made while other work runs.
    ids = contacts.get_column("customer_id")
    return pl.concat([
        ids.slice(start, BUCKET_SLICE).to_frame().select(
            normalize.holdout_bucket(config.name, pl.col("customer_id")).alias("bucket")).to_series()
        for start in range(0, max(ids.len(), 1), BUCKET_SLICE)
    ])


def key_hashes(keys: pl.Series) -> pl.Series:
    """64-bit hashes of contact points (a function of its own, so a test can make them collide)."""
    return keys.hash()


def dedupe(sendable: pl.DataFrame, keys: pl.Series, ids: pl.Series,
           code: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Among rows still sendable, the smallest customer_id per contact point is kept.

    Rows are in customer order, so the kept one is its contact point's first row. Only rows whose
    key's 64-bit hash occurs more than once can be duplicates: one sort of the hashes finds those
    (cheaper than a hash table of millions of key texts), and the keys themselves are compared on
    those rows only, so a collision of hashes changes nothing.
    """
    keyed = sendable.with_columns(dedupe_key=keys.gather(sendable.get_column("cix"))) \
        .filter(pl.col("dedupe_key").is_not_null())
    hashes = key_hashes(keyed.get_column("dedupe_key"))
    ordered = hashes.sort()
    shared = keyed.filter(hashes.is_in(ordered.filter(ordered == ordered.shift(1)).implode()))
    first = shared.get_column("dedupe_key").is_first_distinct()
    rows = shared.filter(~first).join(shared.filter(first).select("dedupe_key", kept_cix="cix"), on="dedupe_key",
                                      how="left", maintain_order="left")
    rows = rows.with_columns(kept_customer_id=ids.gather(rows.get_column("kept_cix")))
    duplicates = moved(rows, code, pl.format("same contact as kept customer_id {}", pl.col("kept_customer_id")),
                       pl.col("kept_cix"))
    return sendable.filter(~pl.col("cix").is_in(rows.get_column("cix").implode())), duplicates


def decide(config: Config, inputs: Inputs, contacts: pl.DataFrame, progress: Progress = no_progress,
           consume: bool = False, frames: dict[str, pl.LazyFrame] | None = None,
           resolved: pl.DataFrame | None = None, together: Together = sequential) -> dict[str, ChannelDecisions]:
    """Every customer × campaign channel decided: the one pass per channel, then each stage.

    `consume`, `resolved`: see facts.decision_frames. `frames`: the decision frames, when the
    caller has made them already (explain reads them too). `together`: how independent steps
    (channels, a stage's preparation beside the decision frames) are run."""
    campaign = campaign_of(config)
    ids = contacts.get_column("customer_id")
    reads = tuple(dict.fromkeys(name for stage in STAGES for name in stage.reads))

    def frames_made() -> dict[str, pl.LazyFrame]:
        if frames is not None:
            return frames
        return decision_frames(config, inputs, contacts, progress, consume, resolved, together)

    made, *prepared = together([frames_made, *(partial(stage.prepare, config, contacts) for stage in STAGES)])
    progress("evaluating rules: " + ", ".join(made))
    channels = list(made)
    passed = dict(zip(channels, together([partial(one_pass, made[c], campaign, c, reads) for c in channels])))
    del made
    moved_by_stage: dict[str, list[pl.DataFrame]] = {channel: [] for channel in channels}
    for stage, ready in zip(STAGES, prepared):
        progress(f"stage: {stage.code}")
        for channel, (sendable, moved_rows) in stage.run(config, passed, ready, ids, together).items():
            passed[channel].sendable = sendable
            if moved_rows is not None and moved_rows.height:
                moved_by_stage[channel].append(moved_rows)
    return dict(zip(channels, together([partial(_decisions, passed[c], moved_by_stage[c]) for c in channels])))


def _decisions(done: ChannelPass, moved_rows: list[pl.DataFrame]) -> ChannelDecisions:
    excluded = pl.concat([done.excluded, *moved_rows]).sort("cix")  # the parts come in stage order
    return ChannelDecisions(sendable=done.sendable.select(*SENDABLE_SCHEMA).cast(SENDABLE_SCHEMA),
                            excluded=excluded.select(*EXCLUDED_SCHEMA).cast(EXCLUDED_SCHEMA))
