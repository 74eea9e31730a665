"""The `audience` command: parse, call the package, render.

The cli package is the only place that prints or exits; each module registers one command.
"""
from . import build, diff, explain, init, report, sample, validate  # noqa: F401  (each registers its command)
from ._app import app, main

__all__ = ["app", "main"]
