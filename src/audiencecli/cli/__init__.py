"""The `audience` command: parse, call the package, render.

The cli package is the only place that prints or exits; each module registers one command.
"""
from . import build, diff, explain, init, report, sample, validate  # noqa: F401  (each registers its command)
from ._app import app, main

# Help as plain text. Rich markup would read "[output]" in "overrides [output].dir" as a style tag
# and drop it, and Rich's option table gives every flag a type ("--quiet <bool>"), as if it took
# a value. Plain help keeps the brackets and shows a flag as a flag.
app.rich_markup_mode = None

__all__ = ["app", "main"]
