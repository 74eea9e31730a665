#!/usr/bin/env python3
"""Compare the decisions of two run directories (e.g. `audience build` and bench/peer_duckdb.py).

    .venv/bin/python bench/compare.py RUN_A RUN_B [--json] [--examples 5]

A decision is (customer_id, channel) → `sendable:<legal_basis>` (a row of the channel file) or
the `reason_code` (a row of `exclusions`). Reported, each with counts by category and examples:
  1. decisions: a (customer_id, channel) whose outcome differs, or that is in one run only;
  2. all_reasons of the rows both runs exclude with the same reason_code;
  3. the values of the channel files' columns (normalized email, E.164 phone, hashes, address…)
     of the rows both runs send.
CSV or Parquet runs (either side). Exit 0 when all three agree, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

CHANNELS = ("email", "sms", "phone", "post", "social")


def _read(path_without_ext: Path) -> pl.DataFrame | None:
    for ext in ("parquet", "csv"):
        path = path_without_ext.with_suffix(f".{ext}")
        if path.exists():
            if ext == "parquet":
                return pl.read_parquet(path).with_columns(pl.all().cast(pl.String))
            return pl.read_csv(path, infer_schema=False)
    return None


def load_run(run: Path) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """(decisions: customer_id, channel, outcome, all_reasons; channel tables by name)."""
    parts, tables = [], {}
    for channel in CHANNELS:
        table = _read(run / channel)
        if table is None:
            continue
        tables[channel] = table
        parts.append(table.select(
            "customer_id", pl.lit(channel).alias("channel"),
            ("sendable:" + pl.col("legal_basis")).alias("outcome"), pl.lit(None, pl.String).alias("all_reasons"),
        ))
    exclusions = _read(run / "exclusions")
    if exclusions is None:
        raise SystemExit(f"{run}: no exclusions file")
    parts.append(exclusions.select(
        "customer_id", "channel", pl.col("reason_code").alias("outcome"),
        (pl.col("all_reasons") if "all_reasons" in exclusions.columns else pl.lit(None, pl.String)).alias("all_reasons"),
    ))
    return pl.concat(parts), tables


def compare(run_a: Path, run_b: Path, examples: int = 5) -> dict:
    a, tables_a = load_run(run_a)
    b, tables_b = load_run(run_b)
    result: dict = {"run_a": str(run_a), "run_b": str(run_b), "decisions_a": a.height, "decisions_b": b.height}

    duplicated = {name: int(frame.select(pl.struct("customer_id", "channel").is_duplicated().sum()).item())
                  for name, frame in (("a", a), ("b", b))}
    result["duplicate_decisions"] = duplicated

    joined = a.join(b, on=["customer_id", "channel"], how="full", coalesce=True, suffix="_b")
    differ = joined.filter(pl.col("outcome").ne_missing(pl.col("outcome_b")))
    by_category = (
        differ.group_by("channel", pl.col("outcome").fill_null("(missing)").alias("a"),
                        pl.col("outcome_b").fill_null("(missing)").alias("b"))
        .agg(pl.len().alias("count"), pl.col("customer_id").sort().head(examples).alias("examples"))
        .sort("count", descending=True)
    )
    result["decision_differences"] = differ.height
    result["decision_categories"] = by_category.to_dicts()

    same_exclusion = joined.filter(pl.col("outcome").eq(pl.col("outcome_b")) & pl.col("all_reasons").is_not_null()
                                   & pl.col("all_reasons_b").is_not_null())
    reasons_differ = same_exclusion.filter(pl.col("all_reasons") != pl.col("all_reasons_b"))
    result["all_reasons_compared"] = same_exclusion.height
    result["all_reasons_differences"] = reasons_differ.height
    result["all_reasons_categories"] = (
        reasons_differ.group_by("channel", pl.col("all_reasons").alias("a"), pl.col("all_reasons_b").alias("b"))
        .agg(pl.len().alias("count"), pl.col("customer_id").sort().head(examples).alias("examples"))
        .sort("count", descending=True).head(20).to_dicts()
    )

    value_diffs = []
    cells = 0
    for channel in CHANNELS:
        if channel not in tables_a or channel not in tables_b:
            continue
        ta, tb = tables_a[channel], tables_b[channel]
        columns = [c for c in ta.columns if c in tb.columns and c not in ("customer_id", "legal_basis")]
        both = ta.join(tb, on="customer_id", how="inner", suffix="_b")
        for column in columns:
            cells += both.height
            bad = both.filter(pl.col(column).ne_missing(pl.col(f"{column}_b")))
            if bad.height:
                value_diffs.append({"channel": channel, "column": column, "count": bad.height,
                                    "examples": bad.select("customer_id", column, f"{column}_b").head(examples)
                                    .rows()})
    result["values_compared"] = cells
    result["value_differences"] = sum(d["count"] for d in value_diffs)
    result["value_categories"] = value_diffs
    result["equal"] = (differ.height == 0 and reasons_differ.height == 0 and not value_diffs
                       and not any(duplicated.values()))
    return result


def render(result: dict) -> str:
    lines = [
        f"A = {result['run_a']} ({result['decisions_a']:,} decisions)",
        f"B = {result['run_b']} ({result['decisions_b']:,} decisions)",
        f"decisions that differ: {result['decision_differences']:,}",
    ]
    for cat in result["decision_categories"][:30]:
        lines.append(f"  {cat['channel']:7} A {cat['a']:32} B {cat['b']:32} {cat['count']:>8,}  e.g. "
                     + ", ".join(cat["examples"]))
    lines.append(f"all_reasons that differ (same reason_code): {result['all_reasons_differences']:,} "
                 f"of {result['all_reasons_compared']:,}")
    for cat in result["all_reasons_categories"]:
        lines.append(f"  {cat['channel']:7} A {cat['a']} / B {cat['b']}: {cat['count']:,}  e.g. "
                     + ", ".join(cat["examples"]))
    lines.append(f"channel-file values that differ: {result['value_differences']:,} of {result['values_compared']:,}")
    for cat in result["value_categories"]:
        lines.append(f"  {cat['channel']}.{cat['column']}: {cat['count']:,}  e.g. {cat['examples'][:3]}")
    if any(result["duplicate_decisions"].values()):
        lines.append(f"duplicate (customer_id, channel) rows: {result['duplicate_decisions']}")
    lines.append("EQUAL" if result["equal"] else "DIFFERENT")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--examples", type=int, default=5)
    args = parser.parse_args(argv)
    result = compare(args.run_a, args.run_b, args.examples)
    print(json.dumps(result, indent=2, default=str) if args.json else render(result))
    return 0 if result["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
