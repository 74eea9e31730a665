"""The Typer app and what every command shares: the stderr console, progress, error handling."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated, Callable, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .. import __version__, interrupts
from ..errors import AudienceError, Interrupted

# Help as plain text (rich_markup_mode=None). Rich markup would read "[output]" in "overrides
# [output].dir" as a style tag and drop it, and Rich's option table gives every flag a type
# ("--quiet <bool>"), as if it took a value. Plain help keeps the brackets and shows a flag as a flag.
app = typer.Typer(
    rich_markup_mode=None,
    help="Decide who may be contacted, on which channel, for a campaign — and prove why.",
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
INTERRUPTED = "interrupted; nothing was written"
# Messages go to stderr, one line per problem, never wrapped (cron logs are read by grep).
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
def steps(enabled: bool) -> Iterator[Callable[[str], None]]:
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


@contextmanager
def reported_errors(debug: bool, *, nothing_written: bool = True) -> Iterator[None]:
    """The one boundary where errors become a message and the contract's exit code; no tracebacks.
    A signal (SIGINT, SIGTERM, SIGHUP) ends the command with `interrupted; nothing was written`
    and 128 + its number, unless its output is already in place or its work done (`interrupts`)."""
    suffix = "; nothing was written" if nothing_written else ""
    with interrupts.handled():
        try:
            yield
            interrupts.settle()
        except AudienceError as error:
            err.print(error.render(), markup=False)
            if debug:
                raise
            raise typer.Exit(error.exit_code) from None
        except Interrupted as stop:
            err.print(INTERRUPTED, markup=False)
            raise typer.Exit(stop.exit_code) from None
        except KeyboardInterrupt:  # Ctrl-C outside the main thread's handlers
            err.print(INTERRUPTED, markup=False)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as error:  # noqa: BLE001 - unknown failures become one line, never locals
            if debug:
                raise
            err.print(f"internal error ({error.__class__.__name__}){suffix}. "
                      "Run again with --debug for a traceback.", markup=False)
            raise typer.Exit(1) from None
