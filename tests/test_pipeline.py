"""The facts' own steps, where their results are not plain to see in a run's files."""
from __future__ import annotations

import datetime as dt

import polars as pl

from audiencecli.facts import _in_customer_order

UTC = dt.timezone.utc


def test_facts_are_put_in_customer_order_with_nulls_where_a_customer_has_none():
    state = pl.Enum(["granted", "denied"])
    consents = pl.DataFrame({
        "cix": pl.Series([3, 0], dtype=pl.UInt32),
        "consent_state": pl.Series(["denied", "granted"], dtype=state),
        "consent_at": pl.Series([dt.datetime(2026, 1, 2, tzinfo=UTC), dt.datetime(2025, 5, 6, tzinfo=UTC)],
                                dtype=pl.Datetime("us", "UTC")),
        "consent_source": pl.Series(["web", "call"], dtype=pl.Categorical),
    })
    suppressed = pl.DataFrame({"cix": pl.Series([1], dtype=pl.UInt32),
                               "sup_internal": pl.Series(["blocked (email)"], dtype=pl.Categorical)})
    nothing = pl.DataFrame({"cix": pl.Series([], dtype=pl.UInt32), "sup_custom": pl.Series([], dtype=pl.Categorical)})
    placed = _in_customer_order([consents, suppressed, nothing], 5)
    assert dict(placed.schema) == {"consent_state": state, "consent_at": pl.Datetime("us", "UTC"),
                                   "consent_source": pl.Categorical, "sup_internal": pl.Categorical,
                                   "sup_custom": pl.Categorical}
    assert placed.rows() == [
        ("granted", dt.datetime(2025, 5, 6, tzinfo=UTC), "call", None, None),
        (None, None, None, "blocked (email)", None),
        (None, None, None, None, None),
        ("denied", dt.datetime(2026, 1, 2, tzinfo=UTC), "web", None, None),
        (None, None, None, None, None),
    ]
