"""`audience sample`: write a synthetic data set and a campaign config to try the tool on."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app, err, reported_errors, steps


@app.command()
def sample(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write into; created when missing.")],
    customers: Annotated[int, typer.Option("--customers", help="Number of customers (at least 1).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed, size and format give "
                                      "byte-identical files.")] = 1,
    output_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty; files of the "
                                        "same names are replaced.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display and no summary.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
) -> None:
    """Write a synthetic data set and a campaign to try the tool on.

    A realistic synthetic data set and a marketing campaign config, written into DIR: customers,
    consents, holdings, contact history, internal, robinson and telemarketing lists, and
    campaign.toml, which `audience build` runs as it is.
    """
    with reported_errors(debug), steps(not quiet) as step:
        from ..sample import write_sample  # only `sample` pays for importing the generator (~50 ms)

        written = write_sample(directory, customers, seed, output_format, force=force, progress=step)
    if not quiet:
        counts = ", ".join(f"{name} {rows:,}" for name, rows in written.rows.items())
        err.print(f"wrote {written.dir}: {counts} rows, and {written.config.name}", markup=False)
        err.print(f"next: audience build {written.config}", markup=False)
