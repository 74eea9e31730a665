"""Compare two finished runs: per channel, who entered, who left, and why (contract section 1).

Only the run directories are read, never the inputs, so runs built months apart (or from
different campaigns, or in different formats) can be compared. Only ids, codes and counts are
read out of the channel files: a diff never carries a name or a contact point.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .config import CHANNELS, FORMATS
from .datetimes import readable_time
from .errors import InputError, Problem, UsageError
from .files import cannot_write, created_folder, write_private_file

NOT_IN_RUN = "not in run"
CHANGE_COLUMNS = ["customer_id", "channel", "change", "reason_before", "reason_after",
                  "legal_basis_before", "legal_basis_after"]
MINUS = "\u2212"


@dataclass(frozen=True)
class Run:
    """What a diff needs from one run directory: its summary, sendable rows and exclusions."""

    path: Path
    format: str
    summary: dict
    channels: tuple[str, ...]
    sendable: pl.DataFrame    # customer_id, channel, legal_basis
    exclusions: pl.DataFrame  # customer_id, channel, reason_code

    def facts(self) -> dict:
        return {"path": str(self.path), "campaign": self.summary.get("campaign"),
                "as_of": self.summary.get("as_of"), "stale": bool(self.summary.get("stale")),
                "format": self.format}


@dataclass(frozen=True)
class RunDiff:
    """The structured result (`--json`) and the per-customer changes (`--out`)."""

    result: dict
    changes: pl.DataFrame

    @property
    def notes(self) -> list[str]:
        return self.result["notes"]


def read_run(path: Path) -> Run:
    """Read a run directory, CSV or Parquet; anything that is not one is a usage error."""
    if not path.is_dir():
        raise UsageError([Problem(str(path), "not a run directory (no such folder)")])
    summary_path = path / "summary.json"
    if not summary_path.is_file():
        raise UsageError([Problem(str(path), "not a run directory (no summary.json)")])
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError([Problem(str(summary_path), f"cannot be read as a run summary "
                                  f"({error.__class__.__name__})")]) from None
    if not isinstance(summary, dict) or not isinstance(summary.get("channels"), dict):
        raise UsageError([Problem(str(summary_path), "not a run summary (no channels)")])
    unknown = [c for c in summary["channels"] if c not in CHANNELS]
    if unknown:
        raise UsageError([Problem(str(summary_path), f"unknown channel(s) {', '.join(map(str, unknown))}; "
                                  f"expected some of {', '.join(CHANNELS)}")])
    channels = tuple(c for c in CHANNELS if c in summary["channels"])
    fmt = _run_format(path)
    sendable = [
        _read_table(path / f"{channel}.{fmt}", ["customer_id", "legal_basis"])
        .select("customer_id", pl.lit(channel).alias("channel"), "legal_basis")
        for channel in channels
    ]
    exclusions = _read_table(path / f"exclusions.{fmt}", ["customer_id", "channel", "reason_code"])
    empty = pl.DataFrame(schema={"customer_id": pl.String, "channel": pl.String, "legal_basis": pl.String})
    return Run(path=path, format=fmt, summary=summary, channels=channels,
               sendable=pl.concat([empty, *sendable]), exclusions=exclusions)


def diff_runs(path_a: Path, path_b: Path) -> RunDiff:
    """Compare run A (before) with run B (after), channel by channel, by customer_id."""
    a, b = read_run(path_a), read_run(path_b)
    common = [c for c in CHANNELS if c in a.channels and c in b.channels]
    changes, counts = _compare(a, b, common)
    channels: dict[str, dict] = {}
    for channel in CHANNELS:
        if channel in common:
            channels[channel] = _channel_result(channel, changes, counts)
        elif channel in a.channels:
            channels[channel] = {"in": "run_a", "sendable_a": _sendable_count(a, channel)}
        elif channel in b.channels:
            channels[channel] = {"in": "run_b", "sendable_b": _sendable_count(b, channel)}
    notes = []
    campaign_a, campaign_b = a.summary.get("campaign"), b.summary.get("campaign")
    if campaign_a != campaign_b:
        notes.append(f"the runs are of different campaigns (A: {campaign_a}, B: {campaign_b}); "
                     "customers are matched by customer_id")
    for label, run, other in (("A", a, b), ("B", b, a)):
        only = [c for c in run.channels if c not in other.channels]
        if only:
            notes.append(f"channel(s) {', '.join(only)} only in run {label}; not compared")
    result = {"run_a": a.facts(), "run_b": b.facts(), "same_campaign": campaign_a == campaign_b,
              "notes": notes, "channels": channels}
    return RunDiff(result=result, changes=changes)


def write_changes(changes: pl.DataFrame, path: Path) -> Path:
    """Write the per-customer changes as CSV, owner-only, atomically (temp file beside + rename);
    a write that fails raises OutputError (exit 5) naming `path` and the cause."""
    if path.is_dir():
        raise UsageError([Problem(str(path), "is a folder; --out takes a file name")])
    data = changes.write_csv(include_header=True, line_terminator="\n", null_value="").encode("utf-8")
    with cannot_write(path.parent), created_folder(path.parent):
        return write_private_file(path, data)


def diff_lines(result: dict) -> list[str]:
    """One grep-able line per channel: `email: +120 −412 (stayed 5012); left: …; entered: …`."""
    lines = []
    for channel, c in result["channels"].items():
        if c["in"] != "both":
            side = "A" if c["in"] == "run_a" else "B"
            lines.append(f"{channel}: only in run {side} ({c['sendable_' + side.lower()]} sendable)")
            continue
        line = f"{channel}: +{c['entered']} {MINUS}{c['left']} (stayed {c['stayed']})"
        if c["left_by_reason"]:
            line += "; left: " + _counts(c["left_by_reason"])
        if c["entered_by_reason"]:
            line += "; entered: " + _counts(c["entered_by_reason"])
        if c["legal_basis_changes"]:
            line += "; legal basis: " + ", ".join(f"{x['count']} {x['from']}→{x['to']}"
                                                  for x in c["legal_basis_changes"])
        lines.append(line)
    return lines


def diff_table(result: dict) -> Group:
    """The two runs' names above a table with a column per channel: sendable before and after,
    stayed, entered and left with reasons. The names stand above the table rather than in its
    title, so that they may be as wide as the terminal, not only as the table."""
    channels = result["channels"]
    a, b = result["run_a"], result["run_b"]
    title = Text(f"A: {_run_title(a)}\nB: {_run_title(b)}", style="italic")
    table = Table()
    table.add_column("")
    for channel in channels:
        table.add_column(channel, justify="right")
    both = {ch: c for ch, c in channels.items() if c["in"] == "both"}

    def row(label: str, value) -> None:
        """One row; `value(c)` gives a compared channel's cell, the others stay empty."""
        table.add_row(label, *[str(value(c)) if ch in both else "" for ch, c in channels.items()])

    def side(key: str) -> list[str]:
        return [str(c[key]) if key in c else "—" for c in channels.values()]

    table.add_row("sendable in A", *side("sendable_a"))
    table.add_row("sendable in B", *side("sendable_b"))
    row("stayed", lambda c: c["stayed"])
    row("[bold]entered[/bold]", lambda c: f"[bold]{c['entered']}[/bold]")
    for reason in dict.fromkeys(r for c in both.values() for r in c["entered_by_reason"]):
        row(f"  was {escape(reason)}", lambda c, r=reason: c["entered_by_reason"].get(r, ""))
    row("[bold]left[/bold]", lambda c: f"[bold]{c['left']}[/bold]")
    for reason in dict.fromkeys(r for c in both.values() for r in c["left_by_reason"]):
        row(f"  now {escape(reason)}", lambda c, r=reason: c["left_by_reason"].get(r, ""))

    def basis_counts(c: dict) -> dict:
        return {(x["from"], x["to"]): x["count"] for x in c["legal_basis_changes"]}

    pairs = list(dict.fromkeys(pair for c in both.values() for pair in basis_counts(c)))
    if pairs:
        row("legal basis changed", lambda c: "")
    for before, after in pairs:
        row(f"  {escape(before)} → {escape(after)}", lambda c, p=(before, after): basis_counts(c).get(p, ""))
    return Group(title, table)


def _run_format(path: Path) -> str:
    """The run's table format, from which exclusions file it holds (the manifest decides a tie)."""
    present = [fmt for fmt in FORMATS if (path / f"exclusions.{fmt}").is_file()]
    if not present:
        raise UsageError([Problem(str(path), "not a run directory (no exclusions.csv or exclusions.parquet)")])
    if len(present) == 1:
        return present[0]
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        declared = manifest["config"]["output"]["format"]
    except (OSError, ValueError, KeyError, TypeError):
        declared = None
    if declared not in present:
        raise UsageError([Problem(str(path), "holds both exclusions.csv and exclusions.parquet and no "
                                  "manifest.json that says which is the run's")])
    return declared


def _read_table(path: Path, columns: list[str]) -> pl.DataFrame:
    """Only the named columns, as strings; ids stay strings (`007` is not 7)."""
    if not path.is_file():
        raise UsageError([Problem(str(path.parent), f"not a complete run directory (no {path.name})")])
    try:
        frame = pl.scan_parquet(path) if path.suffix == ".parquet" else pl.scan_csv(path, infer_schema=False)
        found = frame.collect_schema().names()
        missing = [c for c in columns if c not in found]
        if missing:
            raise InputError([Problem(str(path), f"missing column(s) {', '.join(missing)}; found {', '.join(found)}")])
        return frame.select(pl.col(c).cast(pl.String) for c in columns).collect()
    except (OSError, pl.exceptions.PolarsError) as error:
        raise InputError([Problem(str(path), f"cannot be read ({error.__class__.__name__})")]) from None


def _compare(a: Run, b: Run, channels: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-customer changes (sorted as the exclusions file) and per-channel counts, in one join."""
    key = ["customer_id", "channel"]
    before = a.sendable.filter(pl.col("channel").is_in(channels)) \
        .select(*key, pl.col("legal_basis").alias("legal_basis_before"), pl.lit(True).alias("in_a"))
    after = b.sendable.filter(pl.col("channel").is_in(channels)) \
        .select(*key, pl.col("legal_basis").alias("legal_basis_after"), pl.lit(True).alias("in_b"))
    in_a, in_b = pl.col("in_a").fill_null(False), pl.col("in_b").fill_null(False)
    joined = before.join(after, on=key, how="full", coalesce=True).with_columns(
        change=pl.when(in_a & ~in_b).then(pl.lit("left"))
        .when(~in_a & in_b).then(pl.lit("entered"))
        .when(pl.col("legal_basis_before").ne_missing(pl.col("legal_basis_after"))).then(pl.lit("basis_changed")),
        stayed=in_a & in_b,
    )
    counts = joined.group_by("channel").agg(
        sendable_a=in_a.sum(), sendable_b=in_b.sum(), stayed=pl.col("stayed").sum(),
        entered=(pl.col("change") == "entered").sum(), left=(pl.col("change") == "left").sum(),
    )
    reasons_before = a.exclusions.unique(key, keep="first").select(*key, pl.col("reason_code").alias("excluded_a"))
    reasons_after = b.exclusions.unique(key, keep="first").select(*key, pl.col("reason_code").alias("excluded_b"))
    changes = (
        joined.filter(pl.col("change").is_not_null())
        .join(reasons_before, on=key, how="left")
        .join(reasons_after, on=key, how="left")
        .with_columns(
            reason_before=pl.when(pl.col("change") == "entered").then(pl.col("excluded_a").fill_null(NOT_IN_RUN)),
            reason_after=pl.when(pl.col("change") == "left").then(pl.col("excluded_b").fill_null(NOT_IN_RUN)),
        )
        .select(CHANGE_COLUMNS)
        .sort("customer_id", pl.col("channel").cast(pl.Enum(CHANNELS)))
    )
    return changes, counts


def _channel_result(channel: str, changes: pl.DataFrame, counts: pl.DataFrame) -> dict:
    row = counts.filter(pl.col("channel") == channel)
    totals = {k: int(row[k][0]) if row.height else 0 for k in ("sendable_a", "sendable_b", "stayed", "entered", "left")}
    mine = changes.filter(pl.col("channel") == channel)
    bases = (
        mine.filter(pl.col("change") == "basis_changed")
        .group_by("legal_basis_before", "legal_basis_after").len()
        .sort(["len", "legal_basis_before", "legal_basis_after"], descending=[True, False, False])
    )
    return {
        "in": "both", **totals,
        "left_by_reason": _by_reason(mine.filter(pl.col("change") == "left"), "reason_after"),
        "entered_by_reason": _by_reason(mine.filter(pl.col("change") == "entered"), "reason_before"),
        "legal_basis_changes": [{"from": f, "to": t, "count": n} for f, t, n in bases.iter_rows()],
    }


def _by_reason(frame: pl.DataFrame, column: str) -> dict[str, int]:
    """Counts per reason, the largest first and ties by code, so equal runs give equal output."""
    counted = frame.group_by(column).len().sort(["len", column], descending=[True, False])
    return dict(counted.iter_rows())


def _sendable_count(run: Run, channel: str) -> int:
    return run.sendable.filter(pl.col("channel") == channel).height


def _counts(by_reason: dict[str, int]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in by_reason.items())


def _run_title(facts: dict) -> str:
    return f"{facts['campaign']} as of {readable_time(str(facts['as_of']))}" + (" (STALE)" if facts["stale"] else "")
