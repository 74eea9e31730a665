#!/usr/bin/env python3
"""The I/O floor of a campaign: read every input completely, write as many rows as a build does.

    .venv/bin/python bench/floor.py CONFIG OUT_DIR

Reads the customers, consents, holdings, the contact history and every suppression list the config
names, completely,
with Polars (CSV as text, every column, the delimiter taken from the header line as the build
does; Parquet as stored), then writes five channel files of N rows each (N = customers), with
the columns of that channel's file taken from the customers as they are (social: email and phone
in place of the hashes) and a constant legal_basis, in the config's output format (Parquet with
the build's settings: zstd level 1, no statistics). No parsing,
no normalization, no rules: the time any tool needs just to move this data on this machine.
`audience build` writes the same 5 × N decisions, split between the channel files and
`exclusions`.
"""
from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path

import polars as pl

CHANNEL_COLUMNS = {
    "email": ("customer_id", "email", "first_name", "last_name", "language"),
    "sms": ("customer_id", "phone", "language"),
    "phone": ("customer_id", "phone", "first_name", "last_name", "company_name", "language"),
    "post": ("customer_id", "first_name", "last_name", "company_name", "street_address", "postal_code", "city",
             "country", "language"),
    "social": ("customer_id", "email", "phone"),
}


def read(path: Path) -> pl.DataFrame:
    if path.suffix.lower() == ".parquet":
        return pl.read_parquet(path)
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8", errors="replace")
    separator = max([",", ";", "\t"], key=header.count)
    return pl.read_csv(path, separator=separator, infer_schema=False, quote_char='"')


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    config_path, out = Path(argv[0]), Path(argv[1])
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    base = config_path.parent

    def path_of(entry) -> Path:
        return base / (entry["path"] if isinstance(entry, dict) else entry)

    started = time.perf_counter()
    inputs = config["inputs"]
    customers = read(path_of(inputs["customers"]))
    rows = {"customers": customers.height}
    others = [("consents", inputs["consents"])]
    for role in ("holdings", "contact_history"):
        if inputs.get(role):
            others.append((role, inputs[role]))
    others += [(entry["name"], entry["path"]) for entry in config.get("suppressions", [])]
    for name, entry in others:
        rows[name] = read(path_of(entry)).height  # read completely, then dropped
    customers.columns = [c.strip().lstrip("\ufeff").lower() for c in customers.columns]
    read_s = time.perf_counter() - started

    fmt = config.get("output", {}).get("format", "csv")
    channels = config["campaign"]["channels"]
    out.mkdir(parents=True, exist_ok=True)
    for channel in channels:
        table = customers.select(
            *[pl.col(c) if c in customers.columns else pl.lit(None, pl.String).alias(c) for c in CHANNEL_COLUMNS[channel]],
            pl.lit("legitimate_interest").alias("legal_basis"),
        )
        if fmt == "parquet":  # as the build writes Parquet: zstd level 1, no statistics
            table.write_parquet(out / f"{channel}.parquet", compression="zstd", compression_level=1, statistics=False)
        else:
            table.write_csv(out / f"{channel}.csv", line_terminator="\n", null_value="")
    total = time.perf_counter() - started
    print(f"floor: read {sum(rows.values()):,} rows in {read_s:.2f} s ({rows}); wrote {len(channels)} x "
          f"{customers.height:,} rows ({fmt}) in {total - read_s:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
