"""The `audience` command: parse, call the package, render.

The cli package is the only place that prints or exits; each module registers one command.
Importing this package is light: `main` handles the signals before it imports the commands (and
Polars with them), so that a SIGTERM at any moment, even while starting, stops cleanly.
"""
from __future__ import annotations

import os
import sys
from contextlib import suppress

__all__ = ["app", "main"]


def main() -> None:
    """The `audience` executable. A signal ends it with `interrupted; nothing was written` and
    128 + its number; it does not wait for the threads still reading (they write nothing)."""
    from .. import interrupts
    from ..errors import Interrupted

    interrupts.install()  # for the whole process: never restored, so no moment is left uncovered
    try:
        _commands()()
    except Interrupted as stop:  # while starting or parsing: a command's own are its to report
        code = stop.exit_code
        with suppress(OSError, ValueError):
            print("interrupted; nothing was written", file=sys.stderr)
    except SystemExit as finished:
        if not interrupts.stopped():
            interrupts.settle()  # a usage error, --help, --version: finished
            raise
        code = finished.code if isinstance(finished.code, int) else 1
    else:
        return
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _commands():
    from . import build, diff, explain, init, report, sample, validate  # noqa: F401  (each registers its command)
    from ._app import app

    return app


def __getattr__(name: str):
    if name == "app":
        return _commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
