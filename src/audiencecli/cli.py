"""The `audience` command: parse, call the package, render. The only module that prints or exits."""
from __future__ import annotations

import datetime as dt
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .config import load_config
from .errors import AudienceError
from .outputs import write_run
from .pipeline import build as run_build

app = typer.Typer(
    help="Decide who may be contacted, on which channel, for a campaign — and prove why.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        print(f"audiencecli {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Show the version and exit.")] = None,
) -> None:
    """audiencecli: consent-aware audience building for Finnish financial companies."""


@contextmanager
def _steps(enabled: bool) -> Iterator:
    """A progress display on stderr for the long steps; silent when off or not a terminal."""
    if not enabled or not err.is_terminal:
        yield lambda _step: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        current: list = []

        def step(description: str) -> None:
            if current:
                progress.update(current[-1], completed=1, total=1)
            current.append(progress.add_task(description, total=None))

        yield step


def _fail(error: AudienceError, debug: bool) -> None:
    err.print(error.render(), markup=False)
    if debug:
        raise error
    raise typer.Exit(error.exit_code)


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
    started_at = dt.datetime.now(dt.timezone.utc).astimezone()
    try:
        cfg = load_config(config, out=out, as_of=as_of, output_format=output_format)
        for skipped in () if quiet else cfg.skipped_lists():
            err.print(f"note: list {skipped.name} does not apply to this campaign (its channels and purposes "
                      "do not meet the campaign's); not read", markup=False)
        with _steps(not quiet) as step:
            result = run_build(cfg, allow_stale=allow_stale, progress=step)
            step("writing the run directory")
            target = write_run(result, command=["audience", *sys.argv[1:]], started_at=started_at)
    except AudienceError as error:
        _fail(error, debug)
        return
    except KeyboardInterrupt:
        err.print("interrupted; nothing was written")
        raise typer.Exit(130) from None
    except Exception as error:  # noqa: BLE001 - the one boundary where unknown failures become a message
        if debug:
            raise
        err.print(f"internal error ({error.__class__.__name__}); nothing was written. "
                  "Run again with --debug for a traceback.", markup=False)
        raise typer.Exit(1) from None

    summary = result.summary
    for stale in result.inputs.stale_lists:
        err.print(f"warning: list {stale.name} is stale (list_date {stale.list_date}, "
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


def main() -> None:
    app()
