"""The Polars engine our plans run on.

Polars 2 runs `collect()` on its streaming engine by default. On this workload's plans (joins
of one row per customer with `maintain_order`, filters, per-rule partitions) the in-memory
engine took a fraction of the CPU (bench/RESULTS.md), and every plan here fits in memory by
design: the big inputs are narrowed to small integer columns before they are joined.
"""
ENGINE = "in-memory"
