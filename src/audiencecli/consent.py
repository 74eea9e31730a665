"""Point-in-time consent resolution and active holdings."""
from __future__ import annotations

import datetime as dt

import polars as pl

from .config import CHANNELS
from .engine import ENGINE
from .sources.consents import CONSENT_STATUS_TYPE

CONSENT_PURPOSES = ("marketing", "service", "survey")


STATE_TYPE = CONSENT_STATUS_TYPE  # a resolved state is its deciding event's status
WILDCARD = -1  # the place of a channel-`all` event: every campaign channel
CAMPAIGN_CHANNEL_TYPE = pl.Enum(CHANNELS)  # a resolved row's channel (an enum: splitting by it is cheap)


def resolve_consents(consents: pl.DataFrame, channels: tuple[str, ...], purpose: str,
                     as_of: dt.datetime) -> pl.DataFrame:
    """The deciding event per (customer, channel) at `as_of`; customers are numbered (`cix`).

    The latest event with channel in {C, all}, purpose in {P, all} and recorded_at ≤ as_of
    wins; at equal recorded_at `denied` wins (the low bit of one integer rank); of equal
    events the one nearest the top of the file is the evidence. Customers without such an
    event have no row: state `none`.

    Only (customer × channel as one integer, rank, event number) is sorted; the winning events'
    fields are then gathered by number. Returns cix, channel, consent_state, consent_at,
    consent_source, consent_line, and the event's own channel and purpose (consent_channel,
    consent_purpose).
    """
    schema = {
        "cix": pl.UInt32, "channel": CAMPAIGN_CHANNEL_TYPE, "consent_state": STATE_TYPE,
        "consent_at": pl.Datetime("us", "UTC"), "consent_source": consents.schema["source"],
        "consent_line": pl.Int64, "consent_channel": consents.schema["channel"],
        "consent_purpose": consents.schema["purpose"],
    }
    if purpose not in CONSENT_PURPOSES or not channels:
        return pl.DataFrame(schema=schema)
    as_of_utc = as_of.astimezone(dt.timezone.utc)
    # Each event's campaign channel as a number, read from its channel's enum code: the channel's
    # place in the campaign, WILDCARD for `all`, null for a channel the campaign does not use.
    place_of_code = pl.Series([
        channels.index(name) if name in channels else (WILDCARD if name == "all" else None)
        for name in consents.schema["channel"].categories
    ], dtype=pl.Int8)
    events = consents.lazy().with_row_index("_event").filter(
        pl.col("cix").is_not_null(),
        pl.col("recorded_at") <= pl.lit(as_of_utc).dt.cast_time_unit("us"),
        pl.col("purpose").is_in([purpose, "all"]),
    ).select(
        "cix", "_event",
        place=pl.lit(place_of_code).gather(pl.col("channel").to_physical()),
        rank=pl.col("recorded_at").dt.epoch("us") * 2 + pl.col("denied").cast(pl.Int64),
    ).filter(pl.col("place").is_not_null())
    # A wildcard event stands for itself on every campaign channel.
    wildcard = events.filter(pl.col("place") == WILDCARD).drop("place").join(
        pl.LazyFrame({"place": range(len(channels))}, schema={"place": pl.Int8}), how="cross")
    specific = events.filter(pl.col("place") != WILDCARD)
    slot = pl.col("cix").cast(pl.UInt64) * len(channels) + pl.col("place").cast(pl.UInt64)
    winners = (
        pl.concat([specific, wildcard], how="diagonal")
        .select(slot.alias("_slot"), "_event", "rank")
        .sort("_slot", "rank", "_event", descending=[False, True, False])
        # Sorted by slot: a slot's first row is where the slot changes (no hash set needed).
        .filter(pl.col("_slot").ne_missing(pl.col("_slot").shift(1)))
        .collect(engine=ENGINE)
    )
    won = consents.select("denied", "recorded_at", "source", "_line", "channel", "purpose")[winners["_event"]]
    slots = winners.get_column("_slot")
    return pl.DataFrame({
        "cix": (slots // len(channels)).cast(pl.UInt32),
        "channel": pl.Series(list(channels), dtype=CAMPAIGN_CHANNEL_TYPE).gather(slots % len(channels)),
    }).with_columns(
        consent_state=pl.when(won.get_column("denied")).then(pl.lit("denied", dtype=STATE_TYPE))
        .otherwise(pl.lit("granted", dtype=STATE_TYPE)),
        consent_at=won.get_column("recorded_at"),
        consent_source=won.get_column("source"),
        consent_line=won.get_column("_line"),
        consent_channel=won.get_column("channel"),
        consent_purpose=won.get_column("purpose"),
    ).cast(schema)


def active_holding(product_group: str | None, as_of_date: dt.date) -> pl.Expr:
    """A holding of `product_group` active at `as_of_date`: start_date ≤ as_of and (no end_date or
    end_date ≥ as_of). Never, without a product group."""
    if product_group is None:
        return pl.lit(False)
    day = pl.lit(as_of_date)
    return (pl.col("product_group") == product_group) & (pl.col("start_date") <= day) \
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= day))


def active_holders(holdings: pl.DataFrame | None, product_group: str | None,
                   as_of_date: dt.date) -> pl.DataFrame:
    """Customers with an active holding of `product_group` at the date of `as_of` (active_holding).

    Returns customer_id and holding_line (the first such holding's line, as evidence). Empty
    without a product group.
    """
    schema = {"customer_id": pl.String, "holding_line": pl.Int64}
    if holdings is None or product_group is None:
        return pl.DataFrame(schema=schema)
    return (
        holdings.lazy()
        .filter(active_holding(product_group, as_of_date))
        .group_by("customer_id")
        .agg(pl.col("_line").min().alias("holding_line"))
        .collect(engine=ENGINE)
        .cast(schema)
    )
