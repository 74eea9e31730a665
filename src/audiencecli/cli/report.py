"""`audience report`: a finished run's summary as tables, as JSON, or as one self-contained HTML page."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..report import read_run, report_tables, write_html
from ._app import app, err, reported_errors


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run directory written by `audience build`.")],
    html: Annotated[Optional[Path], typer.Option("--html", metavar="FILE", help="Also write one self-contained "
                                                 "HTML page (a waterfall per channel) to FILE.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json on stdout instead of the "
                                          "tables (the same as `audience build --json`).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
) -> None:
    """Show a finished run: its counts, reasons, inputs and files.

    Per channel: the counts, each exclusion reason and each legal basis; then the run's inputs,
    files and warnings. --html writes the same as one self-contained HTML page.
    """
    with reported_errors(debug, nothing_written=html is not None):
        run = read_run(run_dir)
        if html is not None:
            write_html(run, html)
    if as_json:
        print(json.dumps(run.summary, ensure_ascii=False, indent=2))
    else:
        Console(highlight=False).print(report_tables(run))
    if html is not None:
        err.print(f"wrote {html}", markup=False)
