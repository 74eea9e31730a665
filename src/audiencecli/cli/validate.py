"""`audience validate`: check a campaign's config and inputs exactly as build would; write nothing."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..config import load_config
from ..validate import Validation, validate
from ._app import app, err, reported_errors, steps


@app.command("validate")
def validate_command(
    config: Annotated[Path, typer.Argument(help="The campaign config (TOML).")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="DATE or DATETIME; overrides [campaign].as_of.")] = None,
    allow_stale: Annotated[bool, typer.Option("--allow-stale", help="Treat stale lists as build --allow-stale "
                                              "would: a warning, not an error.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
) -> None:
    """Check the config and every input as build would; write nothing.

    Reads the config, every input and every suppression list that applies, and reports every
    problem and warning at once. Exits with the code build would: 0 when it would build, 2 config,
    3 data, 4 a missing or stale list.
    """
    with reported_errors(debug, nothing_written=False):
        cfg = load_config(config, as_of=as_of)
        with steps(not quiet) as step:
            result = validate(cfg, allow_stale=allow_stale, progress=step)
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        _render(result)
    raise typer.Exit(result.exit_code)


def _render(result: Validation) -> None:
    for problem in result.data_problems + result.list_problems:
        err.print(f"error: {problem}", markup=False)
    shown = len(result.data_problems) + len(result.list_problems)
    total = result.data_total + result.list_total
    if total > shown:
        err.print(f"... and {total - shown} more ({total} problems in total)", markup=False)
    for warning in result.warnings:
        err.print(f"warning: {warning}", markup=False)
    for note in result.notes:
        err.print(f"note: {note}", markup=False)
    if result.quality:
        table = Table(title="Contact data quality (customers)", title_justify="left")
        for column in ("field", "missing", "invalid", "valid"):
            table.add_column(column, justify="left" if column == "field" else "right")
        for name, counts in result.quality.items():
            table.add_row(name, str(counts["missing"]), str(counts["invalid"]), str(counts["valid"]))
        Console(highlight=False).print(table)
    verdict = "ok: build would run" if result.exit_code == 0 else f"build would fail (exit {result.exit_code})"
    err.print(f"{result.config.name}: {total} problem(s), {len(result.warnings)} warning(s); {verdict}",
              markup=False)
