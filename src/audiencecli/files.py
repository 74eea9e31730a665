"""Writing files so that readers see the old ones or the new ones, never half of them, and a write
that fails (a full disk, a denied permission) says where and why (exit 5) and leaves nothing.

Every command that writes does it here or in `outputs` (the run directory): the files are made
under a hidden temporary name on the same filesystem, then renamed into place.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterator

from . import interrupts
from .errors import OutputError, Problem

PRIVATE_MODE = 0o600
# Names of temporary files and folders start with this (hidden), then what they become and the pid
# of the process writing them, so that a later run knows which ones a killed process left.
TEMP_MARK = ".audience-tmp-"
NOTHING_WRITTEN = "nothing was written"


def write_private_file(path: Path, data: bytes) -> Path:
    """Write `data` owner-only (0600) to `path`, whole or not at all (see `write_file`)."""
    return write_file(path, data, mode=PRIVATE_MODE)


def write_file(path: Path, data: bytes, *, mode: int) -> Path:
    """Write `data` to a temporary file beside `path`, then rename it into place.

    Raises OutputError naming `path` and the cause when it cannot be written (its folder must
    exist); the temporary file is removed on any failure or interruption, and a previous file at
    `path` is left as it was.
    """
    with cannot_write(path):
        temp = path.parent / f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, mode)
            with interrupts.committing():
                os.replace(temp, path)
        except BaseException:
            with interrupts.holding(), suppress(OSError):
                os.unlink(temp)
            raise
    return path


@contextmanager
def new_files(folder: Path) -> Iterator[Path]:
    """Files written into the yielded hidden folder (inside `folder`, so on its filesystem) appear
    in `folder` together when the block ends, replacing files of the same names; if the block or
    a move fails, or a signal stops it, none of them does, the files they would have replaced are
    back, and the hidden folder (and `folder` itself, when this made it) is gone."""
    with cannot_write(folder), created_folder(folder):
        staging = folder / f"{TEMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            staging.mkdir(mode=0o700)
            yield staging
            _move_in(staging, folder)
        finally:
            with interrupts.holding():
                shutil.rmtree(staging, ignore_errors=True)


def _move_in(staging: Path, folder: Path) -> None:
    """Rename every file of `staging` into `folder`; on a failure, undo the ones already moved."""
    names = sorted(p.name for p in staging.iterdir())
    moved: list[tuple[str, bool]] = []
    with interrupts.committing():
        try:
            for name in names:
                replaced = (folder / name).exists()
                if replaced:
                    os.rename(folder / name, staging / f".previous-{name}")
                moved.append((name, replaced))
                os.rename(staging / name, folder / name)
        except BaseException:
            for name, replaced in reversed(moved):
                with suppress(OSError):
                    if (folder / name).exists() and not (staging / name).exists():
                        os.rename(folder / name, staging / name)
                    if replaced:
                        os.rename(staging / f".previous-{name}", folder / name)
            raise


@contextmanager
def created_folder(folder: Path) -> Iterator[None]:
    """Make `folder` (and its missing parents) for the block; on a failure, remove the ones this
    made, so that nothing is left of a write that did not happen."""
    made = []
    for parent in [folder, *folder.parents]:
        if parent.exists():
            break
        made.append(parent)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        yield
    except BaseException:
        with interrupts.holding():
            for parent in made:  # deepest first; one that holds something else is kept
                with suppress(OSError):
                    parent.rmdir()
        raise


@contextmanager
def cannot_write(path: Path, then: str = NOTHING_WRITTEN) -> Iterator[None]:
    """An OSError in the block (or a Polars or pyarrow error carrying one) becomes OutputError (exit
    5): `PATH: cannot be written: No space left on device; nothing was written`. An OutputError
    raised inside, naming a more precise path, goes through as it is."""
    try:
        yield
    except OutputError:
        raise
    except Exception as error:
        cause = write_failure(error)
        if cause is None:
            raise
        raise OutputError([Problem(str(path), f"cannot be written: {cause}; {then}")]) from error


def write_failure(error: BaseException) -> str | None:
    """The operating system's words for why a write failed (`No space left on device`), or None
    when the error is not one. Polars reports a failed write as `... (os error 28)`, pyarrow as
    `[errno 28] ...`, both sometimes inside an error of their own."""
    number = getattr(error, "errno", None) if isinstance(error, OSError) else None
    if number is None:
        found = re.search(r"os error (\d+)\)|\[errno (\d+)\]", str(error), re.IGNORECASE)
        if found:
            number = int(found.group(1) or found.group(2))
    if number:
        return os.strerror(number)
    if isinstance(error, OSError):
        return error.strerror or str(error) or error.__class__.__name__
    return None


def remove_leftovers(folder: Path, prefix: str) -> None:
    """Remove `folder`'s entries named `<prefix><pid>-...` whose process is gone: what a killed
    run (SIGKILL cannot be caught) left. Those of a process still running are its own."""
    for leftover in folder.glob(f"{_glob_escape(prefix)}*"):
        mark = re.fullmatch(r"(\d+)-[0-9a-f]{8}", leftover.name[len(prefix):])
        if mark is None:  # another target's, whose name starts as this one's does
            continue
        pid = int(mark.group(1))
        if pid != os.getpid() and _alive(pid):
            continue
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            with suppress(OSError):
                leftover.unlink()


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError as error:
        return error.errno != errno.ESRCH
    return True


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read a block at a time: an input or output file may be gigabytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
