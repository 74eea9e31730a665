"""`audience explain`: why customers are, or are not, on each channel's list."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.tree import Tree

from ..config import load_config
from ..datetimes import readable_time
from ..explain import FAIL, NOT_APPLICABLE, NOT_REACHED, PASS, Explanation, explain
from ..focus import focused_inputs
from ._app import app, reported_errors, steps

MARKS = {PASS: "[green]✓[/green]", FAIL: "[red]✗[/red]", NOT_APPLICABLE: "[dim]–[/dim]", NOT_REACHED: "[dim]·[/dim]"}


@app.command("explain")
def explain_command(
    config: Annotated[Path, typer.Argument(help="The campaign config (TOML).")],
    customer_ids: Annotated[list[str], typer.Argument(help="The customer(s) to explain: one or more ids.",
                                                      metavar="CUSTOMER_ID")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="DATE or DATETIME; overrides [campaign].as_of.")] = None,
    allow_stale: Annotated[bool, typer.Option("--allow-stale", help="Use stale lists as they are.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
) -> None:
    """Show why customers are, or are not, on each channel's list.

    Per channel: every rule with pass/fail, the evidence it used, the outcome and the legal basis.
    Only the rows the customers' decisions depend on are read (their own, the list rows that can
    match their keys, and those of the customers who share a contact point with them)."""
    ids = list(dict.fromkeys(customer_ids))  # each once, in the order given
    with reported_errors(debug, nothing_written=False):
        cfg = load_config(config, as_of=as_of)
        with steps(not quiet) as step:
            inputs = focused_inputs(cfg, ids, allow_stale=allow_stale, progress=step)
            step("explaining")
            explained = explain(cfg, inputs, ids)
    explanations = [explained[customer_id] for customer_id in ids]
    if as_json:  # one customer: its object; several: an array of them, in the order given
        data = explanations[0].as_dict() if len(ids) == 1 else [e.as_dict() for e in explanations]
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        console = Console(highlight=False)
        for explanation in explanations:
            console.print(explanation_tree(explanation))


def explanation_tree(explanation: Explanation) -> Tree:
    tree = Tree(f"[bold]{_escape(explanation.customer_id)}[/bold] · {_escape(explanation.campaign)} · "
                f"{explanation.purpose} · as of {readable_time(str(explanation.as_of))}")
    for channel in explanation.channels:
        if channel.outcome == "sendable":
            label = f"[bold]{channel.channel}[/bold]: [green]sendable[/green] ({channel.legal_basis})"
        else:
            label = f"[bold]{channel.channel}[/bold]: [red]excluded[/red] — {channel.reason_code}"
        branch = tree.add(label)
        for check in channel.checks:
            text = f"{MARKS[check.status]} {check.number} {check.code}"
            if check.status in (NOT_APPLICABLE, NOT_REACHED):
                text += f" [dim]({check.status})[/dim]"
            if check.detail and check.status != NOT_APPLICABLE:
                text += f": {_escape(check.detail)}"
            branch.add(text)
        evidence = branch.add("[dim]evidence[/dim]")
        for key, value in channel.evidence.items():
            if key == "pressure":
                for cap in value:
                    evidence.add(_escape(f"cap {cap['cap']}: {cap['count']} contact(s) within {cap['window_days']} "
                                         f"days, max_contacts {cap['max_contacts']}, latest sent_at "
                                         f"{cap['latest_sent_at'] or 'none'}"))
                continue
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items() if v is not None)
            if value is True:
                value = "yes"
            if value not in (None, "", False):
                evidence.add(f"{key}: {_escape(str(value))}")
    return tree


def _escape(text: str) -> str:
    return text.replace("[", "\\[")
