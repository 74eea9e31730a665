"""Write the run directory atomically and deterministically (contract sections 7 and 8).

The run is written into a hidden temporary folder beside the target, every file owner-only,
and then swapped into place with one rename, so readers see the previous run or the new one,
never a half-written one. A failure or a signal removes the temporary folder; one left by a
killed run (SIGKILL cannot be caught) is removed by the next build of the same target. A write
that fails says which file and why (`No space left on device`, exit 5).

`run_lock` keeps two builds from writing the same run directory at once: `audience build` holds
it from after reading its config until the new run is in place.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import errno
import fcntl
import itertools
import json
import os
import shutil
import sys
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

import polars as pl

from . import __version__, interrupts, schedule
from .datetimes import HELSINKI
from .errors import OutputError, Problem, UsageError
from .files import NOTHING_WRITTEN, PRIVATE_MODE, TEMP_MARK, cannot_write, file_digest, remove_leftovers
from .pipeline import BuildResult

FILE_MODE = PRIVATE_MODE
DIR_MODE = 0o700
# zstd level 1: much faster than Polars' default level on the social file (SHA-256 hex, which does
# not compress), and every file about as small (bench/RESULTS.md).
ZSTD_LEVEL = 1
OLD_MARK = ".audience-old-"


@contextmanager
def run_lock(run_dir: Path) -> Iterator[Path]:
    """Hold the lock of a run directory for the block, or raise OutputError (exit 5) at once,
    naming the directory and the process holding it.

    The lock is the operating system's (`flock`) on the file `.<name>.lock` beside the directory
    (its parent folder is created when missing); the file holds the holder's process id, for the
    message. The system releases the lock however the process ends, even by SIGKILL. The file is
    removed when the block ends (and a parent folder this made, if it stayed empty); one left by
    a killed process locks nothing and is taken over. For a Python caller:

        with run_lock(config.output_dir):
            write_run(build(config), command=[...], started_at=...)
    """
    lock_file = lock_path(run_dir)
    made = [folder for folder in lock_file.parents if not folder.exists()]
    fd = _take_lock(lock_file, run_dir)
    try:
        mark = f"{os.getpid()}\n".encode()
        with suppress(OSError):  # only the message of a second build needs it: a full disk is met later
            os.pwrite(fd, mark, 0)
            os.ftruncate(fd, len(mark))
        yield lock_file
    finally:
        with suppress(OSError):
            os.unlink(lock_file)  # while it is held: see _take_lock
        os.close(fd)  # releases the lock
        for folder in made:  # deepest first; one that holds the run (or anything else) stays
            with suppress(OSError):
                folder.rmdir()


def _take_lock(lock_file: Path, run_dir: Path) -> int:
    """Open the lock file and lock it; its descriptor. The holder removes the file as it lets go,
    so a lock taken on a file that is no longer the one at its path is let go and taken again."""
    while True:
        with cannot_write(lock_file):
            lock_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise OutputError([Problem(str(run_dir), f"another build ({holder}) is writing this run "
                                       f"directory (it holds {lock_file.name}); {NOTHING_WRITTEN}, "
                                       "try again when it has finished")]) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            held, current = os.fstat(fd), os.stat(lock_file)
            if (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def lock_path(run_dir: Path) -> Path:
    """The lock file of a run directory: `.<name>.lock` beside it."""
    run_dir = Path(os.path.abspath(run_dir))
    return run_dir.parent / f".{run_dir.name}.lock"


def _holder(fd: int) -> str:
    """`process 12345` from the lock file, as its holder wrote it."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"process {text}" if text.isdigit() else "a process that has not yet written its id"


def write_run(result: BuildResult, *, command: list[str], started_at: dt.datetime) -> Path:
    """Write the run directory; returns its path. Nothing is left behind on failure or a signal;
    a write that fails raises OutputError naming the file and the cause."""
    config = result.config
    target = config.output_dir
    then = NOTHING_WRITTEN
    if (target / "manifest.json").is_file():
        then += f"; the previous run in {target} is untouched"
    temp = target.parent / f"{TEMP_MARK}{target.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with cannot_write(target.parent, then):
        _refuse_foreign_target(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(target)
    try:
        with cannot_write(target.parent, then):
            temp.mkdir(mode=DIR_MODE)
            os.chmod(temp, DIR_MODE)
        # The biggest files first, so that the writers finish close together.
        planned = [file for make in RUN_FILES for file in make(result, config.output_format)]
        by_cost = sorted(planned, key=lambda file: -file.cost)
        facts = dict(zip((file.name for file in by_cost), schedule.together(
            [partial(_write_file, file, temp, target / file.name, then) for file in by_cost])))
        outputs = [facts[file.name] for file in planned]
        manifest = {
            "tool": "audiencecli",
            "version": __version__,
            "command": command,
            "config": config.resolved(),
            "as_of": result.summary["as_of"],
            "stale": result.summary["stale"],
            "stale_lists": result.summary["stale_lists"],
            "inputs": [{k: v for k, v in fact.__dict__.items() if k != "query" or v is not None}
                       for fact in result.inputs.facts(config)],
            "outputs": outputs,
            "started_at": started_at.astimezone(HELSINKI).isoformat(timespec="seconds"),
            "finished_at": dt.datetime.now(HELSINKI).isoformat(timespec="seconds"),
        }
        with cannot_write(target / "manifest.json", then):
            _write_json(temp / "manifest.json", manifest)
        with cannot_write(target, then), interrupts.committing():
            _swap_into_place(temp, target)
    except BaseException:
        with interrupts.holding():
            shutil.rmtree(temp, ignore_errors=True)
        raise
    return target


def _write_file(file: RunFile, temp: Path, named: Path, then: str) -> dict:
    """One file of the run, written into the temporary folder; its failure names its final path."""
    with cannot_write(named, then):
        return file.write(temp / file.name)


@dataclass(frozen=True)
class RunFile:
    """A file of the run directory: its name, how it is written (given its path, it returns the
    manifest's fact of it: file, sha256, rows), and its cost (bigger ones are started first)."""

    name: str
    write: Callable[[Path], dict]
    cost: int = 1


def _channel_files(result: BuildResult, ext: str) -> list[RunFile]:
    """One per campaign channel, in the config's order; the social file's digests cost the most."""
    return [RunFile(f"{channel}.{ext}", partial(_write_channel, result, channel, fmt=ext),
                    cost=2 if channel == "social" else 1) for channel in result.config.channels]


def _exclusions_file(result: BuildResult, ext: str) -> list[RunFile]:
    return [RunFile(f"exclusions.{ext}", partial(_write_table, result.exclusion_chunks(), fmt=ext,
                                                 distinct=("customer_id",)), cost=3)]


def _audience_files(result: BuildResult, ext: str) -> list[RunFile]:
    """Per platform of [output].audiences its upload file, always CSV, and its removal file when
    there was a previous run to compare with."""
    files = []
    for audience in result.audiences:
        files.append(RunFile(audience.platform.file, partial(_write_table, [audience.rows], fmt="csv")))
        if audience.removals is not None:
            files.append(RunFile(audience.platform.removal_file, partial(_write_table, [audience.removals], fmt="csv")))
    return files


def _summary_file(result: BuildResult, ext: str) -> list[RunFile]:
    return [RunFile("summary.json", partial(_write_summary, result.summary), cost=0)]


# The run's files, in the manifest's order; the manifest itself is written last, of their facts.
# A new file is one entry here.
RUN_FILES: tuple[Callable[[BuildResult, str], list[RunFile]], ...] = (
    _channel_files, _exclusions_file, _audience_files, _summary_file)


def _write_summary(summary: dict, path: Path) -> dict:
    _write_json(path, summary)
    return _file_fact(path, None)


def _write_channel(result: BuildResult, channel: str, path: Path, fmt: str) -> dict:
    return _write_table([result.channel_table(channel)], path, fmt)


def _write_table(chunks: Iterable[pl.DataFrame], path: Path, fmt: str, distinct: tuple[str, ...] = ()) -> dict:
    """One table written from its chunks in order (the first one carries the CSV header or the
    Parquet schema; a table always has at least one chunk, perhaps empty). A table of one chunk
    goes through Polars' own Parquet writer, faster than pyarrow's, which appends row groups.
    `distinct`: columns whose values hardly repeat, which pyarrow then does not try to write as
    a dictionary (faster, and a smaller file)."""
    chunks = iter(chunks)
    first, following = next(chunks), next(chunks, None)
    if following is not None:
        chunks = itertools.chain([first, following], chunks)
    else:
        chunks = iter([first])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    rows = 0
    with os.fdopen(fd, "wb") as handle:
        if fmt == "parquet" and following is None:
            # As text: Polars would store an enumeration's type in the file for its readers.
            first.cast({name: pl.String for name, dtype in first.schema.items() if isinstance(dtype, pl.Enum)}) \
                .write_parquet(handle, statistics=False, compression="zstd", compression_level=ZSTD_LEVEL)
            rows = first.height
        elif fmt == "parquet":
            import pyarrow.parquet as pq  # only runs with many chunks pay for importing it

            writer = None
            dictionary = [c for c in first.columns if c not in distinct]
            for chunk in chunks:
                table = _arrow_table(chunk)
                writer = writer or pq.ParquetWriter(handle, table.schema, compression="zstd",
                                                    compression_level=ZSTD_LEVEL, write_statistics=False,
                                                    store_schema=False, use_dictionary=dictionary)
                writer.write_table(table)
                rows += chunk.height
            writer.close()
        else:
            for index, chunk in enumerate(chunks):
                chunk.write_csv(handle, include_header=index == 0, line_terminator="\n", null_value="")
                rows += chunk.height
    os.chmod(path, FILE_MODE)
    return _file_fact(path, rows)


def _arrow_table(chunk: pl.DataFrame):
    """A chunk for pyarrow's Parquet writer. Text columns keep Polars' own string layout, handed
    over without a copy; an enumeration becomes a dictionary of its names with its codes, which
    the writer stores as they are instead of hashing every row's text. The file stores plain UTF-8 strings either way: no Arrow schema naming
    these layouts is written."""
    import pyarrow as pa

    table = chunk.to_arrow(compat_level=pl.CompatLevel.newest())
    for index, (name, dtype) in enumerate(chunk.schema.items()):
        if isinstance(dtype, pl.Enum):
            names = pa.array(dtype.categories.to_list(), pa.string())
            codes = chunk.get_column(name).to_physical().to_arrow()
            table = table.set_column(index, name, pa.DictionaryArray.from_arrays(codes, names))
    return table


def _write_json(path: Path, data: dict) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    os.chmod(path, FILE_MODE)


def _file_fact(path: Path, rows: int | None) -> dict:
    fact = {"file": path.name, "sha256": file_digest(path)}
    if rows is not None:
        fact["rows"] = rows
    return fact


def _refuse_foreign_target(target: Path) -> None:
    """Never replace something that is not a previous run: the folder may hold other work."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise UsageError(f"output {target} exists and is not a run directory; choose another --out")
    if target.is_dir() and any(target.iterdir()) and not (target / "manifest.json").is_file():
        raise UsageError(f"output folder {target} is not empty and holds no previous run "
                         "(no manifest.json); it is not replaced")


def _remove_leftovers(target: Path) -> None:
    """Temporary folders of killed builds of this target whose process is gone."""
    for mark in (TEMP_MARK, OLD_MARK):
        remove_leftovers(target.parent, f"{mark}{target.name}-")


def _swap_into_place(temp: Path, target: Path) -> None:
    """Rename the finished run over the old one; atomically exchanged where Linux allows it.
    Elsewhere the old run is renamed aside first, and back if the new one cannot take its place."""
    if not target.exists():
        os.rename(temp, target)
        return
    if _exchange(temp, target):
        shutil.rmtree(temp, ignore_errors=True)
        return
    old = target.parent / f"{OLD_MARK}{target.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    try:
        os.rename(temp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """renameat2(RENAME_EXCHANGE): swap two paths in one step. False where unsupported; raises
    OSError when the system supports it and the exchange itself fails."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    number = ctypes.get_errno()
    if number in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # the kernel or this filesystem cannot exchange
    raise OSError(number, os.strerror(number), str(b))
