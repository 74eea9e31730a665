"""The benchmark's DuckDB peer (bench/peer_duckdb.py) decides exactly as `audience build` does.

The peer is the yardstick the build is measured against (bench/run.py), so it must make the
same decisions; it is also an independent second implementation of the contract's rules. Needs
duckdb (`pip install -e '.[bench]'`); skipped without it.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

duckdb = pytest.importorskip("duckdb")

import phonenumbers  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from audiencecli.cli import app  # noqa: E402
from audiencecli.sample import write_sample  # noqa: E402

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


peer = _module("peer_duckdb")
variants = _module("variants")
compare = _module("compare")
floor = _module("floor")


@pytest.fixture(scope="module", params=["csv", "parquet"])
def sample(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"sample-{request.param}")
    write_sample(folder / "data", 2000, seed=3, fmt=request.param)
    return folder


def test_peer_makes_the_same_decisions_as_build(sample):
    # The peer has no contact pressure or arbitration: both decide the campaign without them.
    config = variants.without_pressure(sample / "data" / "campaign.toml")
    result = CliRunner().invoke(app, ["build", str(config), "--out", str(sample / "build"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert peer.main([str(config), str(sample / "peer")]) == 0

    found = compare.compare(sample / "build", sample / "peer")
    assert found["decisions_a"] == 2000 * 5
    assert found["decision_categories"] == []
    assert found["decision_differences"] == 0
    assert found["all_reasons_differences"] == 0
    assert found["value_differences"] == 0
    assert found["equal"]


def test_floor_writes_five_times_the_customers(sample, capsys):
    config = sample / "data" / "campaign.toml"
    out = sample / "floor"
    assert floor.main([str(config), str(out)]) == 0
    files = sorted(out.iterdir())
    assert [f.stem for f in files] == ["email", "phone", "post", "sms", "social"]
    import polars as pl
    read = pl.read_parquet if files[0].suffix == ".parquet" else (lambda f: pl.read_csv(f, infer_schema=False))
    assert [read(f).height for f in files] == [2000] * 5


@pytest.fixture()
def con():
    connection = duckdb.connect()
    peer.setup(connection)
    yield connection
    connection.close()


@pytest.mark.parametrize("text, utc", [
    ("2026-06-15T17:09:39+03:00", "2026-06-15 14:09:39"),
    ("2026-06-15 17:08:07", "2026-06-15 14:08:07"),          # naive = Helsinki summer time
    ("2026-01-15T17:08", "2026-01-15 15:08:00"),              # Helsinki winter time
    ("15.6.2026 9.05", "2026-06-15 06:05:00"),                # Finnish
    ("2025-10-26 03:30:00", "2025-10-26 00:30:00"),           # repeated hour: the earlier instant
    ("2025-03-30 03:30:00", "2025-03-30 01:30:00"),           # skipped hour: read an hour later
    ("2026-12-01", "2026-11-30 22:00:00"),                    # a date alone: start of the day
    ("2026-12-01T10:00:00Z", "2026-12-01 10:00:00"),
])
def test_peer_reads_datetimes_as_the_build_does(con, text, utc):
    value = con.execute("SELECT strftime(parse_ts(clean(?)) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')",
                        [text]).fetchone()[0]
    assert value == utc


def test_peer_phone_fast_path_agrees_with_libphonenumber(con):
    values = [
        "040 123 4567", "+358 40 1234567", "00358401234567", "040-1234567", "(09) 123 4567", "09 123 4567",
        "+358401234567", "050 123 45", "045 1234567890", "0201234567", "0800 12345", "018 12345",
        "+358 18 12345", "+46 70 123 45 67", "+358 123", "040 12a 4567", "0600 12345", "029 123 4567",
        "013 123456", "+358 9 1234 5678", "0401234", "040123456789",
    ]
    con.execute("CREATE TEMP TABLE src AS SELECT unnest(?::VARCHAR[]) AS raw, 'FI' AS region", [values])
    peer.create_phone_table(con, ["SELECT raw, region FROM src"])
    rows = con.execute("SELECT raw, e164, mobile, problem FROM phones").fetchall()
    assert len(rows) == len(set(values))
    for raw, e164, mobile, problem in rows:
        expected = peer._parse_phone(raw, "FI")
        assert (e164, mobile, problem) == (expected["e164"], expected["mobile"], expected["problem"]), raw
        if e164:
            assert phonenumbers.is_valid_number(phonenumbers.parse(e164))


def test_the_twin_without_pressure_drops_the_caps_arbitration_and_history_only(tmp_path):
    text = """[campaign]\nname = "x"\n\n[inputs]\ncustomers = "c.csv"\ncontact_history = "h.csv"\n\n""" \
        """[[pressure]]\nname = "m"\nmax_contacts = 2\n\n[arbitration]\norder = ["email"]\n\n""" \
        """[[suppressions]]\nname = "own"\n"""
    assert variants.without_pressure_text(text) == \
        """[campaign]\nname = "x"\n\n[inputs]\ncustomers = "c.csv"\n\n[[suppressions]]\nname = "own"\n"""


def test_the_peer_refuses_a_campaign_with_caps(sample):
    assert peer.main([str(sample / "data" / "campaign.toml"), str(sample / "peer-refused")]) == 2
