"""`audience build`: evaluate every customer on every channel and write the run directory."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..config import load_config
from ..datetimes import HELSINKI
from ..errors import shown
from ..outputs import run_lock, write_run
from ..pipeline import build as run_build
from ..report import read_run, run_file_lines, summary_table
from ._app import app, err, reported_errors, steps


@app.command()
def build(
    config: Annotated[Path, typer.Argument(help="The campaign config (TOML).")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Run directory; overrides [output].dir. "
                                                "Relative to the working directory.")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="DATE or DATETIME; overrides [campaign].as_of. "
                                                 "A date means the end of that day, Europe/Helsinki.")] = None,
    output_format: Annotated[Optional[str], typer.Option("--format", help="csv or parquet.")] = None,
    allow_stale: Annotated[bool, typer.Option("--allow-stale", help="Build even when a suppression list is "
                                              "older than its max_age_days; the run is marked stale.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display and no table.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout instead of "
                                          "the table.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
) -> None:
    """Evaluate every customer on every channel of the campaign and write the run directory."""
    started_at = dt.datetime.now(HELSINKI)
    with reported_errors(debug):
        cfg = load_config(config, out=out, as_of=as_of, output_format=output_format)
        for skipped in () if quiet else cfg.skipped_lists():
            err.print(f"note: list {shown(skipped.name)} does not apply to this campaign (its channels and purposes "
                      "do not meet the campaign's); not read", markup=False)
        with run_lock(cfg.output_dir), steps(not quiet) as step:
            result = run_build(cfg, allow_stale=allow_stale, progress=step)
            step("writing the run directory")
            target = write_run(result, command=["audience", *sys.argv[1:]], started_at=started_at)

    summary = result.summary
    for stale in result.inputs.stale_lists:
        err.print(f"warning: list {shown(stale.name)} is stale (list_date {stale.list_date}, "
                  f"{stale.age_days(cfg.as_of_date)} days old, max {stale.max_age_days}); "
                  "applied as it is because of --allow-stale; the run is marked stale", markup=False)
    for warning in summary["warnings"]:
        err.print(f"warning: {warning}", markup=False)
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    elif not quiet:
        Console(highlight=False).print(summary_table(summary))
    if not quiet:
        err.print(f"wrote {target}", markup=False)
        for line in run_file_lines(read_run(target)):
            err.print(line, markup=False)
        err.print(f"next: audience report {target} --html {target}.html", markup=False)
