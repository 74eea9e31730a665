#!/usr/bin/env python3
"""The customers read from PostgreSQL vs the same rows from Parquet, as the build reads them.

    .venv/bin/python bench/database.py [DATA_DIR]

DATA_DIR (default bench/data/1m-parquet, made by bench/run.py or `audience sample ... --format
parquet`) holds customers.parquet. A throw-away PostgreSQL server is started in a temporary
folder (tests/postgres_server.py, the tests' own), the customers
are loaded into a table with ADBC, and then each is read three times through the build's own
reader (`sources.readers.read_table`: text columns, trimmed, with their row numbers): the query
`SELECT * FROM customers` through ADBC, and the Parquet file; and the query's bare result through
Polars' `read_database_uri` with ADBC and with connectorx (`pip install connectorx`), the other
connector candidate. Prints the medians and the query / Parquet ratio.
"""
from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

import polars as pl

from audiencecli.config import FileSpec
from audiencecli.errors import ProblemLog
from audiencecli.sources import CUSTOMER_COLUMNS
from audiencecli.sources.readers import read_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from postgres_server import ServerUnavailable, throwaway_postgres  # noqa: E402  (the tests' own server)


def main(argv: list[str]) -> int:
    data = Path(argv[0] if argv else "bench/data/1m-parquet")
    customers = data / "customers.parquet"
    try:
        with throwaway_postgres() as (uri, _password):
            measure(uri, customers)
    except ServerUnavailable as reason:
        print(reason, file=sys.stderr)
        return 2
    return 0


def measure(uri: str, customers: Path) -> None:
    """Load the customers into the server at `uri`, then time the reads and print them."""
    import adbc_driver_postgresql.dbapi

    frame = pl.read_parquet(customers)
    with adbc_driver_postgresql.dbapi.connect(uri) as connection, connection.cursor() as cursor:
        cursor.adbc_ingest("customers", frame.to_arrow(), mode="create")
        connection.commit()
    os.environ["AUDIENCE_BENCH_PG"] = uri

    def timed(spec: FileSpec) -> float:
        started = time.perf_counter()
        table = read_table(spec, CUSTOMER_COLUMNS, ProblemLog())
        assert table is not None and table.frame.height == frame.height
        return time.perf_counter() - started

    query = FileSpec(path=Path("customers (query)"), query="SELECT * FROM customers", uri_env="AUDIENCE_BENCH_PG")
    parquet = FileSpec(path=customers)

    def connectorx() -> float:
        """The other connector candidate, the query's result only (no text columns, no checks)."""
        started = time.perf_counter()
        pl.read_database_uri("SELECT * FROM customers", uri, engine="connectorx")
        return time.perf_counter() - started

    def adbc_only() -> float:
        started = time.perf_counter()
        pl.read_database_uri("SELECT * FROM customers", uri, engine="adbc")
        return time.perf_counter() - started

    runs = {"postgresql": lambda: timed(query), "parquet": lambda: timed(parquet), "adbc result only": adbc_only}
    if importlib.util.find_spec("connectorx") is not None:
        runs["connectorx result only"] = connectorx
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(3):  # interleaved, so that the machine's load falls on all alike
        for name, run in runs.items():
            times[name].append(run())
    pg, pq = statistics.median(times["postgresql"]), statistics.median(times["parquet"])
    print(f"{frame.height:,} customers, median s (per run):")
    for name, values in times.items():
        print(f"  {name:24s} {statistics.median(values):6.2f}  ({' / '.join(f'{t:.2f}' for t in values)})")
    print(f"query / Parquet {pg / pq:.1f}x")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
