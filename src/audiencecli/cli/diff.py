"""`audience diff`: who entered and who left each channel between two runs, and why."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..diff import diff_lines, diff_runs, diff_table, write_changes
from ._app import app, err, reported_errors


@app.command()
def diff(
    run_a: Annotated[Path, typer.Argument(metavar="RUN_A", help="The earlier run directory (before).")],
    run_b: Annotated[Path, typer.Argument(metavar="RUN_B", help="The later run directory (after).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the structured result as JSON on stdout "
                                          "instead of the lines and the table.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="Write the per-customer changes as CSV "
                                                "(owner-only: it holds customer ids).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
) -> None:
    """Who entered and who left each channel between two runs, and why.

    Per channel: who entered, who left, and the reason each one left or was excluded before.
    """
    with reported_errors(debug):
        compared = diff_runs(run_a, run_b)
        if out is not None:
            write_changes(compared.changes, out)

    for note in compared.notes:
        err.print(f"note: {note}", markup=False)
    if as_json:
        print(json.dumps(compared.result, ensure_ascii=False, indent=2))
    else:
        for line in diff_lines(compared.result):
            print(line)
        Console(highlight=False).print(diff_table(compared.result))
    if out is not None:
        err.print(f"wrote {out} ({compared.changes.height} changes)", markup=False)
