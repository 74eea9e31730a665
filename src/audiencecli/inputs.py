"""Reading input files into Polars frames of typed, trimmed, validated columns.

Every file is first read as text columns (CSV) or converted to text (Parquet) so that both
formats go through the same parsing and the same error messages. Each row keeps `_line`, its
line in the file (header = line 1), so every data error can name FILE:LINE.
"""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from .config import CHANNELS, HELSINKI, FileSpec
from .errors import Problem, ProblemLog
from .engine import SharedWork
from .files import file_digest
from .normalize import by_distinct

LINE = "_line"
MAX_EXAMPLES = 20

# Values of these columns are personal contact data: never quoted in a message.
CONTACT_COLUMNS = frozenset({
    "first_name", "last_name", "company_name", "email", "phone",
    "street_address", "postal_code", "city",
})

TRUE_WORDS = ("true", "1", "yes", "y", "kyllä", "ja")
FALSE_WORDS = ("false", "0", "no", "n", "ei", "nej")

ISO_DATE = r"^(\d{4})-(\d{1,2})-(\d{1,2})$"
FINNISH_DATE = r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"
ISO_DATETIME = (
    r"^(?<y>\d{4})-(?<m>\d{1,2})-(?<d>\d{1,2})"
    r"(?:[Tt ]+(?<H>\d{1,2}):(?<M>\d{2})(?::(?<S>\d{2})(?:[.,](?<f>\d{1,9}))?)?)?"
    r"\s*(?<z>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
FINNISH_PLAIN_DATETIME = r"^\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}\.\d{2}$"
# ISO with seconds, no fraction, `T` or a space, optionally a `+hh:mm` offset: every character
# checked, and every field within its range, so that Arrow's reader can refuse only a day past its
# month's end (see _read_plain_iso).
ISO_PLAIN_DATETIME = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
)
FINNISH_DATETIME = (
    r"^(?<d>\d{1,2})\.(?<m>\d{1,2})\.(?<y>\d{4})"
    r"(?:\s+(?:klo\s+)?(?<H>\d{1,2})[.:](?<M>\d{2})(?:[.:](?<S>\d{2}))?)?$"
)


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
               trimmed_by_parser: tuple[str, ...] = ()) -> RawTable | None:
    """Read one input file; on failure add the problem to `problems` and return None."""
    tables = read_table_slices(spec, known, problems, rows=None, trimmed_by_parser=trimmed_by_parser)
    return next(tables) if tables is not None else None


def read_table_slices(spec: FileSpec, known: tuple[str, ...], problems: ProblemLog,
                      rows: int | None, trimmed_by_parser: tuple[str, ...] = ()) -> Iterator[RawTable | None] | None:
    """Read one input file `rows` rows at a time (all at once when None): each slice as a RawTable
    whose `_line`s are those of the file. None when the file cannot be opened; a slice that cannot
    be read is a None, after its problem is added (there are no more slices then).
    `trimmed_by_parser`: columns left untrimmed, for the caller to trim (see `_tidy`).

    A Parquet file is read a slice at a time from disk, so that its text columns never exist all
    at once (the consent log of 10M customers is 2 GB of text); a CSV file is parsed whole.
    """
    label = file_label(spec.path)
    suffix = spec.path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".txt"):
        if not spec.path.exists():
            problems.add(Problem(file=label, message="file not found"))
        else:
            problems.add(Problem(file=label, message="unknown file type; use .csv, .txt or .parquet"))
        return None
    try:
        if suffix == ".parquet":
            # Polars reads the file itself (only the known columns); the digest is taken in blocks.
            digest = file_digest(spec.path)
            source = _parquet_source(spec.path, label, known, problems)
        else:
            data = spec.path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            frame = _read_csv(data, spec.encoding, label, problems)
            del data
            source = None if frame is None else (frame.columns, lambda rows, frame=frame: _frame_slices(frame, rows))
    except FileNotFoundError:
        problems.add(Problem(file=label, message="file not found"))
        return None
    except OSError as exc:
        problems.add(Problem(file=label, message=f"cannot be read ({exc.strerror or exc.__class__.__name__})"))
        return None
    if source is None:
        return None
    columns, frames = source
    found = tuple(c for c in columns if c != LINE)
    unknown = tuple(c for c in found if c not in known)

    def tables() -> Iterator[RawTable | None]:
        for frame in frames(rows):
            if frame is None:
                yield None
                return
            yield RawTable(label=label, frame=_tidy(frame, known, found, trimmed_by_parser), sha256=digest,
                           columns_found=found, unknown_columns=unknown)

    return tables()


def _frame_slices(frame: pl.DataFrame, rows: int | None) -> Iterator[pl.DataFrame]:
    if rows is None or frame.height <= rows:
        yield frame
        return
    for start in range(0, frame.height, rows):
        yield frame.slice(start, rows)


def _tidy(frame: pl.DataFrame, known: tuple[str, ...], found: tuple[str, ...],
          trimmed_by_parser: tuple[str, ...] = ()) -> pl.DataFrame:
    """Known columns only (missing ones as nulls), values trimmed, empty ones null, blank lines dropped.

    The columns `trimmed_by_parser` are left as they are (but for telling blank lines): checking
    every value for white space cost as much as parsing it, and their parsers reject any value
    with white space around it, so only those rejected need trimming (parse_trimming_rejects);
    a column of few distinct values is trimmed once per distinct value (few_values_trimmed,
    normalize.by_distinct); the customers' email by its normalization (normalize.email_values)."""
    keep = [c for c in known if c in found]
    frame = frame.select(*keep, LINE)
    # Values are trimmed and empty ones made null, column by column only where some value needs
    # it (a clean file's columns are kept as they are, not copied).
    checked = [c for c in keep if c not in trimmed_by_parser]
    needs = frame.select(*[_needs_trimming(c).any().alias(c) for c in checked]).row(0, named=True) \
        if checked and frame.height else {}
    frame = frame.with_columns(
        *[_clean_text(c) for c in checked if needs.get(c)],
        *[pl.lit(None, pl.String).alias(c) for c in known if c not in found],
    ).select(*known, LINE)
    # A line with nothing on it is skipped, as spreadsheet exports often end with blank lines.
    blank = pl.all_horizontal(pl.col(c).is_null() for c in known if c not in trimmed_by_parser)
    if frame.height and frame.select(blank.any()).item():
        blank = pl.all_horizontal(blank, *[_clean_text(c).is_null() for c in known if c in trimmed_by_parser])
        frame = frame.filter(~blank)
    return frame


def _needs_trimming(column: str) -> pl.Expr:
    """Whether `_clean_text` would change the value: white space around it, or empty."""
    return (pl.col(column).str.strip_chars() != pl.col(column)) | (pl.col(column).str.len_bytes() == 0)


def _clean_text(column: str) -> pl.Expr:
    trimmed = pl.col(column).str.strip_chars()
    return pl.when(trimmed != "").then(trimmed).alias(column)


def _normalize_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def _read_csv(data: bytes, encoding: str, label: str, problems: ProblemLog) -> pl.DataFrame | None:
    """Fast path: Polars reads the bytes as they are; the file is decoded in Python only to re-encode
    cp1252, or to find the line of a problem the fast reader reports."""
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
    names = [_normalize_header(h) for h in header]
    clashes = sorted({n for n in names if n and names.count(n) > 1})
    for name in clashes:
        problems.add(Problem(file=label, line=1, column=name,
                             message="column appears more than once in the header"))
    if clashes:
        return None
    try:
        frame = pl.read_csv(
            io.BytesIO(data), separator=separator, infer_schema=False, quote_char='"',
            has_header=True, raise_if_empty=False,
        )
    except Exception:  # noqa: BLE001 - a file the fast reader rejects is read (or diagnosed) strictly
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.add(_undecodable(data, exc, label, encoding))
            return None
        return _read_csv_strictly(text, separator, label, problems)
    frame.columns = [_normalize_header(c) for c in frame.columns]
    return frame.with_columns(_record_lines(data, separator, frame.height).alias(LINE))


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


def _read_csv_strictly(text: str, separator: str, label: str, problems: ProblemLog) -> pl.DataFrame | None:
    """The standard library's RFC 4180 reader: slower, but it names the line it cannot parse.

    It also accepts what the fast reader refuses but CSV allows (a quote inside an unquoted
    field is an ordinary character).
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            if header is None:
                header = row
            elif len(row) > len(header):
                problems.add(Problem(file=label, line=start,
                                     message=f"has {len(row)} fields but the header has {len(header)}"))
                return None
            else:
                rows.append(row + [""] * (len(header) - len(row)))
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.add(Problem(file=label, line=start, message=f"cannot be parsed as CSV: {exc}"))
        return None
    names = [_normalize_header(h) for h in header or []]
    columns = {name: [r[i] for r in rows] for i, name in enumerate(names)}
    frame = pl.DataFrame(columns, schema={name: pl.String for name in names})
    return frame.with_columns(pl.Series(LINE, lines, dtype=pl.Int64))


def _parquet_source(path: Path, label: str, known: tuple[str, ...], problems: ProblemLog):
    """(column names, a function of `rows` yielding the file's slices as text columns with `_line`),
    or None when the file is not usable Parquet."""
    try:
        schema = pl.read_parquet_schema(path)
        height = _parquet_rows(path)
    except Exception:  # noqa: BLE001 - any reader failure means the file is not usable Parquet
        problems.add(Problem(file=label, message="cannot be read as Parquet"))
        return None
    names = [_normalize_header(c) for c in schema]
    wanted = [c for c, name in zip(schema, names) if name in known or names.count(name) > 1]
    found_unknown = [name for name in names if name not in known]
    read_names = [name for c, name in zip(schema, names) if c in wanted]
    if len(set(read_names)) != len(read_names):
        for name in sorted({n for n in read_names if read_names.count(n) > 1}):
            problems.add(Problem(file=label, line=1, column=name, message="column appears more than once"))
        return None
    columns = []
    for original, name in zip(wanted, read_names):
        dtype = schema[original]
        column = pl.col(original)
        if dtype == pl.String:
            expr = column
        elif dtype == pl.Null:
            expr = column.cast(pl.String)
        elif dtype == pl.Date:
            expr = column.dt.to_string("%Y-%m-%d")
        elif isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if dtype.time_zone else "")
            expr = column.dt.to_string(fmt)
        elif dtype == pl.Boolean:
            expr = pl.when(column).then(pl.lit("true")).when(column.not_()).then(pl.lit("false"))
        elif dtype.is_numeric() or dtype == pl.Categorical or isinstance(dtype, pl.Enum):
            expr = column.cast(pl.String)
        else:
            problems.add(Problem(file=label, line=1, column=name,
                                 message=f"has Parquet type {dtype}, which cannot be read as text"))
            return None
        columns.append(expr.alias(name))
    # Unknown columns are not read; their names stay in the header facts (validate lists them).
    unknown_nulls = [pl.lit(None, pl.String).alias(name) for name in found_unknown]

    def slices(rows: int | None) -> Iterator[pl.DataFrame | None]:
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
            yield frame.with_columns(unknown_nulls).with_row_index(LINE, offset=2 + start) \
                .with_columns(pl.col(LINE).cast(pl.Int64))

    return [*read_names, *found_unknown], slices


def _parquet_rows(path: Path) -> int:
    return pl.scan_parquet(path).select(pl.len()).collect().item()


def report_rows(table: RawTable, mask: pl.Expr, column: str, message: str, problems: ProblemLog,
                *, quote: bool = True) -> None:
    """Add one problem per row where `mask` holds (the first few listed, all counted)."""
    bad = table.frame.filter(mask)
    if bad.height == 0:
        return
    show_value = quote and column not in CONTACT_COLUMNS
    # The first few in file order (a frame may be sorted otherwise, as customers are by id).
    rows = bad.select(LINE, pl.col(column) if column in bad.columns else pl.lit(None)) \
        .bottom_k(MAX_EXAMPLES, by=LINE).sort(LINE)
    listed = [
        Problem(file=table.label, line=line, column=column, message=message,
                value=(value if show_value and value is not None else None))
        for line, value in rows.iter_rows()
    ]
    problems.extend(listed, bad.height)


class RowChecks:
    """Row checks of one file, counted together in one pass; only failing ones are listed."""

    def __init__(self, table: RawTable):
        self.table = table
        self.checks: list[tuple[pl.Expr, str, str]] = []

    def add(self, mask: pl.Expr, column: str, message: str) -> None:
        self.checks.append((mask, column, message))

    def report(self, problems: ProblemLog) -> None:
        if not self.checks or self.table.frame.height == 0:
            return
        counts = self.table.frame.select(
            mask.fill_null(False).sum().alias(str(i)) for i, (mask, _, _) in enumerate(self.checks)
        ).row(0)
        for (mask, column, message), count in zip(self.checks, counts):
            if count:
                report_rows(self.table, mask, column, message, problems)


def require_columns(table: RawTable, required: tuple[str, ...], problems: ProblemLog) -> bool:
    """Every required column must be in the header; suggest the closest name when one is not."""
    ok = True
    for name in required:
        if name not in table.columns_found:
            message = f"required column is missing ({found_columns(table)})"
            # A header without any known column is probably a data row: its "names" may be a
            # customer's name or email, so they are neither listed nor offered as a hint.
            hint = _closest(name, table.unknown_columns) if len(table.unknown_columns) < len(table.columns_found) \
                else None
            if hint:
                message += f"; did you mean {hint!r}?"
            problems.add(Problem(file=table.label, line=1, column=name, message=message))
            ok = False
    return ok


def found_columns(table: RawTable) -> str:
    """The header's known columns, and how many others: never the others' names, which in a
    file whose header line is missing are a customer's data."""
    known = [c for c in table.columns_found if c not in table.unknown_columns]
    others = len(table.unknown_columns)
    text = f"found: {', '.join(known) or 'no known column'}"
    if others:
        text += f" and {others} other column(s)"
        if not known:
            text += "; is the header line missing?"
    return text


def _closest(name: str, candidates: tuple[str, ...]) -> str | None:
    import difflib

    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return match[0] if match else None


def _parse_date_slow(iso: pl.Expr, finnish: pl.Expr) -> pl.Expr:
    """ISO `2026-12-01` or Finnish `1.12.2026` from the two patterns' groups; null when neither matched."""
    year = pl.coalesce(iso.struct.field("1"), finnish.struct.field("3"))
    month = pl.coalesce(iso.struct.field("2"), finnish.struct.field("2"))
    day = pl.coalesce(iso.struct.field("3"), finnish.struct.field("1"))
    text = pl.concat_str([year, month.str.zfill(2), day.str.zfill(2)], separator="-")
    return text.str.to_date("%Y-%m-%d", strict=False)


def _parse_datetime_slow(iso: pl.Expr, finnish: pl.Expr) -> pl.Expr:
    """ISO 8601 or Finnish `d.m.yyyy h.mm[.ss]` from the two patterns' groups, as a UTC instant;
    naive times are Helsinki time. A date alone is the start of that day. Null when neither matched.
    """

    def part(name: str) -> pl.Expr:
        return pl.coalesce(iso.struct.field(name), finnish.struct.field(name))

    hour = part("H").fill_null("0").str.zfill(2)
    minute = part("M").fill_null("00")
    second = part("S").fill_null("00")
    text = pl.concat_str([
        part("y"), pl.lit("-"), part("m").str.zfill(2), pl.lit("-"), part("d").str.zfill(2), pl.lit(" "),
        hour, pl.lit(":"), minute, pl.lit(":"), second,
    ])
    naive = text.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)
    fraction = iso.struct.field("f").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64).fill_null(0)
    naive = naive + pl.duration(microseconds=fraction)
    zone = iso.struct.field("z")
    sign = pl.when(zone.str.starts_with("-")).then(-1).otherwise(1)
    digits = zone.str.replace_all(r"[^0-9]", "")
    offset_hours = digits.str.slice(0, 2).cast(pl.Int64, strict=False)
    offset_mins = digits.str.slice(2, 2).cast(pl.Int64, strict=False).fill_null(0)
    offset_minutes = (
        pl.when(zone.str.to_uppercase() == "Z").then(0)
        .when((offset_hours <= 23) & (offset_mins <= 59)).then(sign * (offset_hours * 60 + offset_mins))
    )
    with_offset = (naive - pl.duration(minutes=offset_minutes)).dt.replace_time_zone("UTC")
    return pl.when(zone.is_not_null()).then(with_offset).otherwise(_helsinki_to_utc(naive))


def _with_fast_path(values: pl.Series, parsed: pl.Series, patterns: tuple[str, str],
                    slow: Callable[[pl.Expr, pl.Expr], pl.Expr]) -> pl.Series:
    """`parsed`, the fast path's reading, settles the common spellings; the general reader runs
    only on the distinct values it left over, with each pattern matched once (struct columns)
    rather than once per field, and its results are put back in place by position (no join
    over the whole column)."""
    leftover_at = (parsed.is_null() & values.is_not_null()).arg_true()
    if leftover_at.len() == 0:
        return parsed.alias(values.name)
    leftover = values.gather(leftover_at).to_frame("v")
    settled = leftover.unique().with_columns(
        _first=pl.col("v").str.extract_groups(patterns[0]),
        _second=pl.col("v").str.extract_groups(patterns[1]),
    ).select("v", slow(pl.col("_first"), pl.col("_second")).alias("slow"))
    slow_values = leftover.join(settled, on="v", how="left", maintain_order="left").get_column("slow")
    return parsed.scatter(leftover_at, slow_values.cast(parsed.dtype)).alias(values.name)


Parser = Callable[[pl.Series], pl.Series]


def parse_trimming_rejects(values: pl.Series, parse: Parser) -> tuple[pl.Series, pl.Series]:
    """(values, parse(values)) for a column `_tidy` left untrimmed: the values `parse` rejects are
    trimmed (empty ones made null) and parsed again. Sound for a parser that rejects any value
    with white space around it, or reads it as it reads the value trimmed: the enumerations'
    names, the date, datetime and boolean readers."""
    parsed = parse(values)
    rejected = (parsed.is_null() & values.is_not_null()).arg_true()
    if rejected.len() == 0:
        return values, parsed
    trimmed = values.gather(rejected).to_frame("v").select(_clean_text("v")).to_series().alias(values.name)
    return values.scatter(rejected, trimmed), parsed.scatter(rejected, parse(trimmed))


def parsed_columns(frame: pl.DataFrame, parsers: dict[str, tuple[str, Parser]]) -> list[pl.Series]:
    """For each `column: (parsed name, parser)`, the column with what its parser rejected trimmed,
    and the parsed values under their name (parse_trimming_rejects)."""
    columns = []
    for name, (parsed_name, parse) in parsers.items():
        values, parsed = parse_trimming_rejects(frame.get_column(name), parse)
        columns += [values, parsed.alias(parsed_name)]
    return columns


def few_values_trimmed(values: pl.Series) -> pl.Series:
    """A text column of few distinct values as a Categorical, trimmed, empty values null: white
    space is looked for once per distinct value, not once per row (the sources of 29M consent
    events, cast included: 0.7-1.0 CPU-s instead of 1.4). Not `by_distinct`, which would gather
    every row's value from the distinct ones even when none needs trimming (0.1-0.2 CPU-s more)."""
    categorical = values.cast(pl.Categorical)
    distinct = categorical.unique().cast(pl.String).to_frame("v")
    if distinct.select(_needs_trimming("v").any()).item():
        return values.to_frame("v").select(_clean_text("v")).to_series().cast(pl.Categorical).alias(values.name)
    return categorical


def parse_date(values: pl.Series) -> pl.Series:
    """ISO `2026-12-01` or Finnish `1.12.2026`; null when missing or unparseable."""
    # Without Polars' cache of distinct values: birth and holding dates have tens of thousands,
    # and keeping them cached cost twice the reading (1M customers' holdings: 0.11 -> 0.05 s).
    fast = values.str.to_date("%Y-%m-%d", strict=False, exact=True, cache=False)
    return _with_fast_path(values, fast, (ISO_DATE, FINNISH_DATE), _parse_date_slow)


def parse_datetime(values: pl.Series) -> pl.Series:
    """ISO 8601 or Finnish datetimes as UTC instants; naive times are Europe/Helsinki.

    The fast path reads the plain spellings: ISO `2026-12-01T14:05:00` (or with a space), with or
    without a `+02:00` offset, with Arrow's ISO 8601 reader once one pattern has vouched for every
    character (see _read_plain_iso); and Finnish `1.12.2026 14.05`. The rest go through the general
    reader, which handles other offsets, fractions, the other Finnish forms and bare dates.
    """
    value = pl.col("v")
    plain, length = values.to_frame("v").select(
        value.str.contains(ISO_PLAIN_DATETIME).fill_null(False).alias("plain"), value.str.len_bytes().alias("length"),
    ).get_columns()
    text = values.to_arrow(compat_level=pl.CompatLevel.oldest())  # plain offsets and bytes, which Arrow's cast reads
    utc = _read_plain_iso(values, text, plain & (length == len("2026-12-01T14:05:00+02:00")), "UTC")
    naive = _read_plain_iso(values, text, plain & (length == len("2026-12-01T14:05:00")), None)
    del text
    # The Finnish pattern is tried only where the ISO one failed.
    others_at = (~plain).arg_true()
    finnish_at = others_at.filter(values.gather(others_at).str.contains(FINNISH_PLAIN_DATETIME))
    if finnish_at.len():
        read = values.gather(finnish_at).str.to_datetime("%d.%m.%Y %H.%M", time_unit="us", strict=False, exact=True,
                                                         cache=False)  # nearly all distinct
        naive = naive.scatter(finnish_at, read)
    fast = utc.fill_null(_helsinki_hours_to_utc(naive))
    return _with_fast_path(values, fast, (ISO_DATETIME, FINNISH_DATETIME), _parse_datetime_slow)


def _read_plain_iso(values: pl.Series, text, where: pl.Series, zone: str | None) -> pl.Series:
    """`values` at `where`, plain ISO datetimes (`text`: the same as an Arrow string array), as
    instants in `zone` (naive when None); null elsewhere.

    Arrow's ISO 8601 reader: for 10M customers' 29M events 2.1 CPU-s where reading each field
    from its fixed position took 6.8. It refuses a whole array for one impossible value; the
    pattern has checked every field's range, so that can only be a day past its month's end (a
    30 February): then the values whose date is not a real one are left null, for the general
    reader to refuse, and the rest read again (a refusal costs Arrow ~1.4 µs a refused value).
    """
    import pyarrow as pa  # only the consent log's reader needs it
    import pyarrow.compute as pc

    def read(chosen: pl.Series) -> pl.Series | None:
        try:
            return pl.Series(pc.cast(pc.if_else(chosen.to_arrow(), text, pa.scalar(None, text.type)),
                                     pa.timestamp("us", zone)))
        except pa.ArrowInvalid:
            return None

    instants = read(where)
    if instants is None:
        real_date = values.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False, exact=True).is_not_null()
        instants = read(where & real_date)
    if instants is None:  # refused for a reason the pattern does not foresee: all to the general reader
        instants = pl.repeat(None, values.len(), dtype=pl.Datetime("us", zone), eager=True)
    return instants


def _helsinki_hours_to_utc(naive: pl.Series) -> pl.Series:
    """`_helsinki_to_utc` on a column, with the time-zone lookup done once per hour: Helsinki's
    offset changes only on whole hours, so the offset of an hour is that of its values.

    When the hours from the first to the last are no more than the values, each of them is looked
    up and the column's offsets taken from that table by place (for 29M events 0.6 CPU-s less
    than a join); otherwise (an outlying year) the distinct hours are looked up and joined."""
    hour_us = 3_600_000_000
    hours = (naive.dt.epoch("us") // hour_us).alias("hour")
    first, last = hours.min(), hours.max()
    if first is None:
        return naive.cast(pl.Datetime("us", "UTC"))
    by_place = last - first < hours.len()
    table = (pl.int_range(first, last + 1, eager=True).alias("hour") if by_place else hours.drop_nulls().unique()) \
        .to_frame().with_columns(offset=_helsinki_to_utc((pl.col("hour") * hour_us).cast(pl.Datetime("us")))
                                 .dt.epoch("us") - pl.col("hour") * hour_us)
    offset = table.get_column("offset").gather(hours - first) if by_place \
        else hours.to_frame().join(table, on="hour", how="left", maintain_order="left").get_column("offset")
    return (naive.dt.epoch("us") + offset).cast(pl.Datetime("us", "UTC")).alias(naive.name)


def _helsinki_to_utc(naive: pl.Expr) -> pl.Expr:
    """Local Helsinki wall-clock time as a UTC instant (a time in the spring-forward gap reads as an hour later)."""
    local = naive.dt.replace_time_zone(str(HELSINKI), ambiguous="earliest", non_existent="null")
    shifted = (naive + pl.duration(hours=1)).dt.replace_time_zone(str(HELSINKI), ambiguous="earliest",
                                                                    non_existent="null")
    return pl.coalesce(local, shifted).dt.convert_time_zone("UTC")


BOOL_WORDS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}


def parse_bool(values: pl.Series) -> pl.Series:
    """Boolean words in Finnish, Swedish and English, compared case-insensitively; missing is
    false; null when unrecognised. Words spelled in lower case are looked up as they are; only
    the others are lower-cased first (at 1M customers 0.07 -> 0.02 s)."""
    parsed = values.replace_strict(BOOL_WORDS, default=None, return_dtype=pl.Boolean)
    others = (parsed.is_null() & values.is_not_null()).arg_true()
    if others.len():
        parsed = parsed.scatter(others, values.gather(others).str.to_lowercase()
                                .replace_strict(BOOL_WORDS, default=None, return_dtype=pl.Boolean))
    return parsed.set(values.is_null(), False).alias(values.name)


def _language(value: pl.Expr) -> pl.Expr:
    """A two-letter language code as it is; any other value means Finnish."""
    return pl.when(value.str.contains(r"^\p{L}{2}$")).then(value).otherwise(pl.lit("fi"))


def lower(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase()


def enum_values(values: pl.Series, dtype: pl.Enum) -> pl.Series:
    """The column as `dtype`, compared case-insensitively: values spelled as the enum's
    (lower-case) names are cast as they are; only the others are lower-cased first. Null where
    no name matches (the caller reports it)."""
    cast = values.cast(dtype, strict=False)
    others = (cast.is_null() & values.is_not_null()).arg_true()
    if others.len():
        cast = cast.scatter(others, values.gather(others).str.to_lowercase().cast(dtype, strict=False))
    return cast


# ---------------------------------------------------------------------------------------------
# The inputs of the contract (section 3)

CUSTOMER_COLUMNS = (
    "customer_id", "customer_type", "first_name", "last_name", "company_name", "email", "phone",
    "street_address", "postal_code", "city", "country", "language", "birth_date", "deceased_date",
    "paperless", "business_role",
)
# Trimmed by their readers (_tidy): the dates and paperless by their parsers, the columns of few
# distinct values once per distinct value (by_distinct), the email by its normalization (email_values).
CUSTOMER_PARSED = ("birth_date", "deceased_date", "paperless", "customer_type", "country", "language", "business_role",
                   "email")
CONSENT_CHANNEL_TYPE = pl.Enum((*CHANNELS, "all"))
CONSENT_PURPOSE_TYPE = pl.Enum(("marketing", "service", "survey", "all"))
CONSENT_STATUS_TYPE = pl.Enum(("granted", "denied"))
CONSENT_COLUMNS = ("customer_id", "channel", "purpose", "status", "recorded_at", "source")
HOLDING_COLUMNS = ("customer_id", "product_group", "start_date", "end_date")
LIST_KEY_COLUMNS = ("customer_id", "email", "phone", "first_name", "last_name", "street_address", "postal_code")
NAME_ADDRESS_COLUMNS = ("first_name", "last_name", "street_address", "postal_code")
LIST_COLUMNS = (*LIST_KEY_COLUMNS, "channel")


@dataclass(frozen=True)
class Loaded:
    """One parsed input: its typed frame and the facts the manifest and validate report."""

    label: str
    frame: pl.DataFrame
    sha256: str
    rows: int
    unknown_columns: tuple[str, ...]


def load_customers(spec: FileSpec, problems: ProblemLog) -> Loaded | None:
    table = read_table(spec, CUSTOMER_COLUMNS, problems, trimmed_by_parser=CUSTOMER_PARSED)
    if table is None or not require_columns(table, ("customer_id", "customer_type"), problems):
        return None
    frame = table.frame.with_columns(
        *parsed_columns(table.frame, {"birth_date": ("birth_date_parsed", parse_date),
                                      "deceased_date": ("deceased_date_parsed", parse_date),
                                      "paperless": ("paperless_parsed", parse_bool)}),
        # Categorical, as contact_frame keeps them (FEW_VALUES), but the country, which phones read as text.
        *by_distinct(table.frame.get_column("customer_type"),
                     customer_type=_clean_text("v").str.to_lowercase().cast(pl.Categorical)),
        *by_distinct(table.frame.get_column("country"), country=_clean_text("v").str.to_uppercase(),
                     country_malformed=~_clean_text("v").str.to_uppercase().str.contains(r"^[A-Z]{2}$")),
        *by_distinct(table.frame.get_column("language"),
                     language=_language(_clean_text("v").str.to_lowercase()).cast(pl.Categorical)),
        *by_distinct(table.frame.get_column("business_role"),
                     business_role=_clean_text("v").str.to_lowercase().cast(pl.Categorical)),
    )
    # Every output is in customer order. Exports usually come sorted by id: then the check is all
    # it costs (sorting copies every column: 4 GB at 10M customers).
    if not frame.get_column("customer_id").is_sorted():
        frame = frame.sort("customer_id")
    checks = RowChecks(RawTable(table.label, frame, table.sha256, table.columns_found, table.unknown_columns))
    checks.add(pl.col("customer_id").is_null(), "customer_id", "customer_id is missing")
    same_as_neighbour = pl.col("customer_id").eq(pl.col("customer_id").shift(1)) \
        | pl.col("customer_id").eq(pl.col("customer_id").shift(-1))
    duplicated = pl.col("customer_id").is_not_null() & same_as_neighbour  # sorted by id: duplicates are adjacent
    checks.add(duplicated, "customer_id", "duplicate customer_id")
    checks.add(pl.col("customer_type").is_null(), "customer_type",
                "customer_type is missing; expected private or business")
    checks.add(pl.col("customer_type").is_not_null() & ~pl.col("customer_type").is_in(["private", "business"]),
                "customer_type", "expected private or business")
    for name in ("birth_date", "deceased_date"):
        checks.add(pl.col(name).is_not_null() & pl.col(f"{name}_parsed").is_null(), name,
                    "not a date (expected 2026-12-01 or 1.12.2026)")
    checks.add(pl.col("paperless_parsed").is_null(), "paperless",
                "not a boolean (expected true/false, 1/0, yes/no, y/n, kyllä/ei, ja/nej)")
    checks.add(pl.col("country_malformed").fill_null(False), "country", "expected a two-letter ISO 3166-1 country code")
    checks.report(problems)
    frame = frame.select(
        "customer_id", "customer_type", "first_name", "last_name", "company_name", "email", "phone",
        "street_address", "postal_code", "city",
        pl.col("country").fill_null("FI"),
        pl.col("language").fill_null("fi"),
        pl.col("birth_date_parsed").alias("birth_date"),
        pl.col("deceased_date_parsed").alias("deceased_date"),
        pl.col("paperless_parsed").alias("paperless"),
        "business_role",
        LINE,
    )
    return Loaded(table.label, frame, table.sha256, frame.height, table.unknown_columns)


CONSENT_REQUIRED = ("customer_id", "channel", "purpose", "status", "recorded_at")
# Trimmed by their readers (_tidy): the enumerations and recorded_at where they reject a value,
# the source once per distinct value.
CONSENT_PARSED = ("channel", "purpose", "status", "recorded_at", "source")
# The log and the holdings are the biggest inputs (several rows per customer): they are parsed
# and checked a slice of rows at a time, so that only one slice's intermediate columns exist at once.
SLICE_ROWS = 2_000_000


def load_consents(spec: FileSpec, problems: ProblemLog,
                  share: Callable[[SharedWork], None] | None = None) -> Loaded | None:
    """The consent log, parsed and checked a slice at a time. `share(work)` is handed the slices'
    work as soon as it exists, so that another thread can take slices too (see SharedWork)."""
    reading = ProblemLog()  # the file's own problems: one that ends the slices is told after theirs
    tables = read_table_slices(spec, CONSENT_COLUMNS, reading, SLICE_ROWS, trimmed_by_parser=CONSENT_PARSED)
    first = next(tables) if tables is not None else None
    if first is None or not require_columns(first, CONSENT_REQUIRED, reading):
        problems.extend(reading.listed, reading.total)
        return None
    work = SharedWork(itertools.chain([first], tables), _checked_consent_slice)
    if share is not None:
        share(work)
    parts = work.results()
    for _part, found in parts:
        problems.extend(found.listed, found.total)
    problems.extend(reading.listed, reading.total)
    if any(part is None for part, _found in parts):
        return None
    frame = pl.concat([part for part, _found in parts])
    return Loaded(first.label, frame, first.sha256, frame.height, first.unknown_columns)


def _checked_consent_slice(table: RawTable | None) -> tuple[pl.DataFrame | None, ProblemLog]:
    found = ProblemLog()
    return (None if table is None else _consent_slice(table, found)), found


def _consent_slice(table: RawTable, problems: ProblemLog) -> pl.DataFrame:
    part = table.frame
    part = part.with_columns(parsed_columns(part, {
        "channel": ("channel_value", partial(enum_values, dtype=CONSENT_CHANNEL_TYPE)),
        "purpose": ("purpose_value", partial(enum_values, dtype=CONSENT_PURPOSE_TYPE)),
        "status": ("status_value", partial(enum_values, dtype=CONSENT_STATUS_TYPE)),
        "recorded_at": ("recorded_at_parsed", parse_datetime),
    }))
    checks = RowChecks(replace(table, frame=part))
    for name in CONSENT_REQUIRED:
        checks.add(pl.col(name).is_null(), name, f"{name} is missing")
    for name, dtype in (("channel", CONSENT_CHANNEL_TYPE), ("purpose", CONSENT_PURPOSE_TYPE),
                        ("status", CONSENT_STATUS_TYPE)):
        checks.add(pl.col(name).is_not_null() & pl.col(f"{name}_value").is_null(), name,
                   f"expected one of {', '.join(dtype.categories)}")
    checks.add(pl.col("recorded_at").is_not_null() & pl.col("recorded_at_parsed").is_null(),
                "recorded_at", "not a datetime (expected 2026-12-01T14:05:00 or 1.12.2026 14.05)")
    checks.report(problems)
    # Validated values are small enumerations from here on: a few bytes per event, not a string each.
    return part.select(
        "customer_id",
        pl.col("channel_value").alias("channel"),
        pl.col("purpose_value").alias("purpose"),
        (pl.col("status_value") == "denied").alias("denied"),
        pl.col("recorded_at_parsed").alias("recorded_at"),
        few_values_trimmed(part.get_column("source")),
        pl.col(LINE).cast(pl.UInt32),
    )


HOLDING_REQUIRED = ("customer_id", "product_group", "start_date")
# Trimmed by their readers (_tidy): the dates by their parser, the product group once per distinct value.
HOLDING_PARSED = ("start_date", "end_date", "product_group")


def load_holdings(spec: FileSpec, problems: ProblemLog, keep: pl.Expr | None = None) -> Loaded | None:
    """The holdings, parsed and checked a slice at a time. With `keep`, only the rows where it holds
    are kept (the build keeps the campaign's active holdings: all 20M rows of 10M customers took
    ~2 GB); `rows` counts every row."""
    tables = read_table_slices(spec, HOLDING_COLUMNS, problems, SLICE_ROWS, trimmed_by_parser=HOLDING_PARSED)
    first = next(tables) if tables is not None else None
    if first is None or not require_columns(first, HOLDING_REQUIRED, problems):
        return None
    parts, rows = [], 0
    for table in itertools.chain([first], tables):
        if table is None:
            return None
        part = _holding_slice(table, problems)
        rows += part.height
        parts.append(part if keep is None else part.filter(keep))
    return Loaded(first.label, pl.concat(parts), first.sha256, rows, first.unknown_columns)


def _holding_slice(table: RawTable, problems: ProblemLog) -> pl.DataFrame:
    frame = table.frame.with_columns(
        *parsed_columns(table.frame, {"start_date": ("start_parsed", parse_date),
                                      "end_date": ("end_parsed", parse_date)}),
        *by_distinct(table.frame.get_column("product_group"), product_group=_clean_text("v").str.to_lowercase()),
    )
    checks = RowChecks(replace(table, frame=frame))
    for name in HOLDING_REQUIRED:
        checks.add(pl.col(name).is_null(), name, f"{name} is missing")
    checks.add(pl.col("start_date").is_not_null() & pl.col("start_parsed").is_null(), "start_date",
                "not a date (expected 2026-12-01 or 1.12.2026)")
    checks.add(pl.col("end_date").is_not_null() & pl.col("end_parsed").is_null(), "end_date",
                "not a date (expected 2026-12-01 or 1.12.2026)")
    checks.report(problems)
    return frame.select(
        "customer_id", "product_group",
        pl.col("start_parsed").alias("start_date"),
        pl.col("end_parsed").alias("end_date"),
        LINE,
    )


def load_list(spec: FileSpec, list_channels: tuple[str, ...], problems: ProblemLog) -> Loaded | None:
    """A suppression list: key columns as given (normalized later), `channel` checked."""
    table = read_table(spec, LIST_COLUMNS, problems)
    if table is None:
        return None
    has_name_address = all(c in table.columns_found for c in NAME_ADDRESS_COLUMNS)
    if not any(c in table.columns_found for c in ("customer_id", "email", "phone")) and not has_name_address:
        problems.add(Problem(
            file=table.label, line=1,
            message="no key column: a list needs customer_id, email, phone, or all of "
                    "first_name, last_name, street_address, postal_code"
                    f" ({found_columns(table)})",
        ))
        return None
    frame = table.frame.with_columns(channel=lower("channel"))
    checks = RowChecks(RawTable(table.label, frame, table.sha256, table.columns_found, table.unknown_columns))
    checks.add(pl.col("channel").is_not_null() & ~pl.col("channel").is_in(list_channels), "channel",
                f"not one of this list's channels ({', '.join(list_channels)})")
    checks.report(problems)
    if not has_name_address:
        frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in NAME_ADDRESS_COLUMNS)
    return Loaded(table.label, frame, table.sha256, frame.height, table.unknown_columns)
