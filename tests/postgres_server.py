"""A throw-away PostgreSQL server for the database tests and bench/database.py: initdb and pg_ctl
in a temporary folder, listening on 127.0.0.1 with a password, as the postgres user when run as
root (initdb refuses root), stopped and removed at the end."""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ServerUnavailable(Exception):
    """PostgreSQL is not installed here, or its server could not start; the message says which."""


@contextmanager
def throwaway_postgres() -> Iterator[tuple[str, str]]:
    """(the server's URI, its password) while the server runs."""
    initdb = shutil.which("initdb") or (sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [None])[-1]
    if initdb is None:
        raise ServerUnavailable("PostgreSQL is not installed (Debian package postgresql; .ci/run installs it "
                                "when it can)")
    bin_dir = Path(initdb).parent
    folder = Path(tempfile.mkdtemp(prefix="audience-pg-"))
    as_server = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    password = secrets.token_urlsafe(12)
    (folder / "pw").write_text(password, encoding="utf-8")
    data = folder / "data"
    started = False
    try:
        if as_server:
            shutil.chown(folder, "postgres")
            shutil.chown(folder / "pw", "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        subprocess.run([*as_server, str(bin_dir / "initdb"), "-D", str(data), "-U", "audience",
                        f"--pwfile={folder / 'pw'}", "-A", "scram-sha-256"], check=True, capture_output=True, timeout=120)
        subprocess.run([*as_server, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
                        "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}", "start"],
                       check=True, capture_output=True, timeout=120)
        started = True
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, LookupError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise ServerUnavailable(f"a throw-away PostgreSQL server could not start here "
                                f"({error.__class__.__name__})") from None
    try:
        yield f"postgresql://audience:{password}@127.0.0.1:{port}/postgres", password
    finally:
        if started:
            subprocess.run([*as_server, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                           capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
