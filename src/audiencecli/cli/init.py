"""`audience init`: write a commented campaign config to start from."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app, err, reported_errors


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write campaign.toml into; created "
                                              "when missing.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing campaign.toml.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
) -> None:
    """Write a commented campaign.toml to start a campaign from.

    DIR/campaign.toml holds every config key, the optional ones commented out with their default.
    Its file names and dates are those of `audience sample`, so `audience sample DIR` followed by
    `audience init DIR --force` gives a campaign that builds as it is.
    """
    with reported_errors(debug):
        from ..init import write_init

        written = write_init(directory, force=force)
    err.print(f"wrote {written}", markup=False)
    err.print(f"next: edit it, then audience validate {written}", markup=False)
