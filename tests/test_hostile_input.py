"""Broken input files (contract sections 3 and 8): never a traceback, the contract's exit code, a
`FILE:LINE` message, and no run directory (nor a temporary one) written.

The corpus is in tests/hostile/ (README.md there says what each file is); the 10 MB fields are
made at test time. A corpus file broken below the level of its columns breaks any input the same
way, so those are tried as customers, consents, holdings and a suppression list.
"""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from audiencecli.cli import app
from conftest import Campaign, consent, customer

CORPUS = Path(__file__).resolve().parent / "hostile"
ROLES = ("customers", "consents", "holdings", "list")
VALID = {
    "customers": b"customer_id,customer_type\nC1,private\n",
    "consents": b"customer_id,channel,purpose,status,recorded_at\n",
    "holdings": b"customer_id,product_group,start_date\n",
    "list": b"customer_id\nC9\n",
}
CUSTOMERS_HEADER = b"customer_id,customer_type,first_name,last_name,email,phone,street_address,postal_code,city\n"
CUSTOMER_ROW = b"C1,private,Aino,Virtanen,aino@example.fi,040 123 4567,Mannerheimintie 1,00100,Helsinki\n"
TEN_MB = b"x" * 10_000_000

# file → the line its error names (None: the file as a whole, e.g. not Parquet at all)
UNREADABLE = {
    "binary_noise.csv": 1,
    "gzipped.csv": 1,
    "wrong_encoding_utf16.csv": 1,
    "wrong_encoding_cp1252.csv": 3,
    "nul_bytes.csv": 3,
    "empty.csv": 1,
    "bom_only.csv": 1,
    "blank_first_line.csv": 1,
    "cr_line_ends.csv": 1,
    "quote_in_header.csv": 1,
    "missing_header.csv": 1,
    "wrong_delimiter.csv": 1,
    "duplicate_headers.csv": 1,
    "truncated_in_quotes.csv": 3,
    "unbalanced_quotes.csv": 3,
    "too_many_fields.csv": 3,
    "not_parquet.parquet": None,
    "truncated.parquet": None,
    "list_column.parquet": 1,
}


def campaign_with(root: Path, role: str, data: bytes, suffix: str = ".csv") -> Path:
    """A valid campaign whose `role` input is `data`; returns the config."""
    names = {"customers": "customers", "consents": "consents", "holdings": "holdings", "list": "stop"}
    paths = {r: f"{n}.csv" for r, n in names.items()}
    paths[role] = f"{names[role]}{suffix}"
    for other, content in VALID.items():
        (root / paths[other]).write_bytes(data if other == role else content)
    config = root / "campaign.toml"
    config.write_text(
        '[campaign]\nname = "hostile"\npurpose = "marketing"\nchannels = ["email", "post"]\n'
        'as_of = "2026-12-01"\nproduct_group = "pension"\n\n'
        f'[inputs]\ncustomers = "{paths["customers"]}"\nconsents = "{paths["consents"]}"\n'
        f'holdings = "{paths["holdings"]}"\n\n'
        f'[[suppressions]]\nname = "stop"\nkind = "internal"\npath = "{paths["list"]}"\n',
        encoding="utf-8",
    )
    return config


def build(config: Path, command: str = "build"):
    args = [command, str(config), "--quiet"]
    if command == "build":
        args += ["--out", str(config.parent / "run")]
    return CliRunner().invoke(app, args)


def names_file_and_line(stderr: str, file_name: str, line: int | None) -> bool:
    """The first line of the message is `FILE:LINE: ...` (or `FILE: ...` when no line applies)."""
    where = file_name if line is None else f"{file_name}:{line}"
    return re.match(rf"^(error: )?(\S*/)?{re.escape(where)}: \S", stderr) is not None


def every_line_names(stderr: str, file_name: str) -> bool:
    """One line per problem, each naming the file (a last line may count the problems not listed)."""
    return all(line.startswith("... and ") or re.match(rf"^(\S*/)?{re.escape(file_name)}(:\d+)?: \S", line)
               for line in stderr.splitlines())


def assert_failed_cleanly(result, root: Path, before: set[str]) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert not (root / "run").exists()
    assert {p.name for p in root.iterdir()} == before  # no temporary folder left either


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


# --- the corpus ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_a_file_that_cannot_be_read_is_a_data_error_naming_file_and_line(tmp_path, name, role):
    config = campaign_with(tmp_path, role, corpus(name), Path(name).suffix)
    before = {p.name for p in tmp_path.iterdir()}
    result = build(config)
    assert result.exit_code == 3, result.stderr
    file_name = {"list": "stop"}.get(role, role) + Path(name).suffix
    assert names_file_and_line(result.stderr, file_name, UNREADABLE[name]), result.stderr
    assert every_line_names(result.stderr, file_name), result.stderr
    assert_failed_cleanly(result, tmp_path, before)


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_validate_reports_a_file_that_cannot_be_read_as_build_does(tmp_path, name):
    config = campaign_with(tmp_path, "customers", corpus(name), Path(name).suffix)
    before = {p.name for p in tmp_path.iterdir()}
    result = build(config, "validate")
    assert result.exit_code == 3, result.stderr
    assert names_file_and_line(result.stderr, "customers" + Path(name).suffix, UNREADABLE[name]), result.stderr
    assert_failed_cleanly(result, tmp_path, before)


def test_a_row_cut_short_is_a_data_error_on_its_line(tmp_path):
    config = campaign_with(tmp_path, "customers", corpus("truncated_row.csv"))
    result = build(config)
    assert result.exit_code == 3
    assert names_file_and_line(result.stderr, "customers.csv", 3), result.stderr
    assert "column customer_type" in result.stderr


def test_a_customers_file_with_only_a_header_is_a_valid_empty_input(tmp_path):
    result = build(campaign_with(tmp_path, "customers", corpus("header_only.csv")))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "run" / "email.csv").read_text(encoding="utf-8").count("\n") == 1
    assert (tmp_path / "run" / "exclusions.csv").read_text(encoding="utf-8").count("\n") == 1


@pytest.mark.parametrize("name, line, column", [
    ("integer_date.parquet", 3, "deceased_date"),
    ("boolean_customer_type.parquet", 2, "customer_type"),
])
def test_parquet_column_of_the_wrong_type_is_a_data_error_on_its_row(tmp_path, name, line, column):
    config = campaign_with(tmp_path, "customers", corpus(name), ".parquet")
    before = {p.name for p in tmp_path.iterdir()}
    result = build(config)
    assert result.exit_code == 3
    assert names_file_and_line(result.stderr, "customers.parquet", line), result.stderr
    assert f"column {column}" in result.stderr.splitlines()[0]
    assert_failed_cleanly(result, tmp_path, before)


def test_parquet_column_of_nulls_only_is_all_missing(tmp_path):
    result = build(campaign_with(tmp_path, "customers", corpus("null_column.parquet"), ".parquet"))
    assert result.exit_code == 0, result.stderr


def test_parquet_extra_column_of_any_type_is_ignored(tmp_path):
    result = build(campaign_with(tmp_path, "customers", corpus("nested_extra_column.parquet"), ".parquet"))
    assert result.exit_code == 0, result.stderr


# --- a 10 MB field ---------------------------------------------------------------------------

def test_a_10_mb_field_in_a_column_the_contract_does_not_name_builds(tmp_path):
    data = CUSTOMERS_HEADER.replace(b"\n", b",notes\n") + CUSTOMER_ROW + b"C2,private,Bo,Virtanen,,,,,," + TEN_MB + b"\n"
    result = build(campaign_with(tmp_path, "customers", data))
    assert result.exit_code == 0, result.stderr[:500]


def test_a_10_mb_value_is_a_short_error_that_does_not_quote_it(tmp_path):
    data = CUSTOMERS_HEADER + CUSTOMER_ROW + b"C2," + TEN_MB + b",Aino,Virtanen,,,,,\n"
    result = build(campaign_with(tmp_path, "customers", data))
    assert result.exit_code == 3
    assert names_file_and_line(result.stderr, "customers.csv", 3), result.stderr[:500]
    assert len(result.stderr) < 1000 and "xxx" not in result.stderr


def test_a_10_mb_quoted_field_never_closed_is_a_data_error_on_its_line(tmp_path):
    data = CUSTOMERS_HEADER + CUSTOMER_ROW + b'C2,private,"' + TEN_MB + b"\n"
    result = build(campaign_with(tmp_path, "customers", data))
    assert result.exit_code == 3
    assert names_file_and_line(result.stderr, "customers.csv", 3), result.stderr[:500]


def test_a_10_mb_header_is_a_data_error_on_line_1(tmp_path):
    data = b"customer_id,customer_type," + TEN_MB + b"\n" + b"C1,private,x\n"
    result = build(campaign_with(tmp_path, "customers", data))
    assert result.exit_code == 3
    assert names_file_and_line(result.stderr, "customers.csv", 1), result.stderr[:500]
    assert len(result.stderr) < 1000


# --- a header of any width (a broken export's millions of columns) ---------------------------
# Each command runs as its own process with a timeout, so that a reader slower than linear in the
# header's width fails the test instead of hanging it (quadratic took hours at these widths).

def run_command(command: str, config: Path, *args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    where = ["--out", str(config.parent / "run")] if command == "build" else []
    return subprocess.run([sys.executable, "-m", "audiencecli", command, str(config), *args, *where, "--quiet"],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("command, args", [("build", ()), ("validate", ()), ("explain", ("C1",))])
def test_a_customers_header_of_300000_extra_columns_is_read_in_seconds(tmp_path, command, args):
    extra = 300_000
    header = "customer_id,customer_type,email," + ",".join(f"extra{i}" for i in range(extra))
    data = f"{header}\nC1,private,aino@example.fi\nC2,private,bo@example.fi{',' * extra}\n".encode()
    done = run_command(command, campaign_with(tmp_path, "customers", data), *args)
    assert done.returncode == 0, done.stderr[:1000]
    assert len(done.stdout) + len(done.stderr) < 10_000  # no message lists the columns


def test_validate_names_a_few_unknown_columns_and_counts_the_others(tmp_path):
    header = "customer_id,customer_type," + ",".join(f"extra{i}" for i in range(5000))
    result = build(campaign_with(tmp_path, "customers", f"{header}\nC1,private\n".encode()), "validate")
    assert result.exit_code == 0, result.stderr
    warning = next(line for line in result.stderr.splitlines() if "unknown columns" in line)
    assert "unknown columns extra0, extra1," in warning and warning.endswith("and 4990 more (ignored)")


def test_a_parquet_file_of_100000_columns_is_read_in_seconds(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    extra = 100_000
    names = ["customer_id", "customer_type", "email", *(f"extra{i}" for i in range(extra))]
    arrays = [pa.array(["C1"]), pa.array(["private"]), pa.array(["aino@example.fi"]),
              *[pa.nulls(1, pa.string())] * extra]
    pq.write_table(pa.Table.from_arrays(arrays, names=names), tmp_path / "customers.parquet")
    config = campaign_with(tmp_path, "customers", (tmp_path / "customers.parquet").read_bytes(), ".parquet")
    done = run_command("build", config)
    assert done.returncode == 0, done.stderr[:1000]


def test_a_row_with_more_fields_than_a_wide_header_is_a_data_error_on_its_line(tmp_path):
    extra = 5000
    header = "customer_id,customer_type," + ",".join(f"extra{i}" for i in range(extra))
    data = f"{header}\nC1,private\nC2,private{',' * (extra + 1)}\n".encode()
    result = build(campaign_with(tmp_path, "customers", data))
    assert result.exit_code == 3
    assert names_file_and_line(result.stderr, "customers.csv", 3), result.stderr[:500]
    assert "fields but the header has" in result.stderr


# --- the real command ------------------------------------------------------------------------

def test_the_command_prints_no_traceback_for_binary_noise(tmp_path):
    config = campaign_with(tmp_path, "customers", corpus("binary_noise.csv"))
    done = subprocess.run([sys.executable, "-m", "audiencecli", "build", str(config), "--out", str(tmp_path / "run"),
                           "--quiet"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert names_file_and_line(done.stderr, "customers.csv", 1), done.stderr
    assert not (tmp_path / "run").exists()


# --- fuzz: valid inputs mutated at random ----------------------------------------------------

TOKENS = [b'"', b",", b";", b"\t", b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xe4", b"\xef\xbb\xbf", b'""',
          b"all", b"denied", b"2026-13-45", b"C1", b"\\", b"\xe2\x80\xa8", b"\x1c"]
FILES = ("customers.csv", "consents.csv", "holdings.csv", "stop.csv")

mutation = st.tuples(
    st.sampled_from(["delete", "insert", "replace", "truncate", "repeat_line", "swap_lines"]),
    st.floats(0, 1), st.floats(0, 1),
    st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=8),
)


def mutate(data: bytes, mutations) -> bytes:
    for op, where, other, token in mutations:
        at = int(where * len(data))
        lines = data.split(b"\n")
        row, row2 = int(where * (len(lines) - 1)), int(other * (len(lines) - 1))
        if op == "delete":
            data = data[:at] + data[at + 1 + int(other * 40):]
        elif op == "insert":
            data = data[:at] + token + data[at:]
        elif op == "replace":
            data = data[:at] + token[:1] + data[at + 1:]
        elif op == "truncate":
            data = data[:at]
        elif op == "repeat_line":
            data = b"\n".join(lines[:row + 1] + lines[row:])
        else:
            lines[row], lines[row2] = lines[row2], lines[row]
            data = b"\n".join(lines)
    return data


def fuzz_campaign(root: Path) -> Path:
    campaign = Campaign(root=root)
    campaign.campaign = {"product_group": "pension", "holdout_percent": 10, "business_roles": ["ceo"]}
    campaign.customers = [customer("C1"), customer("C2", customer_type="business", business_role="ceo"),
                          customer("C3", email="", deceased_date="1.6.2026"), customer("C4", paperless="yes")]
    campaign.consents = [consent("C1"), consent("C2", "email", "marketing", "denied", "2026-06-01 12:00"),
                         consent("C4", "sms", at="1.12.2026 9.30")]
    campaign.holdings = [{"customer_id": "C3", "product_group": "pension", "start_date": "2020-01-01",
                          "end_date": "2030-12-31"}]
    campaign.lists = [{"name": "stop", "kind": "internal",
                       "rows": [{"customer_id": "C2"}, {"email": "aino4@example.fi", "channel": "email"}]}]
    return campaign.write()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(FILES), st.lists(mutation, min_size=1, max_size=4))
def test_a_mutated_input_builds_or_fails_with_a_located_data_error(file_name, mutations):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = fuzz_campaign(root)
        path = root / file_name
        path.write_bytes(mutate(path.read_bytes(), mutations))
        before = {p.name for p in root.iterdir()}
        result = build(config)
        assert result.exit_code in (0, 3), (result.exit_code, result.stderr)
        if result.exit_code == 3:
            assert_failed_cleanly(result, root, before)
            assert every_line_names(result.stderr, file_name), result.stderr
        else:
            assert_a_whole_run(root / "run")


def assert_a_whole_run(run: Path) -> None:
    """Every customer decided once on every channel, as the summary counts them."""
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    with (run / "exclusions.csv").open(encoding="utf-8", newline="") as handle:
        exclusions = list(csv.DictReader(handle))
    decided = set()
    for channel in summary["channels"]:
        with (run / f"{channel}.csv").open(encoding="utf-8", newline="") as handle:
            sent = [r["customer_id"] for r in csv.DictReader(handle)]
        excluded = [r["customer_id"] for r in exclusions if r["channel"] == channel]
        ids = sent + excluded
        assert len(ids) == len(set(ids)) == summary["channels"][channel]["candidates"]
        assert len(ids) == summary["inputs"]["customers"]
        decided.add(frozenset(ids))
    assert len(decided) == 1
