"""Render a run's summary (terminal tables); computes nothing, only presents summary.json."""
from __future__ import annotations

from rich.table import Table


def summary_table(summary: dict) -> Table:
    """One table: a column per channel; candidates, sendable, each exclusion reason, each basis."""
    channels = summary["channels"]
    title = f"{summary['campaign']} · {summary['purpose']} · as of {summary['as_of']}"
    if summary.get("stale"):
        title += " · STALE"
    table = Table(title=title, title_justify="left")
    table.add_column("")
    for channel in channels:
        table.add_column(channel, justify="right")
    reasons = list(dict.fromkeys(r for c in channels.values() for r in c["excluded_by_reason"]))
    bases = list(dict.fromkeys(b for c in channels.values() for b in c["sendable_by_legal_basis"]))
    table.add_row("candidates", *[str(c["candidates"]) for c in channels.values()])
    table.add_row("[bold]sendable[/bold]", *[f"[bold]{c['sendable']}[/bold]" for c in channels.values()])
    for basis in bases:
        table.add_row(f"  {basis}", *[str(c["sendable_by_legal_basis"].get(basis, "")) for c in channels.values()])
    table.add_row("excluded", *[str(c["excluded"]) for c in channels.values()])
    for reason in reasons:
        table.add_row(f"  {reason}", *[str(c["excluded_by_reason"].get(reason, "")) for c in channels.values()])
    return table
