"""Point-in-time consent resolution and active holdings."""
from __future__ import annotations

import datetime as dt

import polars as pl

CONSENT_PURPOSES = ("marketing", "service", "survey")


def resolve_consents(consents: pl.DataFrame, channels: tuple[str, ...], purpose: str,
                     as_of: dt.datetime) -> pl.DataFrame:
    """The deciding event per (customer_id, channel) at `as_of`.

    The latest event with channel in {C, all}, purpose in {P, all} and recorded_at ≤ as_of
    wins; at equal recorded_at `denied` wins (encoded as the low bit of one integer, so the
    winner is an arg_max and the log needs no sort). Customers without such an event have no
    row: state `none`. Returns customer_id, channel, consent_state, consent_at, consent_source,
    consent_line, and the event's own channel and purpose (consent_channel, consent_purpose).
    """
    schema = {
        "customer_id": pl.String, "channel": pl.String, "consent_state": pl.String,
        "consent_at": pl.Datetime("us", "UTC"), "consent_source": pl.String,
        "consent_line": pl.Int64, "consent_channel": pl.String, "consent_purpose": pl.String,
    }
    if purpose not in CONSENT_PURPOSES or not channels:
        return pl.DataFrame(schema=schema)
    as_of_utc = as_of.astimezone(dt.timezone.utc)
    events = consents.lazy().filter(
        pl.col("recorded_at") <= pl.lit(as_of_utc).dt.cast_time_unit("us"),
        pl.col("purpose").is_in([purpose, "all"]),
        pl.col("channel").is_in([*channels, "all"]),
    ).with_columns(
        rank=pl.col("recorded_at").dt.epoch("us") * 2 + pl.col("denied").cast(pl.Int64),
        consent_channel=pl.col("channel"),
    )
    # A wildcard event stands for itself on every campaign channel.
    wildcard = events.filter(pl.col("channel") == "all").drop("channel").join(
        pl.LazyFrame({"channel": list(channels)}), how="cross")
    specific = events.filter(pl.col("channel") != "all")
    columns = ["customer_id", "channel", "rank", "denied", "recorded_at", "source", "_line",
               "consent_channel", "purpose"]
    # Within a group rows keep their file order, so a tie picks the event nearest the top.
    winners = (
        pl.concat([specific.select(columns), wildcard.select(columns)])
        .group_by("customer_id", "channel")
        .agg(pl.all().exclude("customer_id", "channel").get(pl.col("rank").arg_max()))
        .select(
            "customer_id", "channel",
            pl.when(pl.col("denied")).then(pl.lit("denied")).otherwise(pl.lit("granted")).alias("consent_state"),
            pl.col("recorded_at").alias("consent_at"),
            pl.col("source").alias("consent_source"),
            pl.col("_line").alias("consent_line"),
            "consent_channel",
            pl.col("purpose").alias("consent_purpose"),
        )
    )
    return winners.collect().cast(schema)


def active_holders(holdings: pl.DataFrame | None, product_group: str | None,
                   as_of_date: dt.date) -> pl.DataFrame:
    """Customers with an active holding of `product_group` at the date of `as_of`.

    Active: start_date ≤ as_of and (no end_date or end_date ≥ as_of). Returns customer_id and
    holding_line (the first such holding's line, as evidence). Empty without a product group.
    """
    schema = {"customer_id": pl.String, "holding_line": pl.Int64}
    if holdings is None or product_group is None:
        return pl.DataFrame(schema=schema)
    day = pl.lit(as_of_date)
    return (
        holdings.lazy()
        .filter(
            pl.col("product_group") == product_group,
            pl.col("start_date") <= day,
            pl.col("end_date").is_null() | (pl.col("end_date") >= day),
        )
        .group_by("customer_id")
        .agg(pl.col("_line").min().alias("holding_line"))
        .collect()
        .cast(schema)
    )
