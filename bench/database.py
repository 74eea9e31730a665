#!/usr/bin/env python3
"""The customers read from PostgreSQL vs the same rows from Parquet, as the build reads them.

    .venv/bin/python bench/database.py [DATA_DIR]

DATA_DIR (default bench/data/1m-parquet, made by bench/run.py or `audience sample ... --format
parquet`) holds customers.parquet. A throw-away PostgreSQL server is started in a temporary
folder (initdb + pg_ctl, as the tests do; as the postgres user when run as root), the customers
are loaded into a table with ADBC, and then each is read three times through the build's own
reader (`sources.readers.read_table`: text columns, trimmed, with their row numbers): the query
`SELECT * FROM customers` through ADBC, and the Parquet file; and the query's bare result through
Polars' `read_database_uri` with ADBC and with connectorx (`pip install connectorx`), the other
connector candidate. Prints the medians and the query / Parquet ratio.
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from audiencecli.config import FileSpec
from audiencecli.errors import ProblemLog
from audiencecli.sources import CUSTOMER_COLUMNS
from audiencecli.sources.readers import read_table


def main(argv: list[str]) -> int:
    data = Path(argv[0] if argv else "bench/data/1m-parquet")
    customers = data / "customers.parquet"
    initdb = shutil.which("initdb") or (sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [None])[-1]
    if initdb is None:
        print("PostgreSQL is not installed", file=sys.stderr)
        return 2
    bin_dir = Path(initdb).parent
    folder = Path(tempfile.mkdtemp(prefix="audience-pg-bench-"))
    as_server = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    password = secrets.token_urlsafe(12)
    (folder / "pw").write_text(password, encoding="utf-8")
    if as_server:
        shutil.chown(folder, "postgres")
        shutil.chown(folder / "pw", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pg_data = folder / "data"
    subprocess.run([*as_server, str(bin_dir / "initdb"), "-D", str(pg_data), "-U", "audience",
                    f"--pwfile={folder / 'pw'}", "-A", "scram-sha-256"], check=True, capture_output=True)
    subprocess.run([*as_server, str(bin_dir / "pg_ctl"), "-D", str(pg_data), "-l", str(folder / "log"), "-w",
                    "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}", "start"], check=True,
                   capture_output=True)
    uri = f"postgresql://audience:{password}@127.0.0.1:{port}/postgres"
    try:
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

        times = {"postgresql": [], "parquet": [], "adbc result only": [], "connectorx result only": []}
        for _ in range(3):  # interleaved, so that the machine's load falls on all alike
            times["postgresql"].append(timed(query))
            times["parquet"].append(timed(parquet))
            times["adbc result only"].append(adbc_only())
            try:
                times["connectorx result only"].append(connectorx())
            except ImportError:
                times.pop("connectorx result only", None)
        pg, pq = statistics.median(times["postgresql"]), statistics.median(times["parquet"])
        print(f"{frame.height:,} customers, median s (per run):")
        for name, values in times.items():
            print(f"  {name:24s} {statistics.median(values):6.2f}  ({' / '.join(f'{t:.2f}' for t in values)})")
        print(f"query / Parquet {pg / pq:.1f}x")
    finally:
        subprocess.run([*as_server, str(bin_dir / "pg_ctl"), "-D", str(pg_data), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
