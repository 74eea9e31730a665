"""A database query as an input (contract section 13): PostgreSQL or SQLite through ADBC.

The connection URI is read from the environment variable the config names and is never
written anywhere: not in a message (a driver's message has the URI and its password taken
out), not in the manifest, which records the query, the rows and the sha256 of the rows as read
in a canonical form (`canonical_digest`).
"""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import polars as pl

from ..config import FileSpec
from ..errors import Problem, ProblemLog
from .readers import as_text

SQLITE_PREFIX = "sqlite:///"


def read_query(spec: FileSpec, label: str, problems: ProblemLog) -> tuple[pl.DataFrame, str] | None:
    """(the query's rows as text columns, their canonical sha256), or None after adding the problem."""
    uri = os.environ.get(spec.uri_env or "")
    if not uri:
        problems.add(Problem(file=label, message=f"environment variable {spec.uri_env} is not set (or empty); "
                                                 "it must hold the database URI"))
        return None
    try:
        connection = _connect(uri)
    except _UsageProblem as problem:
        problems.add(Problem(file=label, message=str(problem)))
        return None
    except Exception as error:  # noqa: BLE001 - any driver failure is one line, the URI taken out
        problems.add(Problem(file=label, message=f"cannot connect to the database: {_scrubbed(error, uri)}"))
        return None
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(spec.query)
            table = cursor.fetch_arrow_table()
    except Exception as error:  # noqa: BLE001 - a failing query is a data error naming the role
        problems.add(Problem(file=label, message=f"the query failed: {_scrubbed(error, uri)}"))
        return None
    frame = pl.from_arrow(table)
    if isinstance(frame, pl.Series):
        frame = frame.to_frame()
    texts = {name: as_text(pl.col(name), dtype) for name, dtype in frame.schema.items()}
    if unreadable := [name for name, text in texts.items() if text is None]:
        problems.add(Problem(file=label, column=unreadable[0],
                             message=f"has database type {frame.schema[unreadable[0]]}, which cannot be read as text"))
        return None
    frame = frame.select(text.alias(name) for name, text in texts.items())
    return frame, canonical_digest(frame)


def canonical_digest(frame: pl.DataFrame) -> str:
    """sha256 of the rows as read, as CSV: UTF-8, comma, LF line ends, the header first, a
    missing value empty, quotes only where a value needs them (Polars' `write_csv`)."""
    buffer = io.BytesIO()
    frame.write_csv(buffer, line_terminator="\n", null_value="")
    return hashlib.sha256(buffer.getvalue()).hexdigest()


class _UsageProblem(Exception):
    """A URI the tool cannot use, told without the URI."""


def _connect(uri: str):
    scheme = uri.split(":", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        import adbc_driver_postgresql.dbapi

        return adbc_driver_postgresql.dbapi.connect(uri)
    if scheme == "sqlite":
        if not uri.startswith(SQLITE_PREFIX):
            raise _UsageProblem("a SQLite URI is sqlite:////absolute/path.db or sqlite:///relative.db")
        path = Path(unquote(uri[len(SQLITE_PREFIX):]))  # four slashes: an absolute path
        if not path.is_file():
            raise _UsageProblem("the SQLite database file of the URI does not exist")
        import adbc_driver_sqlite.dbapi

        return adbc_driver_sqlite.dbapi.connect(str(path))
    raise _UsageProblem(f"the URI's scheme {scheme!r} is not supported; use postgresql:// or sqlite:///")


def _scrubbed(error: Exception, uri: str) -> str:
    """The driver's message, first line only, without the URI, its password or its user."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
    parts = urlsplit(uri)
    secrets = [uri, parts.password, unquote(parts.password or ""), parts.username, parts.netloc]
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
