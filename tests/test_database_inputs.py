"""Database queries as inputs (contract section 13): `{ query = "SELECT ...", uri_env = "VAR" }`,
PostgreSQL (a real, throw-away server started here) and SQLite. The URI and its password appear
in no config, manifest, message or output."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiencecli.cli import app
from audiencecli.sources.database import canonical_digest
from conftest import CUSTOMER_HEADER, consent, customer, write_csv
from postgres_server import ServerUnavailable, throwaway_postgres

runner = CliRunner()
QUERY = "SELECT * FROM crm_customers ORDER BY customer_id"


def campaign_with_query(root: Path, uri_env: str = "CRM_DB_URI", query: str = QUERY) -> Path:
    write_csv(root / "consents.csv", [consent("C1"), consent("C2")],
              ["customer_id", "channel", "purpose", "status", "recorded_at", "source"])
    config = root / "campaign.toml"
    config.write_text(
        '[campaign]\nname = "db-campaign"\npurpose = "marketing"\nchannels = ["email", "sms"]\nas_of = 2026-12-01\n'
        f'[inputs]\ncustomers = {{ query = {json.dumps(query)}, uri_env = "{uri_env}" }}\nconsents = "consents.csv"\n',
        encoding="utf-8")
    return config


def build(config: Path, env: dict[str, str]):
    out = config.parent / "run"
    result = runner.invoke(app, ["build", str(config), "--out", str(out), "--quiet"], env=env)
    return result, out


def rows_of(*customers: dict) -> list[tuple]:
    return [tuple(c.get(k) or None for k in CUSTOMER_HEADER) for c in customers]


CUSTOMERS = (customer("C1", phone="358401234567"), customer("C2"))


# ---------------------------------------------------------------------------------------------
# SQLite


@pytest.fixture
def sqlite_uri(tmp_path) -> str:
    database = tmp_path / "crm.db"
    with sqlite3.connect(database) as connection:
        connection.execute(f"CREATE TABLE crm_customers ({', '.join(f'{c} TEXT' for c in CUSTOMER_HEADER)})")
        connection.executemany(f"INSERT INTO crm_customers VALUES ({', '.join('?' * len(CUSTOMER_HEADER))})",
                               rows_of(*CUSTOMERS))
    return f"sqlite:///{database}"  # an absolute path: four slashes


def test_customers_from_a_sqlite_query(tmp_path, sqlite_uri):
    result, out = build(campaign_with_query(tmp_path), {"CRM_DB_URI": sqlite_uri})
    assert result.exit_code == 0, result.output
    assert (out / "sms.csv").read_text(encoding="utf-8").splitlines()[1].startswith("C1,+358401234567,")


def test_a_relative_sqlite_uri_is_relative_to_the_working_directory(tmp_path, sqlite_uri, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result, _ = build(campaign_with_query(tmp_path), {"CRM_DB_URI": "sqlite:///crm.db"})
    assert result.exit_code == 0, result.output


def test_the_manifest_records_the_query_rows_and_digest_never_the_uri(tmp_path, sqlite_uri):
    result, out = build(campaign_with_query(tmp_path), {"CRM_DB_URI": sqlite_uri})
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    customers = next(fact for fact in manifest["inputs"] if fact["role"] == "customers")
    assert customers["query"] == QUERY and customers["rows"] == 2 and customers["path"] is None
    assert manifest["config"]["inputs"]["customers"] == {"query": QUERY, "uri_env": "CRM_DB_URI"}
    assert "crm.db" not in json.dumps(manifest)


def test_the_digest_is_of_the_rows_as_read_in_canonical_csv():
    import polars as pl
    frame = pl.DataFrame({"customer_id": ["C1", None], "note": ['a,"b"', "c"]})
    import hashlib
    assert canonical_digest(frame) == hashlib.sha256(b'customer_id,note\nC1,"a,""b"""\n,c\n').hexdigest()


def test_an_unset_variable_is_a_data_error(tmp_path):
    result, out = build(campaign_with_query(tmp_path), {"CRM_DB_URI": ""})
    assert result.exit_code == 3
    assert result.output.strip() == ("customers (query): environment variable CRM_DB_URI is not set (or empty); "
                                     "it must hold the database URI")
    assert not out.exists()


def test_a_failing_query_is_a_data_error_of_one_line(tmp_path, sqlite_uri):
    result, out = build(campaign_with_query(tmp_path, query="SELECT * FROM nothere"), {"CRM_DB_URI": sqlite_uri})
    assert result.exit_code == 3
    assert result.output.startswith("customers (query): the query failed:")
    assert len(result.output.strip().splitlines()) == 1
    assert "crm.db" not in result.output
    assert not out.exists()


def test_a_bad_row_is_named_by_its_row_in_the_result(tmp_path):
    database = tmp_path / "crm.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE crm_customers (customer_id TEXT, customer_type TEXT)")
        connection.executemany("INSERT INTO crm_customers VALUES (?, ?)", [("C1", "private"), ("C2", "person")])
    result, _ = build(campaign_with_query(tmp_path), {"CRM_DB_URI": f"sqlite:///{database}"})
    assert result.exit_code == 3
    assert "customers (query):ROW 2: column customer_type: expected private or business" in result.output


def test_a_value_over_1000_characters_is_named_by_its_row_in_the_result(tmp_path):
    database = tmp_path / "crm.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE crm_customers (customer_id TEXT, customer_type TEXT, email TEXT)")
        connection.executemany("INSERT INTO crm_customers VALUES (?, ?, ?)",
                               [("C1", "private", "aino@example.fi"), ("C2", "private", "a" * 1001)])
    result, out = build(campaign_with_query(tmp_path), {"CRM_DB_URI": f"sqlite:///{database}"})
    assert result.exit_code == 3
    assert result.output.strip() == "customers (query):ROW 2: column email: longer than 1000 characters"
    assert not out.exists()


def test_an_unsupported_uri_scheme_is_a_data_error_without_the_uri(tmp_path):
    result, _ = build(campaign_with_query(tmp_path), {"CRM_DB_URI": "mysql://user:hunter2@db/crm"})
    assert result.exit_code == 3
    assert "'mysql' is not supported" in result.output and "hunter2" not in result.output


def test_a_query_entry_needs_its_variable(tmp_path):
    config = campaign_with_query(tmp_path)
    config.write_text(config.read_text(encoding="utf-8").replace(', uri_env = "CRM_DB_URI"', ""), encoding="utf-8")
    result, _ = build(config, {})
    assert result.exit_code == 2
    assert "inputs.customers.uri_env" in result.output


# ---------------------------------------------------------------------------------------------
# PostgreSQL: a throw-away cluster (initdb + pg_ctl in a temporary folder, 127.0.0.1, a password)


@pytest.fixture(scope="module")
def postgres_uri():
    try:
        with throwaway_postgres() as server:
            yield server
    except ServerUnavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="module")
def crm_table(postgres_uri):
    import adbc_driver_postgresql.dbapi
    uri, _ = postgres_uri
    with adbc_driver_postgresql.dbapi.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS crm_customers")
        cursor.execute("CREATE TABLE crm_customers (customer_id text, customer_type text, first_name text, "
                       "last_name text, email text, phone bigint, birth_date date, paperless boolean)")
        cursor.execute("INSERT INTO crm_customers VALUES ('C1', 'private', 'Aino', 'Virtanen', 'aino1@example.fi', "
                       "358401234567, DATE '1980-02-29', false), ('C2', 'private', 'Eino', 'Laine', "
                       "'eino2@example.fi', NULL, DATE '2011-12-02', NULL)")
        connection.commit()
    return postgres_uri


def test_customers_from_a_postgresql_query(tmp_path, crm_table):
    uri, password = crm_table
    result, out = build(campaign_with_query(tmp_path), {"CRM_DB_URI": uri})
    assert result.exit_code == 0, result.output
    sms = (out / "sms.csv").read_text(encoding="utf-8").splitlines()
    assert sms[1].startswith("C1,+358401234567,")  # a bigint phone keeps its digits
    exclusions = (out / "exclusions.csv").read_text(encoding="utf-8")
    assert "C2,email,under_age" in exclusions  # a date column is a date
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8", errors="replace")
        assert password not in text and uri not in text


def test_a_wrong_password_is_a_data_error_that_does_not_show_it(tmp_path, crm_table):
    uri, password = crm_table
    wrong = uri.replace(password, "not-the-password-x9")
    result, out = build(campaign_with_query(tmp_path), {"CRM_DB_URI": wrong})
    assert result.exit_code == 3
    assert result.output.startswith("customers (query): cannot connect to the database:")
    assert "not-the-password-x9" not in result.output and password not in result.output
    assert not out.exists()


def test_a_failing_postgresql_query_names_the_role(tmp_path, crm_table):
    uri, password = crm_table
    result, _ = build(campaign_with_query(tmp_path, query="SELEC 1"), {"CRM_DB_URI": uri})
    assert result.exit_code == 3
    assert result.output.startswith("customers (query): the query failed:")
    assert password not in result.output


def test_a_column_with_no_text_form_is_a_data_error(tmp_path, crm_table):
    uri, _ = crm_table
    result, _ = build(campaign_with_query(tmp_path, query="SELECT ARRAY[1, 2] AS customer_id"), {"CRM_DB_URI": uri})
    assert result.exit_code == 3
    assert "customers (query): column customer_id: has database type" in result.output
