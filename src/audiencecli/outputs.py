"""Write the run directory atomically and deterministically (contract section 7).

The run is written into a hidden temporary folder beside the target, every file owner-only,
and then swapped into place with one rename, so readers see the previous run or the new one,
never a half-written one. A failure removes the temporary folder; one left by a killed run
(SIGKILL cannot be caught) is removed by the next build of the same target.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import itertools
import json
import os
import shutil
import signal
import sys
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

import polars as pl

from . import __version__, schedule
from .errors import UsageError
from .files import PRIVATE_MODE, file_digest
from .pipeline import BuildResult

FILE_MODE = PRIVATE_MODE
DIR_MODE = 0o700
TEMP_MARK = ".audience-tmp-"
# zstd level 1: much faster than Polars' default level on the social file (SHA-256 hex, which does
# not compress), and every file about as small (bench/RESULTS.md).
ZSTD_LEVEL = 1
OLD_MARK = ".audience-old-"


def write_run(result: BuildResult, *, command: list[str], started_at: dt.datetime) -> Path:
    """Write the run directory; returns its path. Nothing is left behind on failure."""
    config = result.config
    target = config.output_dir
    _refuse_foreign_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    temp = target.parent / f"{TEMP_MARK}{target.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    previous_handlers = _catch_termination()
    try:
        temp.mkdir(mode=DIR_MODE)
        os.chmod(temp, DIR_MODE)
        # The biggest files first, so that the writers finish close together.
        planned = [file for make in RUN_FILES for file in make(result, config.output_format)]
        by_cost = sorted(planned, key=lambda file: -file.cost)
        facts = dict(zip((file.name for file in by_cost), schedule.together(
            [partial(file.write, temp / file.name) for file in by_cost])))
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
            "started_at": started_at.isoformat(timespec="seconds"),
            "finished_at": dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
        }
        _write_json(temp / "manifest.json", manifest)
        _swap_into_place(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    finally:
        _restore_handlers(previous_handlers)
    return target


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
        for leftover in target.parent.glob(f"{mark}{target.name}-*"):
            pid = leftover.name[len(mark) + len(target.name) + 1:].split("-")[0]
            if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
                continue
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _swap_into_place(temp: Path, target: Path) -> None:
    """Rename the finished run over the old one; atomically exchanged where Linux allows it."""
    if not target.exists():
        os.rename(temp, target)
        return
    if _exchange(temp, target):
        shutil.rmtree(temp, ignore_errors=True)
        return
    old = target.parent / f"{OLD_MARK}{target.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    os.rename(temp, target)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """renameat2(RENAME_EXCHANGE): swap two paths in one step. False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def _catch_termination():
    """SIGTERM and SIGHUP unwind like Ctrl-C, so the temporary folder is removed."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[sig] = signal.signal(sig, interrupt)
        except (ValueError, OSError):
            pass
    return previous


def _restore_handlers(previous) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
