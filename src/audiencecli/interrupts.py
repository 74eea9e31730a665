"""Stopping a command by a signal: at once and cleanly, or not at all once its output is in place.

With `handled()` (the CLI installs it for the whole process, before importing the commands),
SIGINT, SIGTERM and SIGHUP raise `Interrupted` in the main thread wherever it is (reading,
deciding or writing; Python runs a handler between two bytecodes, so a long Polars call finishes
first), and the code unwinds: temporary files are removed, locks released, and the CLI says
`interrupted; nothing was written` and exits 128 + the signal's number (130, 143, 129).

Code that writes marks the two moments a signal must not cut:
- `holding()`: steps that must finish once begun (removing a temporary folder); a signal that
  comes meanwhile is raised when they end;
- `committing()`: the step that puts the output in place (a rename). A signal that comes
  meanwhile is dropped if the step succeeds, and every signal after it is ignored: once the new
  output is in place the command finishes as if none had come (exit 0), so an exit code of 130 or
  143 always means that nothing was written.
`settle()` says the same of a command whose work is done (the CLI calls it when a command's body
ends): a signal while it prints its summary or exits is ignored. After the first signal, later
ones are ignored while the command unwinds, so the clean-up is not cut short; SIGKILL still
stops it at once (the next build removes what it left).

The state is the process's: handlers run in the main thread only. Without `handled()` (a Python
caller that did not ask for it) the marks change nothing and Python's own handling applies.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from .errors import Interrupted

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@dataclass
class _State:
    installed: bool = False
    holding: int = 0  # how many holding() or committing() blocks are open
    pending: int | None = None  # a signal that came while holding
    stopping: int | None = None  # the signal being acted on
    settled: bool = False  # the output is in place, or the work done: signals are ignored from now on


_state = _State()


def _on_signal(signum: int, _frame) -> None:
    if _state.settled or _state.stopping is not None:
        return
    if _state.holding:
        _state.pending = _state.pending or signum
        return
    _state.stopping = signum
    raise Interrupted(signum)


def install() -> dict:
    """Handle the signals from now on, for the rest of the process (the CLI's `main`); returns the
    previous handlers. Only the main thread can; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {sig: signal.signal(sig, _on_signal) for sig in SIGNALS}
    _state.__init__()
    _state.installed = True
    return previous


@contextmanager
def handled() -> Iterator[None]:
    """Handle the signals during the block, then restore the previous handlers (a command run in
    a test's process, or a Python caller). Nothing changes when they are already handled."""
    if _state.installed:
        yield
        return
    previous = install()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _state.installed = False


def stopped() -> bool:
    """A signal is being acted on: the command is unwinding and will exit 128 + its number."""
    return _state.stopping is not None


@contextmanager
def holding() -> Iterator[None]:
    """Steps that must finish once begun; a signal meanwhile is raised when they end (if they
    fail, their error is the one reported and the signal only stops the unwinding being cut)."""
    _state.holding += 1
    try:
        yield
    except BaseException:
        _state.holding -= 1
        _drop_pending()
        raise
    _state.holding -= 1
    if not _state.holding and _state.pending is not None and not _state.settled:
        _state.stopping, _state.pending = _state.pending, None
        raise Interrupted(_state.stopping)


@contextmanager
def committing() -> Iterator[None]:
    """The step that puts the output in place: a signal meanwhile is dropped when it succeeds, and
    every signal after it is ignored (as when it fails: see `holding`)."""
    _state.holding += 1
    try:
        yield
    except BaseException:
        _state.holding -= 1
        _drop_pending()
        raise
    _state.settled = True  # before holding ends, so that no signal finds the output in place and acts
    _state.pending = None
    _state.holding -= 1


def settle() -> None:
    """The command's work is done (its output, if any, in place): signals are ignored from now on,
    so one that comes while it prints or exits does not turn a finished command into a failed one."""
    _state.settled = True
    _state.pending = None


def _drop_pending() -> None:
    """A signal that came during a failed step: the failure stops the command; later signals
    are ignored while it unwinds."""
    if _state.pending is not None:
        _state.stopping, _state.pending = _state.pending, None
