"""Format readers: a file (CSV, Parquet or an Excel workbook) as text columns, known columns only, trimmed.

Every file is first read as text columns (CSV) or converted to text (Parquet) so that both
formats go through the same parsing and the same error messages. Each row keeps `_line`, its
line in the file (header = line 1), so every data error can name FILE:LINE.

A header may be a broken export's: millions of columns. Everything done with its names is linear
in their number (no name is looked for in a list of them), and only the known columns' values
are kept (a header wider than WIDE_HEADER is read by the standard library's reader, which keeps
them alone). A value of a known column longer than LONGEST_VALUE is a data error (`_tidy`).
"""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from ..config import FileSpec
from ..errors import MAX_LISTED_PROBLEMS, Problem, ProblemLog
from ..files import file_digest

LINE = "_line"
# The log and the holdings are the biggest inputs (several rows per customer): they are parsed
# and checked a slice of rows at a time, so that only one slice's intermediate columns exist at once.
SLICE_ROWS = 2_000_000
# No real name, address, e-mail, id or source is longer (contract section 3): a longer value of a
# known column is a broken export, a data error, whatever the column.
LONGEST_VALUE = 1000
# Polars' CSV reader pays for every column of the header, and for every field of every row as a
# column of its own; told to parse only some columns, it no longer sees a row with more fields
# than the header. A header wider than this (Excel's sheets end at 16,384 columns; a real export
# has tens) is read by the standard library's reader, which keeps the known columns alone.
WIDE_HEADER = 1000

# A superset of the rows a caller needs, as an expression over the file's columns as raw text
# (by their header names, untrimmed; a column the file lacks is not in the mapping). The rows it
# leaves out are neither parsed nor checked, and the file gets no digest (it was not read whole):
# `explain` reads its customers' rows so (see focus.py).
RowFilter = Callable[[dict[str, pl.Expr]], pl.Expr]

@dataclass(frozen=True)
class RawTable:
    """A file read as text: known columns only, values trimmed, empty strings as nulls."""

    label: str
    frame: pl.DataFrame
    sha256: str
    columns_found: tuple[str, ...]
    unknown_columns: tuple[str, ...]


def file_label(path: Path) -> str:
    """How a file is named in messages: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_table(spec: FileSpec, known: tuple[str, ...], problems: ProblemLog,
               trimmed_by_parser: tuple[str, ...] = (), only: RowFilter | None = None) -> RawTable | None:
    """Read one input file (the rows `only` keeps); on failure add the problem to `problems` and return None."""
    tables = read_table_slices(spec, known, problems, rows=None, trimmed_by_parser=trimmed_by_parser, only=only)
    return next(tables) if tables is not None else None


@dataclass(frozen=True)
class ParquetRows:
    """Which rows of a Parquet file to read, decided on one column before any text is made: a
    column `column` of a Datetime type is kept typed (its values never become text) and, when
    `keep(expr, dtype)` gives an expression, only the rows where it holds are read (the filter
    goes into the scan). A column of another type is read as text, every row, as usual."""

    column: str
    keep: Callable[[pl.Expr, pl.DataType], pl.Expr | None]


def read_table_slices(spec: FileSpec, known: tuple[str, ...], problems: ProblemLog,
                      rows: int | None, trimmed_by_parser: tuple[str, ...] = (),
                      parquet_rows: ParquetRows | None = None,
                      only: RowFilter | None = None) -> Iterator[RawTable | None] | None:
    """Read one input file `rows` rows at a time (all at once when None): each slice as a RawTable
    whose `_line`s are those of the file. None when the file cannot be opened; a slice that cannot
    be read is a None, after its problem is added (there are no more slices then).
    `trimmed_by_parser`: columns left untrimmed, for the caller to trim (see `_tidy`).
    `parquet_rows`: see ParquetRows (CSV files are read whole whatever it says). `only`: see
    RowFilter (a Parquet file applies it inside the scan, in one slice; others once read).

    A Parquet file is read a slice at a time from disk, so that its text columns never exist all
    at once (the consent log of 10M customers is 2 GB of text); a CSV file is parsed whole.
    """
    label = file_label(spec.path)
    read = _query_source(spec, label, problems, only) if spec.query is not None else _file_source(
        spec, label, known, problems, parquet_rows, only)
    if read is None:
        return None
    label, digest, source = read  # a workbook's label names its sheet: book.xlsx[Sheet]
    columns, frames = source
    # A header may have millions of names: they are gone through by the built-ins' own loops.
    found = tuple(filter(LINE.__ne__, columns))
    known_names = frozenset(known)
    unknown = tuple(itertools.filterfalse(known_names.__contains__, found))
    present = known_names.intersection(found)

    def tables() -> Iterator[RawTable | None]:
        for frame in frames(rows):
            if frame is None:
                yield None
                return
            yield RawTable(label=label, frame=_tidy(frame, known, present, trimmed_by_parser, label, problems),
                           sha256=digest, columns_found=found, unknown_columns=unknown)

    return tables()


Source = tuple[list[str], Callable[[int | None], Iterator[pl.DataFrame | None]]]  # column names, slices


def _whole(frame: pl.DataFrame, only: RowFilter | None, columns: list[str] | None = None) -> Source:
    """A frame read whole as a source: the header's column names (the frame's when None: a frame
    may hold the known ones only), and the rows `only` keeps."""
    columns = frame.columns if columns is None else columns
    if only is not None:
        frame = frame.filter(only({c: pl.col(c) for c in frame.columns if c != LINE}))
    return columns, lambda rows: _frame_slices(frame, rows)


def _query_source(spec: FileSpec, label: str, problems: ProblemLog,
                  only: RowFilter | None) -> tuple[str, str, Source] | None:
    """(label, digest, source) of a database query; its rows are numbered 1, 2, ... (`ROW n`)."""
    from .database import read_query  # only a query pays for importing its driver

    read = read_query(spec, label, problems)
    if read is None:
        return None
    frame, digest = read
    frame = _named_columns(frame, label, problems)
    if frame is None:
        return None
    return label, digest, _whole(frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(LINE)),
                                 only)


def _file_source(spec: FileSpec, label: str, known: tuple[str, ...], problems: ProblemLog,
                 parquet_rows: ParquetRows | None, only: RowFilter | None) -> tuple[str, str, Source] | None:
    """(label, digest, source) of a CSV, Parquet or Excel file; None after its problem is added.
    A file read through `only` has no digest (""): the rows it left out were not read."""
    suffix = spec.path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".txt", ".xlsx"):
        if not spec.path.exists():
            problems.add(Problem(file=label, message="file not found"))
        else:
            problems.add(Problem(file=label, message="unknown file type; use .csv, .txt, .parquet or .xlsx"))
        return None
    try:
        if suffix == ".xlsx":
            digest = file_digest(spec.path) if only is None else ""
            sheet = _read_xlsx(spec.path, spec.sheet, label, problems, frozenset(known))
            if sheet is None:
                return None
            label, names, frame = sheet
            return label, digest, _whole(frame, only, names)
        if suffix == ".parquet":
            # Polars reads the file itself (only the known columns); the digest is taken in blocks.
            digest = file_digest(spec.path) if only is None else ""
            source = _parquet_source(spec.path, label, known, problems, parquet_rows, only)
            return None if source is None else (label, digest, source)
        data = spec.path.read_bytes()
        digest = hashlib.sha256(data).hexdigest() if only is None else ""
        read = _read_csv(data, spec.encoding, label, problems, frozenset(known), only)
        del data
        return None if read is None else (label, digest, _whole(read[1], None, read[0]))  # `only` applied
    except FileNotFoundError:
        problems.add(Problem(file=label, message="file not found"))
        return None
    except OSError as exc:
        problems.add(Problem(file=label, message=f"cannot be read ({exc.strerror or exc.__class__.__name__})"))
        return None


def _frame_slices(frame: pl.DataFrame, rows: int | None) -> Iterator[pl.DataFrame]:
    if rows is None or frame.height <= rows:
        yield frame
        return
    for start in range(0, frame.height, rows):
        yield frame.slice(start, rows)


def _tidy(frame: pl.DataFrame, known: tuple[str, ...], present: frozenset[str],
          trimmed_by_parser: tuple[str, ...], label: str, problems: ProblemLog) -> pl.DataFrame:
    """Known columns only (missing ones as nulls), values trimmed, empty ones null, blank lines
    dropped; a row with a value longer than LONGEST_VALUE is a problem added to `problems`, and
    dropped (its other values would only add noise to the error). `present`: the known columns
    the file has.

    The columns `trimmed_by_parser` are left as they are (but for telling blank lines): checking
    every value for white space cost as much as parsing it, and their parsers reject any value
    with white space around it, so only those rejected need trimming (parse_trimming_rejects);
    a column of few distinct values is trimmed once per distinct value (few_values_trimmed,
    normalize.by_distinct); the customers' email by its normalization (normalize.email_values)."""
    keep = [c for c in known if c in present]
    frame = frame.select(*keep, LINE)
    # Values are trimmed and empty ones made null, column by column only where some value needs
    # it (a clean file's columns are kept as they are, not copied). Values too long are looked
    # for in the same pass, by their bytes: no value of fewer bytes has more characters.
    checked = [c for c in keep if c not in trimmed_by_parser]
    texts = [c for c in keep if frame.schema[c] == pl.String]
    facts = frame.select(*[needs_trimming(c).any().alias(f"trim {c}") for c in checked],
                         *[(pl.col(c).str.len_bytes() > LONGEST_VALUE).any().alias(f"long {c}") for c in texts],
                         ).row(0, named=True) if (checked or texts) and frame.height else {}
    if long_columns := [c for c in texts if facts.get(f"long {c}")]:
        frame = _without_long_values(frame, long_columns, label, problems)
    frame = frame.with_columns(
        *[clean_text(c) for c in checked if facts.get(f"trim {c}")],
        *[pl.lit(None, pl.String).alias(c) for c in known if c not in present],
    ).select(*known, LINE)
    # A line with nothing on it is skipped, as spreadsheet exports often end with blank lines.
    blank = pl.all_horizontal(pl.col(c).is_null() for c in known if c not in trimmed_by_parser)
    if frame.height and frame.select(blank.any()).item():
        blank = pl.all_horizontal(blank, *[clean_text(c).is_null() if frame.schema[c] == pl.String
                                           else pl.col(c).is_null() for c in known if c in trimmed_by_parser])
        frame = frame.filter(~blank)
    return frame


def _without_long_values(frame: pl.DataFrame, columns: list[str], label: str, problems: ProblemLog) -> pl.DataFrame:
    """The frame without its rows that have a value (of `columns`) longer than LONGEST_VALUE
    characters once trimmed; each such value a problem (in file order, the first few listed).
    The value is never quoted: it is not data, and it may be anyone's."""
    found = pl.concat([
        frame.filter(pl.col(c).str.len_bytes() > LONGEST_VALUE)
        .filter(pl.col(c).str.strip_chars().str.len_chars() > LONGEST_VALUE)
        .select(LINE, pl.lit(index, pl.Int32).alias("column"))
        for index, c in enumerate(columns)
    ]).sort(LINE, "column")
    if not found.height:
        return frame
    listed = [Problem(file=label, line=line, column=columns[index], message=f"longer than {LONGEST_VALUE} characters")
              for line, index in found.head(MAX_LISTED_PROBLEMS).iter_rows()]
    problems.extend(listed, found.height)
    return frame.filter(~pl.col(LINE).is_in(found.get_column(LINE).unique().implode()))


def needs_trimming(column: str) -> pl.Expr:
    """Whether `clean_text` would change the value: white space around it, or empty."""
    return (pl.col(column).str.strip_chars() != pl.col(column)) | (pl.col(column).str.len_bytes() == 0)


def clean_text(column: str) -> pl.Expr:
    trimmed = pl.col(column).str.strip_chars()
    return pl.when(trimmed != "").then(trimmed).alias(column)


def normalize_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def _read_csv(data: bytes, encoding: str, label: str, problems: ProblemLog, known: frozenset[str],
              only: RowFilter | None = None) -> tuple[list[str], pl.DataFrame] | None:
    """(the header's column names, the rows): Polars reads the bytes as they are; the file is decoded
    in Python only to re-encode cp1252, to find the line of a problem the fast reader reports, or
    to read a header wider than WIDE_HEADER (then the frame holds the `known` columns only). With
    `only`, the rows it keeps (see _kept_lines)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if encoding == "cp1252":
        try:
            data = data.decode("cp1252").encode("utf-8")
        except UnicodeDecodeError as exc:
            problems.add(_undecodable(data, exc, label, encoding))
            return None
    nul = data.find(b"\x00")
    if nul >= 0:
        problems.add(Problem(file=label, line=data.count(b"\n", 0, nul) + 1,
                             message="contains a NUL byte; not a text file"))
        return None
    if not data or data.isspace():
        problems.add(Problem(file=label, line=1, message="the file is empty; a header line is required"))
        return None
    end = data.find(b"\n")
    try:
        header_line = (data if end < 0 else data[:end]).decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        problems.add(_undecodable(data, exc, label, encoding))
        return None
    if not header_line.strip():
        problems.add(Problem(file=label, line=1, message="the first line is empty; the header must be on line 1"))
        return None
    separator = max([",", ";", "\t"], key=header_line.count)
    try:
        header = next(csv.reader([header_line], delimiter=separator, strict=True), [])
    except csv.Error as exc:
        message = (f"cannot be parsed as CSV: {exc}" if "\r" not in header_line
                   else "lines end in a carriage return alone; save the file with LF or CRLF line ends")
        problems.add(Problem(file=label, line=1, message=message))
        return None
    names = [normalize_header(h) for h in header]
    if _clashes(names, label, problems):
        return None
    wide = len(header) > WIDE_HEADER
    if only is not None and not wide and (kept := _kept_lines(data, separator, header, only)) is not None:
        return [c for c in kept.columns if c != LINE], kept
    frame = None if wide else _read_csv_fast(data, separator)
    if frame is None:  # a file the fast reader rejects is read (or diagnosed) strictly
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.add(_undecodable(data, exc, label, encoding))
            return None
        read = _read_csv_strictly(text, separator, label, problems, known, names)
        if read is None:
            return None
        names, frame = read
    else:
        frame.columns = [normalize_header(c) for c in frame.columns]
        frame = frame.with_columns(_record_lines(data, separator, frame.height).alias(LINE))
        names = [c for c in frame.columns if c != LINE]
    if only is not None:
        frame = frame.filter(only({c: pl.col(c) for c in frame.columns if c != LINE}))
    return names, frame


def _read_csv_fast(data: bytes, separator: str) -> pl.DataFrame | None:
    """Every column of the file as text, by Polars; None when it refuses the file."""
    try:
        return pl.read_csv(io.BytesIO(data), separator=separator, infer_schema=False, quote_char='"',
                           has_header=True, raise_if_empty=False)
    except Exception:  # noqa: BLE001 - the strict reader says what is wrong, or reads what CSV allows
        return None


def _clashes(names: list[str], label: str, problems: ProblemLog, where: str = " in the header") -> bool:
    """Whether two (non-empty) column names are the same; each such name a problem."""
    if len(set(names)) == len(names):
        return False
    clashes = sorted(name for name, count in Counter(names).items() if name and count > 1)
    for name in clashes:
        problems.add(Problem(file=label, line=1, column=name, message=f"column appears more than once{where}"))
    return bool(clashes)


# Lines are found a block of bytes at a time: newlines are counted per block (at memchr speed),
# and walked one by one only inside the block that holds the line sought.
_LINE_BLOCK = 1 << 20


def _kept_lines(data: bytes, separator: str, header: list[str], only: RowFilter) -> pl.DataFrame | None:
    """The rows `only` keeps, read without parsing the others: the columns it reads are parsed
    first, then only the lines of the rows it keeps. None when the file has a quote character (a
    record may then span lines) or the reader refuses it: the caller reads it whole instead."""
    if b'"' in data:
        return None
    names = {normalize_header(h): h for h in header}
    read = [name for name in dict.fromkeys(only({n: pl.col(n) for n in names}).meta.root_names()) if name in names]
    if not read:  # a filter of no column of the file: nothing to gain
        return None
    try:
        columns = pl.read_csv(io.BytesIO(data), separator=separator, infer_schema=False, quote_char='"',
                              has_header=True, raise_if_empty=False, columns=[names[n] for n in read])
    except Exception:  # noqa: BLE001 - the whole file's reader reports (or accepts) it
        return None
    columns.columns = read
    records = columns.select(only({n: pl.col(n) for n in read}).fill_null(False)).to_series().arg_true().to_list()
    try:
        return _parsed_lines(data, separator, header, [record + 1 for record in records])
    except Exception:  # noqa: BLE001 - a kept line the reader refuses (more fields than the header): read whole
        return None


def _parsed_lines(data: bytes, separator: str, header: list[str], lines: list[int]) -> pl.DataFrame:
    """The header and the given lines (0-based, sorted; line 0 is the header) of `data`, parsed
    as the whole file would be, each row with its line number."""
    text = separator.join(header).encode("utf-8")
    rows = [text, *_lines_of(data, lines)]
    frame = pl.read_csv(io.BytesIO(b"\n".join(rows) + b"\n"), separator=separator, infer_schema=False,
                        quote_char='"', has_header=True, raise_if_empty=False)
    frame.columns = [normalize_header(c) for c in frame.columns]
    return frame.with_columns(pl.Series(LINE, [line + 1 for line in lines], dtype=pl.Int64))


def _lines_of(data: bytes, lines: list[int]) -> list[bytes]:
    """The given physical lines (0-based, sorted) of `data`, without their line ends."""
    found = []
    position, newlines = 0, 0  # newlines: how many newlines come before `position`
    for line in lines:  # line n starts after the n-th newline
        while newlines < line:
            end = min(position + _LINE_BLOCK, len(data))
            count = data.count(b"\n", position, end)
            if newlines + count < line:
                position, newlines = end, newlines + count
                continue
            while newlines < line:
                position = data.index(b"\n", position) + 1
                newlines += 1
        end = data.find(b"\n", position)
        found.append(data[position:end if end >= 0 else len(data)])
    return found


def _named_columns(frame: pl.DataFrame, label: str, problems: ProblemLog) -> pl.DataFrame | None:
    """The frame with its column names in the header's normal form; None (after the problem)
    when two columns come to the same name."""
    names = [normalize_header(c) for c in frame.columns]
    if _clashes(names, label, problems):
        return None
    frame.columns = names
    return frame


# How a date or datetime cell reads as text (fastexcel writes them so): a date at midnight is the
# date a person sees, any other time the ISO datetime.
_EXCEL_DATE = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"
_EXCEL_DATETIME = r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$"


def _read_xlsx(path: Path, sheet: str | None, label: str, problems: ProblemLog,
               known: frozenset[str]) -> tuple[str, list[str], pl.DataFrame] | None:
    """(the sheet's label, its column names, the `known` columns' rows as text with `_line`) of an
    Excel workbook's sheet (the first when None), the header on its first row. Every cell is read
    as text: a number as its digits (358401234567, 1.5), a date cell as its ISO date (a time of
    day as an ISO datetime)."""
    if not path.exists():
        raise FileNotFoundError(path)
    import fastexcel  # only a workbook pays for importing the reader

    try:
        workbook = fastexcel.read_excel(path)
        names = workbook.sheet_names
    except Exception:  # noqa: BLE001 - any reader failure means the file is not a usable workbook
        problems.add(Problem(file=label, message="cannot be read as an Excel workbook (.xlsx)"))
        return None
    if sheet is None and not names:
        problems.add(Problem(file=label, message="the workbook has no sheet"))
        return None
    if sheet is not None and sheet not in names:
        problems.add(Problem(file=label, message=f"has no sheet {sheet!r}; its sheets: {', '.join(names)}"))
        return None
    sheet = sheet if sheet is not None else names[0]
    sheet_label = f"{label}[{sheet}]"
    try:
        frame = workbook.load_sheet(sheet, header_row=0, dtypes="string").to_polars()
    except Exception:  # noqa: BLE001 - an unreadable sheet is one problem, named by its sheet
        problems.add(Problem(file=sheet_label, message="cannot be read as a sheet of text cells"))
        return None
    frame = _named_columns(frame, sheet_label, problems)
    if frame is None:
        return None
    texts = [frame.get_column(c).cast(pl.String).str.replace(_EXCEL_DATE, "$1").str.replace(_EXCEL_DATETIME, "${1}T$2")
             for c in frame.columns if c in known]
    lines = pl.int_range(2, frame.height + 2, dtype=pl.Int64, eager=True).alias(LINE)
    return sheet_label, frame.columns, pl.DataFrame([*texts, lines])


def _undecodable(data: bytes, exc: UnicodeDecodeError, label: str, encoding: str) -> Problem:
    hint = ('save the file as UTF-8 or give encoding = "cp1252"' if encoding == "utf-8"
            else "the byte is not valid cp1252")
    return Problem(file=label, line=data.count(b"\n", 0, exc.start) + 1,
                   message=f"cannot be decoded as {encoding}; {hint}")


def _record_lines(data: bytes, separator: str, height: int) -> pl.Series:
    """The line each record starts on; the file is walked only when quoted fields span lines."""
    physical = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    simple = pl.int_range(2, height + 2, dtype=pl.Int64, eager=True)
    if physical == height + 1:
        return simple
    starts: list[int] = []
    # Only line ends are counted here: a byte the fast reader let through cannot move them.
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""), delimiter=separator)
    previous_end = 0
    for index, _row in enumerate(reader):
        if index > 0:
            starts.append(previous_end + 1)
        previous_end = reader.line_num
    return simple if len(starts) != height else pl.Series(starts, dtype=pl.Int64)


def _read_csv_strictly(text: str, separator: str, label: str, problems: ProblemLog, known: frozenset[str],
                       names: list[str]) -> tuple[list[str], pl.DataFrame] | None:
    """(the header's column names, the `known` columns' values): the standard library's RFC 4180
    reader, slower, but it names the line it cannot parse.

    It also accepts what the fast reader refuses but CSV allows (a quote inside an unquoted
    field is an ordinary character). Only the known columns' values are kept, so a row costs
    what its own fields do, however wide the header. `names`: the header's, normalized, as the
    caller read them from the first line.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    header: list[str] | None = None
    kept: list[tuple[int, list[str]]] = []  # (index in the row, the column's values)
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            if header is None:
                header = row
                if len(names) != len(header):
                    names = [normalize_header(name) for name in header]
                kept = [(index, []) for index, name in enumerate(names) if name in known]
            elif len(row) > len(header):
                problems.add(Problem(file=label, line=start,
                                     message=f"has {len(row)} fields but the header has {len(header)}"))
                return None
            else:
                for index, values in kept:
                    values.append(row[index] if index < len(row) else "")
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.add(Problem(file=label, line=start, message=f"cannot be parsed as CSV: {exc}"))
        return None
    columns = [pl.Series(names[index], values, dtype=pl.String) for index, values in kept]
    return names, pl.DataFrame([*columns, pl.Series(LINE, lines, dtype=pl.Int64)])


def _parquet_source(path: Path, label: str, known: tuple[str, ...], problems: ProblemLog,
                    parquet_rows: ParquetRows | None = None, only: RowFilter | None = None):
    """(column names, a function of `rows` yielding the file's slices as text columns with `_line`),
    or None when the file is not usable Parquet. The filters of `parquet_rows` and `only` go into
    the scan; with `only` the file is one slice (what it keeps is a few rows)."""
    try:
        schema = pl.read_parquet_schema(path)
        height = _parquet_rows(path)
    except Exception:  # noqa: BLE001 - any reader failure means the file is not usable Parquet
        problems.add(Problem(file=label, message="cannot be read as Parquet"))
        return None
    names = [normalize_header(c) for c in schema]
    if _clashes(names, label, problems, where=""):
        return None
    known_names = frozenset(known)
    wanted = [c for c, name in zip(schema, names) if name in known_names]
    read_names = [normalize_header(c) for c in wanted]
    columns = []
    texts: dict[str, pl.Expr] = {}
    row_filter = None
    for original, name in zip(wanted, read_names):
        dtype = schema[original]
        column = pl.col(original)
        if parquet_rows is not None and name == parquet_rows.column and isinstance(dtype, pl.Datetime):
            row_filter = parquet_rows.keep(column, dtype)
            columns.append(column.alias(name))
            continue
        expr = as_text(column, dtype)
        if expr is None:
            problems.add(Problem(file=label, line=1, column=name,
                                 message=f"has Parquet type {dtype}, which cannot be read as text"))
            return None
        texts[name] = expr
        columns.append(expr.alias(name))
    if only is not None:
        kept = only(texts)
        row_filter = kept if row_filter is None else row_filter & kept
    # Unknown columns are not read; their names stay in the header facts (validate lists them).

    def filtered(rows: int | None) -> Iterator[pl.DataFrame | None]:
        """The rows the filter keeps, `rows` rows of the file at a time (with `only`, all at once)."""
        step = rows if rows and only is None else max(height, 1)
        for start in range(0, max(height, 1), step):
            scan = pl.scan_parquet(path, row_index_name=LINE, row_index_offset=2)
            try:
                frame = (scan if only is not None else scan.slice(start, step)) \
                    .filter(row_filter).select(LINE, *wanted).collect()
            except Exception:  # noqa: BLE001 - any reader failure means the file is not usable Parquet
                problems.add(Problem(file=label, message="cannot be read as Parquet"))
                yield None
                return
            yield frame.select(*columns, pl.col(LINE).cast(pl.Int64))

    def slices(rows: int | None) -> Iterator[pl.DataFrame | None]:
        if row_filter is not None:
            yield from filtered(rows)
            return
        step = rows or max(height, 1)
        for start in range(0, max(height, 1), step):
            length = min(step, height - start)
            try:
                frame = (pl.scan_parquet(path).select(wanted).slice(start, length).collect() if wanted
                         else pl.DataFrame(height=length))
            except Exception:  # noqa: BLE001 - any reader failure means the file is not usable Parquet
                problems.add(Problem(file=label, message="cannot be read as Parquet"))
                yield None
                return
            frame = frame.select(columns) if columns else pl.DataFrame(height=frame.height)
            yield frame.with_row_index(LINE, offset=2 + start).with_columns(pl.col(LINE).cast(pl.Int64))

    return names, slices


def as_text(column: pl.Expr, dtype: pl.DataType) -> pl.Expr | None:
    """A typed column (Parquet's, a query result's) as the text a CSV file would hold: dates
    `2026-12-01`, datetimes ISO 8601 (with the offset when zoned), booleans true/false, numbers
    their digits; None for a type that has no such text (a list, a struct)."""
    if dtype == pl.String:
        return column
    if dtype == pl.Date:
        return column.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return column.dt.to_string("%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if dtype.time_zone else ""))
    if dtype == pl.Boolean:
        return pl.when(column).then(pl.lit("true")).when(column.not_()).then(pl.lit("false"))
    if dtype == pl.Null or dtype.is_numeric() or dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        return column.cast(pl.String)
    return None


def _parquet_rows(path: Path) -> int:
    return pl.scan_parquet(path).select(pl.len()).collect().item()


@dataclass(frozen=True)
class Loaded:
    """One parsed input: its typed frame and the facts the manifest and validate report."""

    label: str
    frame: pl.DataFrame
    sha256: str
    rows: int
    unknown_columns: tuple[str, ...]
