"""Compose the build: inputs → contacts and facts → decisions (rules, then stages) → run tables.

Everything here returns data; nothing prints or writes: `cli/` renders, `outputs.py` writes.
The work is spread over the cores by `schedule`, which the domain modules only receive.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterator

import polars as pl

from . import schedule
from .audiences import AudienceFiles, audience_files, summary_of
from .config import CHANNELS, HELSINKI, Config
from .consent import resolve_consents
from .facts import (CHANNEL_COLUMNS, CHANNEL_ORDER, contact_frame, history_orphans, number_consents, orphan_ids,
                    social_hashes)
from .inputs import Inputs, Progress, check_inputs, no_progress, release
from .rules import LEGAL_BASES, REASON_CODES, reasons_text, reasons_type
from .sources import Loaded
from .stages import ChannelDecisions, decide


# The exclusions are made and written this many customers at a time (their texts for 10M
# customers at once would take gigabytes).
CUSTOMERS_PER_CHUNK = 500_000


DECISION_COLUMNS = ("customer_id", "channel", "reason_code", "all_reasons", "detail", "legal_basis")


@dataclass
class BuildResult:
    config: Config
    inputs: Inputs
    contacts: pl.DataFrame
    decided: dict[str, ChannelDecisions]
    summary: dict
    audiences: list[AudienceFiles] = field(default_factory=list)  # [output].audiences' files, in its order

    def channel_table(self, channel: str) -> pl.DataFrame:
        """The rows of one channel file, sorted by customer_id."""
        return channel_table(self.contacts, channel, self.decided[channel].sendable)

    @property
    def channel_tables(self) -> dict[str, pl.DataFrame]:
        return {channel: self.channel_table(channel) for channel in self.config.channels}

    def exclusion_chunks(self, customers_per_chunk: int | None = None) -> Iterator[pl.DataFrame]:
        """The exclusions file's rows in order (customer_id, then channel), a range of customers at a time."""
        return exclusion_chunks(self.contacts, self.decided, customers_per_chunk or CUSTOMERS_PER_CHUNK)

    @property
    def exclusions(self) -> pl.DataFrame:
        return pl.concat(self.exclusion_chunks(), how="vertical").cast(
            {"channel": pl.String, "reason_code": pl.String, "all_reasons": pl.String})

    @property
    def decisions(self) -> pl.DataFrame:
        """Every customer × channel as one frame with the texts (for tests and small runs)."""
        ids = self.contacts.get_column("customer_id")
        frame = pl.concat([decided.as_text(ids).with_columns(channel=pl.lit(channel))
                           for channel, decided in self.decided.items()])
        return frame.with_columns(customer_id=ids.gather(frame.get_column("cix"))).select(DECISION_COLUMNS)


def channel_table(contacts: pl.DataFrame, channel: str, sendable: pl.DataFrame) -> pl.DataFrame:
    """One channel file's rows: the sendable customers' contact columns, in customer order.

    Only the columns the file has (for social, what its hashes are made of) are gathered."""
    written = {"email": pl.col("email_norm"), "phone": pl.col("phone_e164")}
    columns = [c for c in CHANNEL_COLUMNS[channel] if c not in ("legal_basis", "email_sha256", "phone_sha256")]
    rows = contacts.select(
        *(written.get(c, pl.col(c)).alias(c) for c in columns),
        *(["email_valid", "email_norm", "phone_e164"] if channel == "social" else []),
    )[sendable.get_column("cix")]
    if channel == "social":
        rows = rows.with_columns(social_hashes())
    return rows.with_columns(legal_basis=sendable.get_column("legal_basis").cast(pl.String)) \
        .select(pl.col(c).cast(pl.String) for c in CHANNEL_COLUMNS[channel])


def exclusion_chunks(contacts: pl.DataFrame, decided: dict[str, ChannelDecisions],
                     customers_per_chunk: int) -> Iterator[pl.DataFrame]:
    """The exclusions in order (customer_id, then channel in the contract's order), made a range of
    customers at a time so that the texts of millions of rows never exist at once.

    `channel`, `reason_code` and `all_reasons` stay enumerations (the same in every chunk), which
    a writer stores as a dictionary without hashing every row's text (see outputs._arrow_table);
    `BuildResult.exclusions` gives them as text."""
    ids = contacts.get_column("customer_id")
    channels = [channel for channel in CHANNELS if channel in decided]  # the contract's order
    all_reasons = reasons_type(pl.concat([decided[channel].excluded.get_column("reasons").unique()
                                          for channel in channels]))
    for start in range(0, max(contacts.height, 1), customers_per_chunk):  # an empty run: one empty chunk
        end = start + customers_per_chunk
        parts = []
        for channel in channels:
            excluded = decided[channel].excluded
            cix = excluded.get_column("cix")
            lo, hi = cix.search_sorted(start, side="left"), cix.search_sorted(end, side="left")
            parts.append(excluded.slice(lo, hi - lo).with_columns(channel=pl.lit(channel, dtype=CHANNEL_ORDER)))
        # Each part is in customer order and the parts in channel order: a stable sort by customer
        # alone puts the rows in order, cheaper than sorting by both keys.
        chunk = pl.concat(parts).sort("cix", maintain_order=True)
        yield chunk.select(
            customer_id=ids.gather(chunk.get_column("cix")),
            channel="channel",
            reason_code="reason_code",
            all_reasons=reasons_text(chunk.get_column("reasons"), all_reasons),
            detail="detail",
        )


def summarize(config: Config, inputs: Inputs, decided: dict[str, ChannelDecisions], orphans: pl.Series,
              history_orphans: pl.Series | None = None) -> dict:
    """summary.json as the contract shapes it. `history_orphans`: the contact history's ids not
    among the customers (of the rows read: those inside the caps' widest window)."""
    history_orphans = history_orphans if history_orphans is not None else pl.Series([], dtype=pl.String)
    channels = {}
    for channel in config.channels:
        sendable, excluded = decided[channel].sendable, decided[channel].excluded
        channels[channel] = {
            "candidates": sendable.height + excluded.height,
            "sendable": sendable.height,
            "excluded": excluded.height,
            "excluded_by_reason": _ordered_counts(excluded.get_column("reason_code"), REASON_CODES),
            "sendable_by_legal_basis": _ordered_counts(sendable.get_column("legal_basis"), LEGAL_BASES),
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
            "contact_history": inputs.history.loaded.rows if inputs.history else 0,
            "lists": {name: loaded.rows for name, loaded in inputs.lists.items()},
        },
        "orphan_consent_ids": {"count": orphans.len(), "examples": orphans.head(20).to_list()},
        "orphan_history_ids": {"count": history_orphans.len(), "examples": history_orphans.head(20).to_list()},
        "warnings": list(inputs.warnings),
        "customers_sendable": customers_sendable(decided),
        "channels": channels,
        "stale_lists": [s.name for s in inputs.stale_lists],
        "skipped_lists": [s.name for s in inputs.skipped_lists],
    }


def customers_sendable(decided: dict[str, ChannelDecisions]) -> int:
    """How many customers are sendable on at least one channel: every channel's sendable customers
    marked in one mask over the customers (their numbers, `cix`, are places in it)."""
    customers = max((d.sendable.height + d.excluded.height for d in decided.values()), default=0)
    reached = pl.repeat(False, customers, dtype=pl.Boolean, eager=True)
    for decisions in decided.values():
        reached = reached.scatter(decisions.sendable.get_column("cix"), True)
    return int(reached.sum())


def _ordered_counts(values: pl.Series, order: tuple[str, ...]) -> dict[str, int]:
    """How often each of `order` occurs (those that do), in that order. One comparison per value
    and key of the enumeration: much faster than value_counts, which hashes."""
    counts = values.to_frame("value").select((pl.col("value") == key).sum().alias(key) for key in order)
    return {key: int(total) for key, total in counts.row(0, named=True).items() if total}


def build(config: Config, *, allow_stale: bool = False, progress: Progress = no_progress) -> BuildResult:
    """Everything `audience build` computes, as data.

    Each input's frame is let go as soon as what is made from it exists (the customers once the
    contacts are made, the consent log once it is numbered, the holdings once their active holders
    are found, lists once matched): at 10M customers these are gigabytes.
    """
    def normalized(customers: pl.DataFrame) -> pl.DataFrame:
        progress("normalizing contacts")
        return contact_frame(customers, schedule.together)

    def resolved(consents: Loaded, customer_ids: pl.Series) -> tuple[Loaded, tuple[pl.DataFrame, pl.Series]]:
        # The customers are sorted by id (load_customers), so a customer's number is its place.
        numbered = number_consents(consents.frame, customer_ids)
        return release(consents), (resolve_consents(numbered, config.channels, config.purpose, config.as_of),
                                   orphan_ids(numbered))

    # The contacts are made on one core while the consent log is read, numbered and resolved on the other.
    check = check_inputs(config, allow_stale=allow_stale, progress=progress, meanwhile=normalized,
                         with_consents=resolved)
    inputs = check.raise_problems()
    contacts = check.made  # check_inputs let go of the customers' rows once these were made
    consents, orphans = check.made_of_consents  # made whenever the inputs have no problem
    history_orphan_ids = history_orphans(inputs, contacts.get_column("customer_id"))
    if inputs.history is not None:  # the orphans are all the summary needs of its ids
        inputs.history = replace(inputs.history, customer_ids=inputs.history.customer_ids.clear())
    decided = decide(config, inputs, contacts, progress, consume=True, resolved=consents, together=schedule.together)
    summary = summarize(config, inputs, decided, orphans, history_orphan_ids)
    audiences = []
    if config.audiences:  # the run being replaced, if any, is what the removals are found against
        audiences = audience_files(config.audiences, contacts, decided["social"].sendable.get_column("cix"),
                                   config.output_dir)
        summary["audiences"] = summary_of(audiences)
    return BuildResult(config=config, inputs=inputs, contacts=contacts, decided=decided, summary=summary,
                       audiences=audiences)
