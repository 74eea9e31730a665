"""Section 3 (input files) and the data errors of section 8 (exit 3), as the contract words them.

Files are written byte for byte inline, so delimiters, encodings, quoting and line numbers are
exactly what a user's export would hold. Data errors are `FILE:LINE: column X: ...`, header = line 1.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from audiencecli.cli import app
from audiencecli.normalize import by_distinct
from conftest import Run, toml_value

CONSENT_HEADER = "customer_id,channel,purpose,status,recorded_at,source\n"
GRANTED_C1 = CONSENT_HEADER + "C1,email,marketing,granted,2026-01-01T10:00:00,web\n"
TWO_CUSTOMERS = (
    "customer_id,customer_type,first_name,last_name,email\n"
    "C1,private,Aino,Virtanen,aino1@example.fi\n"
    "C2,private,Bo,Lindqvist,bo2@example.fi\n"
)
POST_HEADER = "customer_id,customer_type,first_name,last_name,street_address,postal_code,city"


def render(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {render(v)}" for k, v in value.items()) + " }"
    return toml_value(value)


def write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))


def build(root: Path, *, customers: str | bytes | None = TWO_CUSTOMERS, consents: str | bytes | None = CONSENT_HEADER,
          holdings: str | bytes | None = None, files: dict | None = None, inputs: dict | None = None,
          campaign: dict | None = None, suppressions: list[dict] = (), args: tuple = (), quiet: bool = True) -> Run:
    """Write the given files (None = not written) and a config, then `audience build`."""
    if customers is not None:
        write(root / "customers.csv", customers)
    if consents is not None:
        write(root / "consents.csv", consents)
    paths = {"customers": "customers.csv", "consents": "consents.csv"}
    if holdings is not None:
        write(root / "holdings.csv", holdings)
        paths["holdings"] = "holdings.csv"
    for name, content in (files or {}).items():
        write(root / name, content)
    paths.update(inputs or {})
    settings = {"name": "inputs-test", "purpose": "marketing", "channels": ["email"], "as_of": "2026-12-01"}
    settings.update(campaign or {})
    lines = ["[campaign]"] + [f"{k} = {render(v)}" for k, v in settings.items()]
    lines += ["", "[inputs]"] + [f"{k} = {render(v)}" for k, v in paths.items()]
    for entry in suppressions:
        lines += ["", "[[suppressions]]"] + [f"{k} = {render(v)}" for k, v in entry.items()]
    config = root / "campaign.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = root / "run"
    result = CliRunner().invoke(app, ["build", str(config), "--out", str(out), *(["--quiet"] if quiet else []), *args])
    return Run(result.exit_code, result.stdout, result.stderr, out)


def problem_lines(run: Run, file: str, line: int, column: str | None = None) -> list[str]:
    """stderr lines of the exact shape `FILE:LINE: column X: ...` (FILE may carry a folder)."""
    shape = rf"(?:^|[/\\]){re.escape(file)}:{line}: "
    if column is not None:
        shape += rf"column {re.escape(column)}: \S"
    return [text for text in run.stderr.splitlines() if re.search(shape, text)]


def assert_data_error(run: Run, file: str, line: int, column: str | None = None) -> None:
    assert run.exit_code == 3, (run.exit_code, run.stderr)
    assert problem_lines(run, file, line, column), (
        f"no line {file}:{line}: column {column}: ... on stderr:\n{run.stderr}")
    assert "Traceback" not in run.stdout + run.stderr
    assert not run.dir.exists()


def csv_text(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> str:
    return "".join(delimiter.join(row) + newline for row in rows)


def summary(run: Run) -> dict:
    return json.loads((run.dir / "summary.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# CSV dialects: delimiter, encoding, line endings, quoting


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_csv_delimiter_is_detected_from_the_header(tmp_path, delimiter):
    customers = csv_text([["customer_id", "customer_type", "email"],
                          ["C1", "private", "aino1@example.fi"],
                          ["C2", "private", ""]], delimiter)
    consents = csv_text([["customer_id", "channel", "purpose", "status", "recorded_at"],
                         ["C1", "email", "marketing", "granted", "2026-01-01T10:00:00"]], delimiter)
    run = build(tmp_path, customers=customers, consents=consents)
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}
    assert run.reason("C2", "email") == "missing_contact"


def test_semicolon_file_with_commas_in_values_is_split_on_semicolons(tmp_path):
    customers = (POST_HEADER.replace(",", ";") + "\n"
                 "C1;private;Aino;Virtanen, Jr.;Mannerheimintie 1, A 5;00100;Helsinki\n")
    run = build(tmp_path, customers=customers, campaign={"channels": ["post"], "purpose": "service"})
    assert run.exit_code == 0, run.stderr
    [row] = run.rows("post")
    assert row["last_name"] == "Virtanen, Jr."
    assert row["street_address"] == "Mannerheimintie 1, A 5"


def test_tab_file_with_commas_and_semicolons_in_values_is_split_on_tabs(tmp_path):
    customers = (POST_HEADER.replace(",", "\t") + "\n"
                 "C1\tprivate\tAino\tVirtanen\tMannerheimintie 1, A;5\t00100\tHelsinki\n")
    run = build(tmp_path, customers=customers, campaign={"channels": ["post"], "purpose": "service"})
    assert run.exit_code == 0, run.stderr
    assert run.rows("post")[0]["street_address"] == "Mannerheimintie 1, A;5"


def test_files_may_use_different_delimiters(tmp_path):
    customers = "customer_id;customer_type;email\nC1;private;aino1@example.fi\n"
    consents = "customer_id\tchannel\tpurpose\tstatus\trecorded_at\nC1\temail\tmarketing\tgranted\t2026-01-01\n"
    run = build(tmp_path, customers=customers, consents=consents)
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}


def test_utf8_without_bom_keeps_scandinavian_letters(tmp_path):
    customers = "customer_id,customer_type,first_name,last_name,email\nC1,private,Åsa,Öhman-Ääkkö,asa@example.fi\n"
    run = build(tmp_path, customers=customers, consents=GRANTED_C1)
    assert run.exit_code == 0, run.stderr
    [row] = run.rows("email")
    assert (row["first_name"], row["last_name"]) == ("Åsa", "Öhman-Ääkkö")


def test_utf8_with_bom_is_read_and_the_first_column_is_recognised(tmp_path):
    customers = "\ufeffcustomer_id,customer_type,first_name,email\nC1,private,Åsa,asa@example.fi\n"
    consents = "\ufeff" + GRANTED_C1
    run = build(tmp_path, customers=customers.encode("utf-8"), consents=consents.encode("utf-8"))
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}
    assert run.rows("email")[0]["first_name"] == "Åsa"


def test_utf8_with_bom_and_semicolons_is_read(tmp_path):
    customers = "\ufeffcustomer_id;customer_type;email\r\nC1;private;aino1@example.fi\r\n"
    run = build(tmp_path, customers=customers.encode("utf-8"), consents=GRANTED_C1)
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}


CP1252_CUSTOMERS = ("customer_id;customer_type;first_name;last_name;email\r\n"
                    "C1;private;Aino;Virtanen;aino1@example.fi\r\n"
                    "C2;private;Åsa;Öhman-Ääkkö;asa2@example.fi\r\n")


def test_cp1252_input_is_read_with_the_encoding_key(tmp_path):
    run = build(tmp_path, customers=CP1252_CUSTOMERS.encode("cp1252"),
                inputs={"customers": {"path": "customers.csv", "encoding": "cp1252"}},
                consents=CONSENT_HEADER + "C2,email,marketing,granted,2026-01-01T10:00:00,web\n")
    assert run.exit_code == 0, run.stderr
    [row] = run.rows("email")
    assert (row["customer_id"], row["first_name"], row["last_name"]) == ("C2", "Åsa", "Öhman-Ääkkö")


def test_cp1252_input_without_the_encoding_key_is_data_error_at_its_line(tmp_path):
    run = build(tmp_path, customers=CP1252_CUSTOMERS.encode("cp1252"))
    assert_data_error(run, "customers.csv", 3)


def test_cp1252_consents_with_the_encoding_key_are_read(tmp_path):
    consents = (CONSENT_HEADER + "C1,email,marketing,granted,2026-01-01T10:00:00,asiakaspalvelu Åbo\n").encode("cp1252")
    run = build(tmp_path, consents=consents, inputs={"consents": {"path": "consents.csv", "encoding": "cp1252"}})
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}


def test_cp1252_suppression_list_with_the_encoding_key_matches_by_name_and_address(tmp_path):
    customers = (POST_HEADER + ",email\n"
                 "C1,private,Åsa,Öhman,Åkerbärsvägen 5,00100,Helsinki,asa1@example.fi\n"
                 "C2,private,Aino,Virtanen,Mannerheimintie 2,00100,Helsinki,aino2@example.fi\n")
    blocked = ("first_name;last_name;street_address;postal_code\r\n"
               "Åsa;Öhman;Åkerbärsvägen 5;00100\r\n").encode("cp1252")
    run = build(tmp_path, customers=customers, files={"blocked.csv": blocked},
                campaign={"channels": ["post"]},
                suppressions=[{"name": "blocked", "kind": "internal",
                               "path": {"path": "blocked.csv", "encoding": "cp1252"}}])
    assert run.exit_code == 0, run.stderr
    assert run.reason("C1", "post") == "internal_prohibition"
    assert "C2" in run.sendable("post")


def test_crlf_line_endings_are_read(tmp_path):
    customers = TWO_CUSTOMERS.replace("\n", "\r\n")
    consents = GRANTED_C1.replace("\n", "\r\n")
    run = build(tmp_path, customers=customers, consents=consents)
    assert run.exit_code == 0, run.stderr
    [row] = run.rows("email")
    assert row == {"customer_id": "C1", "email": "aino1@example.fi", "first_name": "Aino",
                   "last_name": "Virtanen", "language": "fi", "legal_basis": "consent"}


def test_crlf_file_reports_the_right_line(tmp_path):
    customers = (TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,cecilia3@example.fi\n").replace("\n", "\r\n")
    assert_data_error(build(tmp_path, customers=customers), "customers.csv", 4, "customer_type")


def test_quoted_fields_may_hold_the_delimiter_doubled_quotes_and_newlines(tmp_path):
    customers = ('customer_id,customer_type,first_name,last_name,email\n'
                 'C1,private,"Aino ""Ansku""","Virtanen, Jr.",aino1@example.fi\n'
                 'C2,private,Bo,"Lind\nqvist",bo2@example.fi\n')
    consents = CONSENT_HEADER + "C1,email,marketing,granted,2026-01-01T10:00:00,web\n" \
                                "C2,email,marketing,granted,2026-01-01T10:00:00,web\n"
    run = build(tmp_path, customers=customers, consents=consents)
    assert run.exit_code == 0, run.stderr
    rows = {r["customer_id"]: r for r in run.rows("email")}
    assert rows["C1"]["first_name"] == 'Aino "Ansku"'
    assert rows["C1"]["last_name"] == "Virtanen, Jr."
    assert rows["C2"]["last_name"] == "Lind\nqvist"


def test_line_after_a_quoted_newline_is_counted_as_a_line_of_the_file(tmp_path):
    # The quoted newline makes C2's record span lines 3-4, so C3 is on line 5 of the file
    # (what an editor shows), not the 4th record.
    customers = ('customer_id,customer_type,first_name,last_name,email\n'
                 'C1,private,Aino,Virtanen,aino1@example.fi\n'
                 'C2,private,Bo,"Lind\nqvist",bo2@example.fi\n'
                 'C3,person,Cecilia,Cederberg,cecilia3@example.fi\n')
    run = build(tmp_path, customers=customers)
    assert_data_error(run, "customers.csv", 5, "customer_type")
    assert not problem_lines(run, "customers.csv", 4)


def test_record_with_a_quoted_newline_is_reported_at_the_line_it_starts_on(tmp_path):
    customers = ('customer_id,customer_type,first_name,last_name,email\n'
                 'C1,private,Aino,Virtanen,aino1@example.fi\n'
                 'C2,persons,Bo,"Lind\nqvist",bo2@example.fi\n')
    assert_data_error(build(tmp_path, customers=customers), "customers.csv", 3, "customer_type")


def test_consent_line_after_a_quoted_newline_is_counted_as_a_line_of_the_file(tmp_path):
    consents = (CONSENT_HEADER
                + 'C1,email,marketing,granted,2026-01-01T10:00:00,"phone call,\nnoted by ""Pekka"""\n'
                + "C1,email,marketing,maybe,2026-02-01T10:00:00,web\n")
    assert_data_error(build(tmp_path, consents=consents), "consents.csv", 4, "status")


def test_line_after_a_blank_line_is_counted_as_a_line_of_the_file(tmp_path):
    customers = ("customer_id,customer_type,email\n"
                 "C1,private,aino1@example.fi\n"
                 "\n"
                 "C2,person,bo2@example.fi\n")
    assert_data_error(build(tmp_path, customers=customers), "customers.csv", 4, "customer_type")


def test_txt_extension_is_read_as_csv(tmp_path):
    run = build(tmp_path, files={"customers.txt": "customer_id;customer_type;email\nC1;private;aino1@example.fi\n"},
                consents=GRANTED_C1, inputs={"customers": "customers.txt"})
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}


def test_consents_may_be_an_empty_file_with_a_header(tmp_path):
    run = build(tmp_path, consents=CONSENT_HEADER)
    assert run.exit_code == 0, run.stderr
    assert summary(run)["channels"]["email"]["candidates"] == 2


# ---------------------------------------------------------------------------------------------
# Columns and values


def test_column_names_are_matched_case_insensitively_after_trimming(tmp_path):
    customers = " Customer_ID ;CUSTOMER_TYPE; Email \nC1;private;aino1@example.fi\n"
    consents = "Customer_Id,Channel , PURPOSE,Status,Recorded_At\nC1,email,marketing,granted,2026-01-01T10:00:00\n"
    run = build(tmp_path, customers=customers, consents=consents)
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}


def test_extra_columns_are_ignored(tmp_path):
    customers = ("segment_score,customer_id,customer_type,notes,email\n"
                 "0.7,C1,private,called in May,aino1@example.fi\n")
    consents = "customer_id,channel,purpose,status,recorded_at,campaign_ref\nC1,email,marketing,granted,2026-01-01,X-1\n"
    run = build(tmp_path, customers=customers, consents=consents)
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}
    header = (run.dir / "email.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "customer_id,email,first_name,last_name,language,legal_basis"


def test_values_are_trimmed(tmp_path):
    customers = "customer_id,customer_type,first_name,email\n  C1 , private ,  Aino  ,  aino1@example.fi  \n"
    consents = CONSENT_HEADER + " C1 ,  email , marketing , granted , 2026-01-01T10:00:00 , web \n"
    run = build(tmp_path, customers=customers, consents=consents)
    assert run.exit_code == 0, run.stderr
    [row] = run.rows("email")
    assert (row["customer_id"], row["first_name"], row["email"], row["legal_basis"]) == (
        "C1", "Aino", "aino1@example.fi", "consent")


def test_blank_value_is_missing_not_invalid(tmp_path):
    customers = "customer_id,customer_type,email\nC1,private,   \n"
    run = build(tmp_path, customers=customers)
    assert run.exit_code == 0, run.stderr
    assert run.reason("C1", "email") == "missing_contact"


def test_consent_values_are_trimmed_of_any_white_space(tmp_path):
    # The enumerations and the datetime are trimmed by their readers (only what they reject), tabs
    # and Unicode spaces included, a datetime's trailing space with or without a zone too.
    consents = CONSENT_HEADER + (
        "C1,\tEMAIL\u00a0, marketing\t,\u2003denied , 2026-01-01T09:00:00+02:00 ,web\n"
        "C1, email ,Marketing , Granted\t,2026-01-01 10:00 \t,web\n"
        "C2,email,marketing,granted,\u00a02026-01-01T10:00:00,web\n"
        "C2,email , marketing,denied,1.1.2026 11.00\u2003,web\n"
    )
    run = build(tmp_path, consents=consents)
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}
    assert run.reason("C2", "email") == "customer_denied"


@pytest.mark.parametrize("column", ["channel", "purpose", "status", "recorded_at"])
def test_blank_consent_value_is_missing_not_invalid(tmp_path, column):
    row = {"customer_id": "C1", "channel": "email", "purpose": "marketing", "status": "granted",
           "recorded_at": "2026-01-01T10:00:00", "source": "web"}
    row[column] = " \t\u00a0"
    run = build(tmp_path, consents=CONSENT_HEADER + ",".join(row.values()) + "\n")
    assert_data_error(run, "consents.csv", 2, column)
    assert f"{column} is missing" in run.stderr


@pytest.mark.parametrize("source, named", [(" web\t", "source web ("), ("\u00a0 ", "source (none) ("),
                                           ("branch office", "source branch office (")])
def test_consent_source_is_trimmed_and_blank_is_none(tmp_path, source, named):
    consents = CONSENT_HEADER + f"C1,email,marketing,denied,2026-01-01T10:00:00,{source}\n"
    run = build(tmp_path, consents=consents)
    assert run.exit_code == 0, run.stderr
    assert named in run.excluded("email")["C1"]["detail"]


def test_invalid_consent_value_is_quoted_trimmed(tmp_path):
    run = build(tmp_path, consents=CONSENT_HEADER + "C1,  emial\t,marketing,granted,2026-01-01T10:00:00,web\n")
    assert_data_error(run, "consents.csv", 2, "channel")
    assert "(emial)" in run.stderr


def test_consent_line_of_white_space_only_is_skipped_as_blank(tmp_path):
    consents = GRANTED_C1 + " , \t, \u00a0, ,  , \n" + "C2,email,marketing,granted,2026-01-01T10:00:00,web\n"
    run = build(tmp_path, consents=consents)
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent", "C2": "consent"}


@pytest.mark.parametrize("column", ["channel", "purpose", "status", "recorded_at", "source"])
def test_consent_line_with_only_one_value_is_not_blank(tmp_path, column):
    row = dict.fromkeys(["customer_id", "channel", "purpose", "status", "recorded_at", "source"], "")
    row[column] = {"channel": "email", "purpose": "marketing", "status": "granted",
                   "recorded_at": "2026-01-01T10:00:00", "source": "web"}[column]
    run = build(tmp_path, consents=GRANTED_C1 + ",".join(row.values()) + "\n")
    assert_data_error(run, "consents.csv", 3, "customer_id")


def test_customer_line_of_white_space_only_is_skipped_as_blank(tmp_path):
    customers = ("customer_id,customer_type,email,country,language,business_role\n"
                 "C1,private,aino1@example.fi,FI,fi,\n"
                 " ,\t, \u00a0, , ,  \n"
                 "C2,private,bo2@example.fi,,,\n")
    run = build(tmp_path, customers=customers)
    assert run.exit_code == 0, run.stderr
    assert summary(run)["inputs"]["customers"] == 2


@pytest.mark.parametrize("column", ["customer_type", "country", "language", "business_role"])
def test_customer_line_with_only_one_value_is_not_blank(tmp_path, column):
    row = dict.fromkeys(["customer_id", "customer_type", "email", "country", "language", "business_role"], "")
    row[column] = {"customer_type": "private", "country": "FI", "language": "fi", "business_role": "cfo"}[column]
    customers = "customer_id,customer_type,email,country,language,business_role\nC1,private,aino1@example.fi,,,\n"
    run = build(tmp_path, customers=customers + ",".join(row.values()) + "\n")
    assert_data_error(run, "customers.csv", 3, "customer_id")


def test_blank_customer_type_is_missing_not_invalid(tmp_path):
    customers = "customer_id,customer_type,email\nC1,private,aino1@example.fi\nC2, \t\u00a0,bo2@example.fi\n"
    run = build(tmp_path, customers=customers)
    assert_data_error(run, "customers.csv", 3, "customer_type")
    assert "customer_type is missing" in run.stderr


def test_blank_optional_date_and_boolean_are_missing(tmp_path):
    customers = "customer_id,customer_type,email,deceased_date,birth_date,paperless\nC1,private,aino1@example.fi, , ,  \n"
    run = build(tmp_path, customers=customers, consents=GRANTED_C1)
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}


# ---------------------------------------------------------------------------------------------
# Parquet


def parquet_bytes(columns: dict) -> bytes:
    import io

    buffer = io.BytesIO()
    pl.DataFrame(columns).write_parquet(buffer)
    return buffer.getvalue()


PARQUET_CUSTOMERS = {
    "customer_id": ["C1", "C2", "C3", "C4"],
    "customer_type": ["private", "Business", "private", "private"],
    "first_name": ["Aino", "Bo", "Cecilia", "Dan"],
    "email": ["aino1@example.fi", "bo2@example.fi", "not-an-email", None],
    "deceased_date": [None, None, "1.12.2026", None],
    "paperless": ["no", "kyllä", None, "0"],
}
PARQUET_CONSENTS = {
    "customer_id": ["C1", "C2", "C2"],
    "channel": ["email", "all", "EMAIL"],
    "purpose": ["marketing", "all", "marketing"],
    "status": ["granted", "granted", "Denied"],
    "recorded_at": ["2026-01-01T10:00:00", "1.1.2026 9.00", "2026-11-30 12:00"],
    "source": ["web", "web", "unsubscribe_link"],
}


def test_parquet_inputs_give_the_same_decisions_as_csv(tmp_path):
    def to_csv(columns: dict) -> str:
        names = list(columns)
        rows = [[("" if columns[n][i] is None else columns[n][i]) for n in names]
                for i in range(len(columns[names[0]]))]
        return csv_text([names, *rows])

    csv_run = build(tmp_path / "csv", customers=to_csv(PARQUET_CUSTOMERS), consents=to_csv(PARQUET_CONSENTS))
    parquet_run = build(tmp_path / "parquet", customers=None, consents=None,
                        files={"customers.parquet": parquet_bytes(PARQUET_CUSTOMERS),
                               "consents.parquet": parquet_bytes(PARQUET_CONSENTS)},
                        inputs={"customers": "customers.parquet", "consents": "consents.parquet"})
    assert csv_run.exit_code == 0, csv_run.stderr
    assert parquet_run.exit_code == 0, parquet_run.stderr
    assert parquet_run.rows("email") == csv_run.rows("email")
    assert parquet_run.rows("exclusions") == csv_run.rows("exclusions")
    assert csv_run.sendable("email") == {"C1": "consent"}
    assert {cid: row["reason_code"] for cid, row in csv_run.excluded("email").items()} == {
        "C2": "customer_denied", "C3": "deceased", "C4": "missing_contact"}


def test_parquet_inputs_with_typed_columns_are_read(tmp_path):
    import datetime as dt

    customers = pl.DataFrame({
        "customer_id": ["C1", "C2"],
        "customer_type": ["private", "private"],
        "email": ["aino1@example.fi", "bo2@example.fi"],
        "deceased_date": [None, dt.date(2026, 11, 30)],
        "paperless": [False, True],
    })
    consents = pl.DataFrame({
        "customer_id": ["C1", "C1"],
        "channel": ["email", "email"],
        "purpose": ["marketing", "marketing"],
        "status": ["granted", "denied"],
        # naive: Helsinki time; the denial is after the end of 2026-12-01 and must be ignored
        "recorded_at": [dt.datetime(2026, 1, 1, 10, 0), dt.datetime(2026, 12, 2, 0, 30)],
    })
    files = {}
    for name, frame in (("customers.parquet", customers), ("consents.parquet", consents)):
        path = tmp_path / name
        frame.write_parquet(path)
        files[name] = path.read_bytes()
    run = build(tmp_path, customers=None, consents=None, files=files,
                inputs={"customers": "customers.parquet", "consents": "consents.parquet"})
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}
    assert run.reason("C2", "email") == "deceased"


def test_parquet_with_a_missing_required_column_is_data_error(tmp_path):
    run = build(tmp_path, customers=None,
                files={"customers.parquet": parquet_bytes({"customer_id": ["C1"], "email": ["a@example.fi"]})},
                inputs={"customers": "customers.parquet"})
    assert_data_error(run, "customers.parquet", 1, "customer_type")


def test_parquet_with_an_invalid_value_is_data_error_at_its_row_line(tmp_path):
    run = build(tmp_path, customers=None,
                files={"customers.parquet": parquet_bytes({"customer_id": ["C1", "C2"],
                                                           "customer_type": ["private", "person"]})},
                inputs={"customers": "customers.parquet"})
    assert_data_error(run, "customers.parquet", 3, "customer_type")


def test_file_that_is_not_parquet_is_data_error(tmp_path):
    run = build(tmp_path, customers=None, files={"customers.parquet": b"customer_id,customer_type\nC1,private\n"},
                inputs={"customers": "customers.parquet"})
    assert run.exit_code == 3, run.stderr
    assert "customers.parquet" in run.stderr.replace("\n", "")
    assert not run.dir.exists()


# ---------------------------------------------------------------------------------------------
# Dates


def deceased_run(tmp_path, value: str) -> Run:
    customers = f"customer_id,customer_type,email,deceased_date\nC1,private,aino1@example.fi,{value}\n"
    return build(tmp_path, customers=customers, consents=GRANTED_C1)


@pytest.mark.parametrize("value", ["2026-12-01", "1.12.2026", "01.12.2026", "30.11.2026", "2026-11-30", "1.1.1990"])
def test_customer_dates_iso_or_finnish_on_or_before_as_of(tmp_path, value):
    run = deceased_run(tmp_path, value)
    assert run.exit_code == 0, run.stderr
    assert run.reason("C1", "email") == "deceased"


@pytest.mark.parametrize("value", ["2026-12-02", "2.12.2026", "02.12.2026", "1.1.2027"])
def test_customer_dates_iso_or_finnish_after_as_of(tmp_path, value):
    run = deceased_run(tmp_path, value)
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "consent"}


@pytest.mark.parametrize("column", ["deceased_date", "birth_date"])
@pytest.mark.parametrize("value", ["2026/12/01", "31.2.2026", "1.12.26", "12/1/2026", "tomorrow", "2026-13-01"])
def test_unparseable_customer_date_is_data_error(tmp_path, column, value):
    customers = f"customer_id,customer_type,email,{column}\nC1,private,aino1@example.fi,\nC2,private,bo@example.fi,{value}\n"
    run = build(tmp_path, customers=customers)
    assert_data_error(run, "customers.csv", 3, column)


HOLDINGS_HEADER = "customer_id,product_group,start_date,end_date\n"
CONTRACT = {"purpose": "contract", "product_group": "pension"}


@pytest.mark.parametrize("start, end, active", [
    ("1.12.2026", "", True),
    ("01.12.2026", "", True),
    ("2026-12-01", "", True),
    ("2.12.2026", "", False),
    ("1.1.2020", "1.12.2026", True),
    ("1.1.2020", "30.11.2026", False),
    ("2020-01-01", "2026-11-30", False),
    (" \t1.1.2020\u00a0", "\u20031.12.2026 ", True),  # white space around, of any kind
    ("\u00a02020-01-01\t", " 2026-11-30", False),
])
def test_holding_dates_iso_or_finnish(tmp_path, start, end, active):
    run = build(tmp_path, holdings=HOLDINGS_HEADER + f"C1,pension,{start},{end}\n", campaign=CONTRACT)
    assert run.exit_code == 0, run.stderr
    if active:
        assert run.sendable("email").get("C1") == "contract"
    else:
        assert run.reason("C1", "email") == "no_active_contract"


@pytest.mark.parametrize("column, row", [
    ("start_date", "C1,pension,2026/01/01,"),
    ("start_date", "C1,pension,32.1.2026,"),
    ("end_date", "C1,pension,2026-01-01,soon"),
])
def test_unparseable_holding_date_is_data_error(tmp_path, column, row):
    holdings = HOLDINGS_HEADER + "C2,pension,2026-01-01,\n" + row + "\n"
    assert_data_error(build(tmp_path, holdings=holdings, campaign=CONTRACT), "holdings.csv", 3, column)


@pytest.mark.parametrize("blank", ["", " \t\u00a0"])
def test_holding_without_start_date_is_data_error(tmp_path, blank):
    holdings = HOLDINGS_HEADER + f"C2,pension,2026-01-01,\nC1,pension,{blank},2027-01-01\n"
    run = build(tmp_path, holdings=holdings, campaign=CONTRACT)
    assert_data_error(run, "holdings.csv", 3, "start_date")
    assert "start_date is missing" in run.stderr


@pytest.mark.parametrize("deceased", ["\u00a02026-01-01\t", " 1.1.2026\u2003"])
def test_customer_dates_are_read_trimmed_of_any_white_space(tmp_path, deceased):
    customers = f"customer_id,customer_type,email,deceased_date,birth_date\nC1,private,aino1@example.fi,{deceased}, 1.2.1980\t\n"
    run = build(tmp_path, customers=customers, consents=GRANTED_C1)
    assert run.exit_code == 0, run.stderr
    assert run.reason("C1", "email") == "deceased"


# ---------------------------------------------------------------------------------------------
# Datetimes in consents: as_of is 2026-12-01 14:00 Helsinki; a denial at or before it counts


def denial_counts(tmp_path, recorded_at: str, as_of: str = "2026-12-01T14:00:00") -> bool:
    consents = GRANTED_C1 + f"C1,email,marketing,denied,{recorded_at},unsubscribe_link\n"
    run = build(tmp_path, customers="customer_id,customer_type,email\nC1,private,aino1@example.fi\n",
                consents=consents, campaign={"as_of": as_of})
    assert run.exit_code == 0, run.stderr
    if run.reason("C1", "email") == "customer_denied":
        return True
    assert run.sendable("email") == {"C1": "consent"}
    return False


@pytest.mark.parametrize("recorded_at", [
    "2026-12-01T13:59:00",
    "2026-12-01T14:00:00",
    "2026-12-01 13:59",
    "2026-12-01T13:59:59.999999",
    "2026-12-01T13:59:59.5",
    "2026-12-01T12:59:00+01:00",
    "2026-12-01T11:59:00Z",
    "2026-12-01T11:59:00+00:00",
    "2026-12-01 06:59:00-05:00",
    "1.12.2026 13.59",
    "01.12.2026 13.59.30",
    "1.12.2026 13:59",
    "1.12.2026 13:59:59",
    "1.12.2026 9.05",
    "1.12.2026 9:05:00",
    "01.12.2026 09.05",
])
def test_datetime_formats_at_or_before_as_of_count(tmp_path, recorded_at):
    assert denial_counts(tmp_path, recorded_at)


@pytest.mark.parametrize("recorded_at", [
    "2026-12-01T14:01:00",
    "2026-12-01 14:01",
    "2026-12-01T14:00:00.000001",
    "2026-12-01T14:00:00.5",
    "2026-12-01T13:01:00+01:00",
    "2026-12-01T12:01:00Z",
    "2026-12-01 07:01:00-05:00",
    "1.12.2026 14.01",
    "01.12.2026 14.00.30",
    "1.12.2026 14:01",
    "1.12.2026 14:00:01",
])
def test_datetime_formats_after_as_of_are_ignored(tmp_path, recorded_at):
    assert not denial_counts(tmp_path, recorded_at)


def test_naive_datetime_is_helsinki_time_late_in_the_as_of_day(tmp_path):
    # as_of 2026-12-01 = end of that day in Helsinki; 23:30 local is that day.
    assert denial_counts(tmp_path, "2026-12-01T23:30:00", as_of="2026-12-01")


def test_datetime_with_offset_past_midnight_helsinki_is_after_as_of(tmp_path):
    # 23:30 at -01:00 is 00:30 UTC on 2 December = 02:30 in Helsinki: after the as_of day.
    assert not denial_counts(tmp_path, "2026-12-01T23:30:00-01:00", as_of="2026-12-01")


@pytest.mark.parametrize("recorded_at, counts", [
    ("2026-12-01T23:30:00+02:00", True),
    ("2026-12-01T21:59:59Z", True),
    ("2026-12-01T22:00:00Z", False),
    ("2.12.2026 0.00", False),
])
def test_as_of_date_ends_at_midnight_helsinki(tmp_path, recorded_at, counts):
    assert denial_counts(tmp_path, recorded_at, as_of="2026-12-01") is counts


@pytest.mark.parametrize("recorded_at, counts", [
    ("2026-07-01T23:59:00", True),
    ("2026-07-01T20:59:00Z", True),
    ("2026-07-01T21:01:00Z", False),
])
def test_naive_datetime_in_summer_is_helsinki_summer_time(tmp_path, recorded_at, counts):
    assert denial_counts(tmp_path, recorded_at, as_of="2026-07-01") is counts


@pytest.mark.parametrize("recorded_at", ["2026-12-01", "1.12.2026", "01.12.2026"])
def test_date_alone_in_a_datetime_column_is_the_start_of_that_day(tmp_path, recorded_at):
    assert denial_counts(tmp_path, recorded_at, as_of="2026-12-01T00:00:00")
    assert not denial_counts(tmp_path / "before", recorded_at, as_of="2026-11-30T23:59:59")


@pytest.mark.parametrize("value", ["soon", "2026-12-01T25:00", "32.12.2026 10.00", "1.12.2026 10",
                                   "2026-12-01T10:00:00+25:00", "12/1/2026 10:00"])
def test_unparseable_recorded_at_is_data_error(tmp_path, value):
    consents = GRANTED_C1 + f"C1,email,marketing,denied,{value},web\n"
    assert_data_error(build(tmp_path, consents=consents), "consents.csv", 3, "recorded_at")


# ---------------------------------------------------------------------------------------------
# Booleans (paperless: R4 excludes paperless customers from service post)


def paperless_run(tmp_path, value: str) -> Run:
    customers = (POST_HEADER + ",paperless\n"
                 f"C1,private,Aino,Virtanen,Mannerheimintie 1,00100,Helsinki,{value}\n")
    return build(tmp_path, customers=customers, campaign={"purpose": "service", "channels": ["post"]})


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1", "yes", "YES", "y", "Y", "kyllä", "KYLLÄ", "Kyllä",
                                   "ja", "JA", " yes ", "\tKyllä\u00a0"])
def test_boolean_true_in_every_spelling_and_case(tmp_path, value):
    run = paperless_run(tmp_path, value)
    assert run.exit_code == 0, run.stderr
    assert run.reason("C1", "post") == "paperless"


@pytest.mark.parametrize("value", ["false", "FALSE", "False", "0", "no", "NO", "n", "N", "ei", "EI", "Ei",
                                   "nej", "NEJ", "", " \t", "\u2003Nej "])
def test_boolean_false_in_every_spelling_and_case_and_missing_is_false(tmp_path, value):
    run = paperless_run(tmp_path, value)
    assert run.exit_code == 0, run.stderr
    assert run.sendable("post") == {"C1": "legitimate_interest"}


def test_missing_boolean_column_is_false(tmp_path):
    run = build(tmp_path, customers=POST_HEADER + "\nC1,private,Aino,Virtanen,Mannerheimintie 1,00100,Helsinki\n",
                campaign={"purpose": "service", "channels": ["post"]})
    assert run.exit_code == 0, run.stderr
    assert run.sendable("post") == {"C1": "legitimate_interest"}


@pytest.mark.parametrize("value", ["maybe", "2", "tosi", "on", "x", " y es "])
def test_unparseable_boolean_is_data_error(tmp_path, value):
    customers = "customer_id,customer_type,email,paperless\nC1,private,aino1@example.fi,no\nC2,private,bo@example.fi,"
    run = build(tmp_path, customers=customers + value + "\n")
    assert_data_error(run, "customers.csv", 3, "paperless")
    assert f"({value.strip()})" in run.stderr


# ---------------------------------------------------------------------------------------------
# Enumerated values: case-insensitive after trimming


def test_customer_type_is_case_insensitive_and_trimmed(tmp_path):
    customers = ("customer_id,customer_type,email\n"
                 "C1, Private ,aino1@example.fi\n"
                 "C2,BUSINESS,bo2@example.fi\n")
    run = build(tmp_path, customers=customers, campaign={"segments": ["private"]})
    assert run.exit_code == 0, run.stderr
    assert run.reason("C1", "email") == "no_consent"
    assert run.reason("C2", "email") == "segment_not_targeted"


def test_consent_channel_purpose_status_are_case_insensitive(tmp_path):
    consents = (CONSENT_HEADER + "C1,Email,MARKETING,Granted,2026-01-01T10:00:00,web\n"
                "C1,EMAIL,Marketing, Denied ,2026-06-01T10:00:00,unsubscribe_link\n"
                "C2,ALL,All,GRANTED,2026-01-01T10:00:00,web\n")
    run = build(tmp_path, consents=consents)
    assert run.exit_code == 0, run.stderr
    assert run.reason("C1", "email") == "customer_denied"
    assert run.sendable("email") == {"C2": "consent"}


def test_invalid_consent_value_is_data_error_quoting_the_value_as_written(tmp_path):
    consents = CONSENT_HEADER + "C1,Emial,marketing,granted,2026-01-01T10:00:00,web\n"
    run = build(tmp_path, consents=consents)
    assert_data_error(run, "consents.csv", 2, "channel")
    assert "Emial" in run.stderr and "email, sms, phone, post, social, all" in run.stderr


def test_business_role_and_product_group_are_case_insensitive(tmp_path):
    customers = ("customer_id,customer_type,email,business_role\n"
                 "C1,private,aino1@example.fi,\n"
                 "C2,Business,bo2@example.fi, CFO \n")
    holdings = HOLDINGS_HEADER + "C1, Pension ,2020-01-01,\n"
    run = build(tmp_path, customers=customers, holdings=holdings,
                campaign={"product_group": "pension", "business_roles": ["cfo"]})
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {"C1": "existing_customer", "C2": "b2b_legitimate_interest"}


def test_list_row_channel_is_case_insensitive(tmp_path):
    blocked = "customer_id,channel\nC1, EMAIL \n"
    run = build(tmp_path, consents=GRANTED_C1, files={"blocked.csv": blocked},
                suppressions=[{"name": "blocked", "kind": "internal", "path": "blocked.csv"}])
    assert run.exit_code == 0, run.stderr
    assert run.reason("C1", "email") == "internal_prohibition"


# ---------------------------------------------------------------------------------------------
# country and language


def post_run(tmp_path, country: str | None, language: str | None) -> Run:
    header = POST_HEADER + ",country,language\n"
    row = f"C1,private,Aino,Virtanen,Mannerheimintie 1,00100,Helsinki,{country or ''},{language or ''}\n"
    return build(tmp_path, customers=header + row, campaign={"purpose": "service", "channels": ["post"]})


@pytest.mark.parametrize("country, written", [("", "FI"), ("FI", "FI"), ("fi", "FI"), (" Fi ", "FI")])
def test_country_is_two_letters_upper_case_default_fi(tmp_path, country, written):
    run = post_run(tmp_path, country, None)
    assert run.exit_code == 0, run.stderr
    assert run.rows("post")[0]["country"] == written


def test_country_column_absent_is_written_fi(tmp_path):
    run = build(tmp_path, customers=POST_HEADER + "\nC1,private,Aino,Virtanen,Mannerheimintie 1,00100,Helsinki\n",
                campaign={"purpose": "service", "channels": ["post"]})
    assert run.exit_code == 0, run.stderr
    row = run.rows("post")[0]
    assert (row["country"], row["language"]) == ("FI", "fi")


@pytest.mark.parametrize("country", ["FIN", "F", "Suomi", "F1", "1A", "Ö1"])
def test_country_that_is_not_two_letters_is_data_error(tmp_path, country):
    header = "customer_id,customer_type,email,country\n"
    run = build(tmp_path, customers=header + "C1,private,aino1@example.fi,FI\n" f"C2,private,bo@example.fi,{country}\n")
    assert_data_error(run, "customers.csv", 3, "country")


@pytest.mark.parametrize("language, written", [("", "fi"), ("fi", "fi"), ("SV", "sv"), (" En ", "en"), ("de", "de")])
def test_language_two_letters_lower_cased_default_fi(tmp_path, language, written):
    run = post_run(tmp_path, None, language)
    assert run.exit_code == 0, run.stderr
    assert run.rows("post")[0]["language"] == written


def test_country_and_language_are_read_row_by_row_whatever_their_spelling(tmp_path):
    # Worked out once per distinct spelling: each row must still get its own value.
    spellings = [(" se", "EN "), ("FI", ""), ("", "sv"), ("se", " en"), ("Fi", "SV"), ("  ", "xyz"), ("ee", "Et")]
    rows = "".join(f"C{i},private,Aino,Virtanen,Mannerheimintie {i + 1},00100,Helsinki,{country},{language}\n"
                   for i, (country, language) in enumerate(spellings))
    run = build(tmp_path, customers=POST_HEADER + ",country,language\n" + rows,
                campaign={"purpose": "service", "channels": ["post"]})
    assert run.exit_code == 0, run.stderr
    written = {row["customer_id"]: (row["country"], row["language"]) for row in run.rows("post")}
    assert written == {"C0": ("SE", "en"), "C1": ("FI", "fi"), "C2": ("FI", "sv"), "C3": ("SE", "en"),
                       "C4": ("FI", "sv"), "C5": ("FI", "fi"), "C6": ("EE", "et")}


@given(st.lists(st.one_of(st.none(), st.sampled_from(["fi", " FI", "sv", "SV ", "", " ", "x"])), max_size=40))
def test_by_distinct_gives_what_the_expressions_give_row_by_row(values):
    column = pl.Series("v", values, dtype=pl.String)
    made = {"lowered": pl.col("v").str.strip_chars().str.to_lowercase(), "length": pl.col("v").str.len_bytes()}
    expected = column.to_frame().select(**made)
    assert pl.DataFrame(by_distinct(column, **made)).equals(expected)


def test_missing_language_is_written_fi_in_every_channel_file(tmp_path):
    run = build(tmp_path, consents=GRANTED_C1)
    assert run.exit_code == 0, run.stderr
    assert run.rows("email")[0]["language"] == "fi"


# ---------------------------------------------------------------------------------------------
# Data errors: exit 3, FILE:LINE: column X: ..., header = line 1


@pytest.mark.parametrize("role", ["customers", "consents", "holdings"])
def test_missing_input_file_is_data_error_naming_it(tmp_path, role):
    kwargs = {"customers": TWO_CUSTOMERS, "consents": CONSENT_HEADER, "holdings": HOLDINGS_HEADER}
    kwargs[role] = None
    inputs = {role: f"{role}-missing.csv"}
    if role == "holdings":
        kwargs.pop("holdings")
    run = build(tmp_path, inputs=inputs, **kwargs)
    assert run.exit_code == 3, run.stderr
    assert f"{role}-missing.csv" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert not run.dir.exists()


def test_input_path_that_is_a_folder_is_data_error(tmp_path):
    (tmp_path / "customers-folder.csv").mkdir()
    run = build(tmp_path, inputs={"customers": "customers-folder.csv"})
    assert run.exit_code == 3, run.stderr
    assert "customers-folder.csv" in run.stderr
    assert not run.dir.exists()


@pytest.mark.parametrize("column", ["customer_id", "customer_type"])
def test_missing_required_customer_column_is_data_error(tmp_path, column):
    names = [n for n in ["customer_id", "customer_type", "email"] if n != column]
    customers = ",".join(names) + "\n" + ",".join({"customer_id": "C1", "customer_type": "private",
                                                   "email": "aino1@example.fi"}[n] for n in names) + "\n"
    assert_data_error(build(tmp_path, customers=customers), "customers.csv", 1, column)


@pytest.mark.parametrize("column", ["customer_id", "channel", "purpose", "status", "recorded_at"])
def test_missing_required_consent_column_is_data_error(tmp_path, column):
    values = {"customer_id": "C1", "channel": "email", "purpose": "marketing", "status": "granted",
              "recorded_at": "2026-01-01", "source": "web"}
    names = [n for n in values if n != column]
    consents = ",".join(names) + "\n" + ",".join(values[n] for n in names) + "\n"
    assert_data_error(build(tmp_path, consents=consents), "consents.csv", 1, column)


@pytest.mark.parametrize("column", ["customer_id", "product_group", "start_date"])
def test_missing_required_holding_column_is_data_error(tmp_path, column):
    values = {"customer_id": "C1", "product_group": "pension", "start_date": "2026-01-01", "end_date": ""}
    names = [n for n in values if n != column]
    holdings = ",".join(names) + "\n" + ",".join(values[n] for n in names) + "\n"
    assert_data_error(build(tmp_path, holdings=holdings), "holdings.csv", 1, column)


def test_suppression_list_without_any_key_column_is_data_error(tmp_path):
    run = build(tmp_path, files={"blocked.csv": "channel,comment\nemail,asked by phone\n"},
                suppressions=[{"name": "blocked", "kind": "internal", "path": "blocked.csv"}])
    assert run.exit_code == 3, run.stderr
    assert "blocked.csv" in run.stderr
    assert not run.dir.exists()


def test_duplicate_customer_id_is_data_error_at_the_repeated_line(tmp_path):
    customers = TWO_CUSTOMERS + "C1,private,Aino,Virtanen,other@example.fi\n"
    assert_data_error(build(tmp_path, customers=customers), "customers.csv", 4, "customer_id")


def test_duplicate_customer_id_after_trimming_is_data_error(tmp_path):
    customers = TWO_CUSTOMERS + " C2 ,private,Bo,Lindqvist,bo@example.fi\n"
    assert_data_error(build(tmp_path, customers=customers), "customers.csv", 4, "customer_id")


def test_duplicate_customer_ids_far_apart_are_both_named(tmp_path):
    customers = "customer_id,customer_type\nC5,private\n" + "".join(f"C{i},private\n" for i in range(6, 30)) \
        + "C5,private\n"
    run = build(tmp_path, customers=customers)
    assert_data_error(run, "customers.csv", 2, "customer_id")
    assert_data_error(run, "customers.csv", 27, "customer_id")


def test_customer_problems_are_listed_in_file_order_whatever_the_ids(tmp_path):
    rows = "".join(f"C{99 - i:02d},private,XX1\n" for i in range(30))  # ids descending, every country wrong
    run = build(tmp_path, customers="customer_id,customer_type,country\n" + rows)
    assert run.exit_code == 3, run.stderr
    listed = [int(n) for n in re.findall(r"customers\.csv:(\d+):", run.stderr)]
    assert listed == list(range(2, 2 + len(listed))) and len(listed) >= 10


def test_missing_customer_id_is_data_error(tmp_path):
    customers = TWO_CUSTOMERS + ",private,Cecilia,Cederberg,cecilia@example.fi\n"
    assert_data_error(build(tmp_path, customers=customers), "customers.csv", 4, "customer_id")


@pytest.mark.parametrize("value", ["person", "company", "privat", "b2b"])
def test_invalid_customer_type_is_data_error(tmp_path, value):
    customers = TWO_CUSTOMERS + f"C3,{value},Cecilia,Cederberg,cecilia@example.fi\n"
    run = build(tmp_path, customers=customers)
    assert_data_error(run, "customers.csv", 4, "customer_type")
    assert value in problem_lines(run, "customers.csv", 4, "customer_type")[0]


def test_missing_customer_type_is_data_error(tmp_path):
    customers = TWO_CUSTOMERS + "C3,,Cecilia,Cederberg,cecilia@example.fi\n"
    assert_data_error(build(tmp_path, customers=customers), "customers.csv", 4, "customer_type")


@pytest.mark.parametrize("column, row", [
    ("channel", "C1,fax,marketing,denied,2026-02-01T10:00:00,web"),
    ("channel", "C1,e-mail,marketing,denied,2026-02-01T10:00:00,web"),
    ("purpose", "C1,email,ads,denied,2026-02-01T10:00:00,web"),
    ("purpose", "C1,email,contract,denied,2026-02-01T10:00:00,web"),
    ("status", "C1,email,marketing,revoked,2026-02-01T10:00:00,web"),
    ("status", "C1,email,marketing,,2026-02-01T10:00:00,web"),
    ("recorded_at", "C1,email,marketing,denied,yesterday,web"),
    ("recorded_at", "C1,email,marketing,denied,,web"),
    ("channel", "C1,,marketing,denied,2026-02-01T10:00:00,web"),
    ("customer_id", ",email,marketing,denied,2026-02-01T10:00:00,web"),
])
def test_invalid_consent_value_is_data_error(tmp_path, column, row):
    assert_data_error(build(tmp_path, consents=GRANTED_C1 + row + "\n"), "consents.csv", 3, column)


def test_invalid_consent_value_is_quoted_in_the_message(tmp_path):
    run = build(tmp_path, consents=GRANTED_C1 + "C1,fax,marketing,denied,2026-02-01T10:00:00,web\n")
    assert_data_error(run, "consents.csv", 3, "channel")
    assert "fax" in problem_lines(run, "consents.csv", 3, "channel")[0]


def test_holding_with_missing_customer_or_product_group_is_data_error(tmp_path):
    holdings = HOLDINGS_HEADER + "C1,pension,2026-01-01,\n,pension,2026-01-01,\nC2,,2026-01-01,\n"
    run = build(tmp_path, holdings=holdings, campaign=CONTRACT)
    assert_data_error(run, "holdings.csv", 3, "customer_id")
    assert problem_lines(run, "holdings.csv", 4, "product_group"), run.stderr


def test_holding_with_blank_product_group_is_data_error(tmp_path):
    holdings = HOLDINGS_HEADER + "C1,pension,2026-01-01,\nC2, \t\u00a0,2026-01-01,\n"
    run = build(tmp_path, holdings=holdings, campaign=CONTRACT)
    assert_data_error(run, "holdings.csv", 3, "product_group")
    assert "product_group is missing" in run.stderr


def test_holdings_line_of_white_space_only_is_skipped_as_blank(tmp_path):
    holdings = HOLDINGS_HEADER + "C1,pension,2026-01-01,\n \t, \u00a0 , , \nC2, Pension ,2026-01-01,\n"
    run = build(tmp_path, holdings=holdings, campaign=CONTRACT)
    assert run.exit_code == 0, run.stderr
    assert summary(run)["inputs"]["holdings"] == 2


def test_holdings_line_with_only_a_product_group_is_not_blank(tmp_path):
    holdings = HOLDINGS_HEADER + "C1,pension,2026-01-01,\n, pension ,,\n"
    run = build(tmp_path, holdings=holdings, campaign=CONTRACT)
    assert_data_error(run, "holdings.csv", 3, "customer_id")


def test_list_row_channel_outside_the_lists_channels_is_data_error(tmp_path):
    blocked = "customer_id,channel\nC2,email\nC1,sms\n"
    run = build(tmp_path, files={"blocked.csv": blocked}, campaign={"channels": ["email", "sms"]},
                suppressions=[{"name": "blocked", "kind": "custom", "path": "blocked.csv", "channels": ["email"]}])
    assert_data_error(run, "blocked.csv", 3, "channel")


def test_robinson_row_channel_email_is_outside_its_default_channels(tmp_path):
    robinson = "customer_id,channel\nC1,email\n"
    run = build(tmp_path, files={"robinson.csv": robinson}, campaign={"channels": ["phone"]},
                customers="customer_id,customer_type,phone\nC1,private,040 1234567\n",
                suppressions=[{"name": "robinson-2026-11", "kind": "robinson", "path": "robinson.csv",
                               "list_date": "2026-11-20"}])
    assert_data_error(run, "robinson.csv", 2, "channel")


def test_list_row_channel_that_is_not_a_channel_is_data_error(tmp_path):
    run = build(tmp_path, files={"blocked.csv": "customer_id,channel\nC1,fax\n"},
                suppressions=[{"name": "blocked", "kind": "internal", "path": "blocked.csv"}])
    assert_data_error(run, "blocked.csv", 2, "channel")


@pytest.mark.parametrize("name", ["customers.csv", "consents.csv"])
def test_undecodable_bytes_are_data_error_at_their_line(tmp_path, name):
    contents = {"customers.csv": TWO_CUSTOMERS.encode() + b"C3,private,J\xfcrgen,M\xfcller,j@example.de\n",
                "consents.csv": GRANTED_C1.encode() + b"C1,email,marketing,denied,2026-02-01,asiakaspalvelu \xe4\n"}
    line = {"customers.csv": 4, "consents.csv": 3}[name]
    run = build(tmp_path, **{name.removesuffix(".csv"): contents[name]})
    assert_data_error(run, name, line)


def test_unbalanced_quote_is_data_error_at_the_line_it_opens(tmp_path):
    customers = ('customer_id,customer_type,first_name,email\n'
                 'C1,private,Aino,aino1@example.fi\n'
                 'C2,private,"Bo,bo2@example.fi\n'
                 'C3,private,Cecilia,cecilia3@example.fi\n')
    assert_data_error(build(tmp_path, customers=customers), "customers.csv", 3)


def test_stray_quote_inside_an_unquoted_field_is_never_reported_on_another_line(tmp_path):
    # RFC 4180 does not allow a quote inside an unquoted field. Reading it literally (as Excel does)
    # or rejecting it are both fair; an error must then name line 2, where the quote is.
    customers = ('customer_id,customer_type,last_name,email\n'
                 'C1,private,O"Neil,aino1@example.fi\n'
                 'C2,private,Lindqvist,bo2@example.fi\n'
                 'C3,private,Cederberg,cecilia3@example.fi\n')
    run = build(tmp_path, customers=customers)
    assert run.exit_code in (0, 3), run.stderr
    if run.exit_code == 3:
        assert problem_lines(run, "customers.csv", 2), run.stderr
        assert not problem_lines(run, "customers.csv", 5), run.stderr


def test_undecodable_suppression_list_is_data_error_at_its_line(tmp_path):
    blocked = b"customer_id,email\nC9,x@example.fi\nC8,j\xfcrgen@example.de\n"
    run = build(tmp_path, files={"blocked.csv": blocked},
                suppressions=[{"name": "blocked", "kind": "internal", "path": "blocked.csv"}])
    assert_data_error(run, "blocked.csv", 3)


def test_unbalanced_quote_in_a_suppression_list_is_data_error(tmp_path):
    blocked = 'customer_id,email\nC9,x@example.fi\nC8,"y@example.fi\n'
    run = build(tmp_path, files={"blocked.csv": blocked},
                suppressions=[{"name": "blocked", "kind": "internal", "path": "blocked.csv"}])
    assert_data_error(run, "blocked.csv", 3)


def test_row_with_more_fields_than_the_header_is_data_error(tmp_path):
    customers = TWO_CUSTOMERS + "C3,private,Cecilia,Cederberg,c@example.fi,extra,fields\n"
    assert_data_error(build(tmp_path, customers=customers), "customers.csv", 4)


def test_more_than_20_problems_lists_20_and_counts_all(tmp_path):
    rows = "".join(f"C{i},person,Name,Last,c{i}@example.fi\n" for i in range(1, 26))
    run = build(tmp_path, customers="customer_id,customer_type,first_name,last_name,email\n" + rows)
    assert run.exit_code == 3, run.stderr
    listed = [text for text in run.stderr.splitlines()
              if re.search(r"customers\.csv:\d+: column customer_type: \S", text)]
    assert len(listed) == 20, run.stderr
    assert problem_lines(run, "customers.csv", 2, "customer_type")
    assert problem_lines(run, "customers.csv", 21, "customer_type")
    assert not problem_lines(run, "customers.csv", 22, "customer_type")
    others = [text for text in run.stderr.splitlines() if text.strip() and text not in listed]
    assert any("25" in text for text in others), run.stderr


def test_problems_of_several_files_are_reported_together(tmp_path):
    customers = TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,c@example.fi\n"
    consents = CONSENT_HEADER + "C1,fax,marketing,granted,2026-01-01,web\n"
    holdings = HOLDINGS_HEADER + "C1,pension,someday,\n"
    run = build(tmp_path, customers=customers, consents=consents, holdings=holdings)
    assert_data_error(run, "customers.csv", 4, "customer_type")
    assert problem_lines(run, "consents.csv", 2, "channel"), run.stderr
    assert problem_lines(run, "holdings.csv", 2, "start_date"), run.stderr


def test_problems_of_one_file_are_all_reported(tmp_path):
    customers = ("customer_id,customer_type,email,deceased_date,paperless,country\n"
                 "C1,person,a@example.fi,,,\n"
                 "C2,private,b@example.fi,someday,,\n"
                 "C3,private,c@example.fi,,perhaps,\n"
                 "C4,private,d@example.fi,,,Finland\n")
    run = build(tmp_path, customers=customers)
    assert_data_error(run, "customers.csv", 2, "customer_type")
    assert problem_lines(run, "customers.csv", 3, "deceased_date"), run.stderr
    assert problem_lines(run, "customers.csv", 4, "paperless"), run.stderr
    assert problem_lines(run, "customers.csv", 5, "country"), run.stderr


SECRETS = ("Salainen", "Henkilöinen", "salainen.henkiloinen@example.fi", "040 9876543", "0409876543",
           "Piilopolku 99", "99999", "Salaisuusoy")


def test_error_lines_never_contain_contact_data(tmp_path):
    customers = (
        "customer_id,customer_type,first_name,last_name,company_name,email,phone,street_address,postal_code,city,paperless\n"
        "C1,private,Aino,Virtanen,,aino1@example.fi,,,,,\n"
        "C2,person,Salainen,Henkilöinen,Salaisuusoy,salainen.henkiloinen@example.fi,040 9876543,Piilopolku 99,99999,Kätkö,perhaps\n"
        "C1,private,Salainen,Henkilöinen,Salaisuusoy,salainen.henkiloinen@example.fi,040 9876543,Piilopolku 99,99999,Kätkö,\n"
    )
    blocked = ("email,phone,first_name,last_name,street_address,postal_code,channel\n"
               "salainen.henkiloinen@example.fi,040 9876543,Salainen,Henkilöinen,Piilopolku 99,99999,fax\n")
    run = build(tmp_path, customers=customers, files={"blocked.csv": blocked},
                suppressions=[{"name": "blocked", "kind": "internal", "path": "blocked.csv"}])
    assert run.exit_code == 3, run.stderr
    assert problem_lines(run, "customers.csv", 3, "customer_type"), run.stderr
    for secret in SECRETS + ("Kätkö",):
        assert secret not in run.stderr
        assert secret not in run.stdout


def test_decode_and_quote_errors_never_contain_contact_data(tmp_path):
    customers = (b"customer_id,customer_type,first_name,last_name,email\n"
                 b"C1,private,Salainen,Henkil\xf6inen,salainen.henkiloinen@example.fi\n")
    run = build(tmp_path, customers=customers)
    assert run.exit_code == 3
    for secret in SECRETS:
        assert secret not in run.stderr
    quoted = ('customer_id,customer_type,first_name,email\n'
              'C1,private,"Salainen,salainen.henkiloinen@example.fi\n')
    run = build(tmp_path / "quote", customers=quoted)
    assert run.exit_code == 3
    for secret in SECRETS:
        assert secret not in run.stderr


def test_bad_contact_data_in_customers_is_not_an_error(tmp_path):
    customers = ("customer_id,customer_type,email,phone,street_address,postal_code,city\n"
                 "C1,private,not-an-email,12,Mannerheimintie 1,1,Helsinki\n"
                 "C2,private,aino@@example,phone me,,00100,\n")
    run = build(tmp_path, customers=customers, campaign={"channels": ["email", "sms", "phone", "post", "social"]})
    assert run.exit_code == 0, run.stderr
    for channel in ("email", "sms", "phone", "social"):
        assert run.reason("C1", channel) == "invalid_contact", channel
        assert run.reason("C2", channel) == "invalid_contact", channel
    assert run.reason("C1", "post") == "invalid_contact"  # FI postal code not 5 digits
    assert run.reason("C2", "post") == "invalid_contact"  # incomplete address


def test_orphan_consent_ids_are_counted_not_an_error(tmp_path):
    consents = GRANTED_C1 + ("C999,email,marketing,granted,2026-01-01,web\n"
                             "C999,sms,marketing,denied,2026-02-01,web\n"
                             "C998,all,all,granted,2026-01-01,web\n")
    run = build(tmp_path, consents=consents)
    assert run.exit_code == 0, run.stderr
    orphans = summary(run)["orphan_consent_ids"]
    assert orphans["count"] == 2
    assert sorted(orphans["examples"]) == ["C998", "C999"]


def test_orphan_examples_hold_at_most_20_ids(tmp_path):
    consents = GRANTED_C1 + "".join(f"X{i:02d},email,marketing,granted,2026-01-01,web\n" for i in range(25))
    run = build(tmp_path, consents=consents)
    assert run.exit_code == 0, run.stderr
    orphans = summary(run)["orphan_consent_ids"]
    assert orphans["count"] == 25
    assert len(orphans["examples"]) == 20
    assert set(orphans["examples"]) <= {f"X{i:02d}" for i in range(25)}


def test_no_orphans_gives_count_zero(tmp_path):
    run = build(tmp_path, consents=GRANTED_C1)
    assert run.exit_code == 0, run.stderr
    assert summary(run)["orphan_consent_ids"] == {"count": 0, "examples": []}


def test_list_phone_that_cannot_be_parsed_is_a_warning_and_other_keys_still_match(tmp_path):
    blocked = "customer_id,phone\nC1,not a number\nC9,12\n"
    run = build(tmp_path, consents=GRANTED_C1, files={"blocked.csv": blocked},
                suppressions=[{"name": "blocked", "kind": "internal", "path": "blocked.csv"}])
    assert run.exit_code == 0, run.stderr
    assert run.reason("C1", "email") == "internal_prohibition"
    assert summary(run)["warnings"]


def test_list_that_does_not_apply_is_not_read(tmp_path):
    # Robinson covers phone and post; an e-mail campaign does not read it, even when it is missing.
    run = build(tmp_path, consents=GRANTED_C1,
                suppressions=[{"name": "robinson-2026-11", "kind": "robinson", "path": "robinson-missing.csv",
                               "list_date": "2026-11-20"},
                              {"name": "broken", "kind": "custom", "channels": ["post"], "path": "broken.csv"}],
                files={"broken.csv": b"\xff\xfe not a csv \x00"}, quiet=False)
    assert run.exit_code == 0, run.stderr
    # "a note names them"
    assert "robinson-2026-11" in run.stderr + run.stdout
    assert "broken" in run.stderr + run.stdout


# ---------------------------------------------------------------------------------------------
# Several kinds of error: the first of 2, 3, 4 that applies; nothing written


def test_config_error_and_data_error_give_exit_2(tmp_path):
    customers = TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,c@example.fi\n"
    run = build(tmp_path, customers=customers, campaign={"purpose": "advertising"})
    assert run.exit_code == 2, run.stderr
    assert "advertising" in run.stderr
    assert not run.dir.exists()


def test_data_error_and_stale_list_give_exit_3(tmp_path):
    customers = TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,c@example.fi\n"
    run = build(tmp_path, customers=customers, files={"robinson.csv": "customer_id\nC1\n"},
                campaign={"channels": ["post"]},
                suppressions=[{"name": "robinson-2026-01", "kind": "robinson", "path": "robinson.csv",
                               "list_date": "2026-01-15"}])
    assert_data_error(run, "customers.csv", 4, "customer_type")


def test_data_error_and_missing_list_give_exit_3(tmp_path):
    customers = TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,c@example.fi\n"
    run = build(tmp_path, customers=customers, campaign={"channels": ["post"]},
                suppressions=[{"name": "robinson-2026-11", "kind": "robinson", "path": "robinson-missing.csv",
                               "list_date": "2026-11-20"}])
    assert_data_error(run, "customers.csv", 4, "customer_type")


def test_missing_list_that_applies_gives_exit_4_not_3(tmp_path):
    run = build(tmp_path, campaign={"channels": ["post"]},
                suppressions=[{"name": "robinson-2026-11", "kind": "robinson", "path": "robinson-missing.csv",
                               "list_date": "2026-11-20"}])
    assert run.exit_code == 4, run.stderr
    assert not run.dir.exists()


def test_stale_list_alone_gives_exit_4(tmp_path):
    run = build(tmp_path, files={"robinson.csv": "customer_id\nC1\n"}, campaign={"channels": ["post"]},
                suppressions=[{"name": "robinson-2026-01", "kind": "robinson", "path": "robinson.csv",
                               "list_date": "2026-01-15"}])
    assert run.exit_code == 4, run.stderr
    assert not run.dir.exists()


def test_data_error_writes_nothing_and_leaves_no_temporary_folder(tmp_path):
    customers = TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,c@example.fi\n"
    run = build(tmp_path, customers=customers)
    assert run.exit_code == 3
    assert not run.dir.exists()
    assert sorted(os.listdir(tmp_path)) == ["campaign.toml", "consents.csv", "customers.csv"]


def test_data_error_leaves_a_previous_run_untouched(tmp_path):
    assert build(tmp_path, consents=GRANTED_C1).exit_code == 0
    previous = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    run = build(tmp_path, customers=TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,c@example.fi\n")
    assert run.exit_code == 3
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == previous
    assert sorted(os.listdir(tmp_path)) == ["campaign.toml", "consents.csv", "customers.csv", "run"]


def test_data_error_shows_no_traceback_and_goes_to_stderr(tmp_path):
    run = build(tmp_path, customers=TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,c@example.fi\n")
    assert run.exit_code == 3
    assert "Traceback" not in run.stdout + run.stderr
    assert run.stdout.strip() == ""
    assert "customer_type" in run.stderr


def test_each_problem_is_one_line_even_when_the_path_is_long(tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-for-exports-from-the-crm-system" * 2)
    run = build(deep, customers=TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,c@example.fi\n")
    assert run.exit_code == 3
    lines = [text for text in run.stderr.splitlines() if text.strip()]
    assert len(lines) == 1, run.stderr
    assert re.search(r"customers\.csv:4: column customer_type: .*person", lines[0]), run.stderr


def test_consent_log_read_in_slices_reports_every_bad_line_and_decides_the_same(tmp_path, monkeypatch):
    import audiencecli.inputs
    import audiencecli.sources

    rows = [f"C{i % 2 + 1},email,marketing,{'denied' if i % 3 else 'granted'},2026-01-0{i}T10:00:00,web"
            for i in range(1, 8)]
    whole = build(tmp_path / "whole", consents=CONSENT_HEADER + "\n".join(rows) + "\n")
    monkeypatch.setattr(audiencecli.sources.consents, "SLICE_ROWS", 2)
    sliced = build(tmp_path / "sliced", consents=CONSENT_HEADER + "\n".join(rows) + "\n")
    assert whole.exit_code == sliced.exit_code == 0
    assert (whole.dir / "exclusions.csv").read_bytes() == (sliced.dir / "exclusions.csv").read_bytes()
    assert (whole.dir / "email.csv").read_bytes() == (sliced.dir / "email.csv").read_bytes()

    rows[1] = "C1,fax,marketing,denied,2026-01-02T10:00:00,web"
    rows[4] = "C2,email,marketing,denied,not a time,web"
    run = build(tmp_path / "bad", consents=CONSENT_HEADER + "\n".join(rows) + "\n")
    assert_data_error(run, "consents.csv", 3, "channel")
    assert_data_error(run, "consents.csv", 6, "recorded_at")


def test_parquet_consent_log_read_from_disk_in_slices_keeps_file_lines_and_decisions(tmp_path, monkeypatch):
    import audiencecli.inputs
    import audiencecli.sources

    rows = [[f"C{i % 2 + 1}", "email", "marketing", "denied" if i % 3 else "granted", f"2026-01-0{i}T10:00:00",
             "web"] for i in range(1, 8)]

    def consents_parquet() -> dict:
        columns = ("customer_id", "channel", "purpose", "status", "recorded_at", "source")
        return {"consents.parquet": parquet_bytes({c: [r[i] for r in rows] for i, c in enumerate(columns)})}

    def run(name: str):
        return build(tmp_path / name, consents=None, files=consents_parquet(),
                     inputs={"consents": "consents.parquet"})

    whole = run("whole")
    monkeypatch.setattr(audiencecli.sources.consents, "SLICE_ROWS", 2)
    sliced = run("sliced")
    assert whole.exit_code == sliced.exit_code == 0, sliced.stderr
    assert (whole.dir / "exclusions.csv").read_bytes() == (sliced.dir / "exclusions.csv").read_bytes()
    assert (whole.dir / "email.csv").read_bytes() == (sliced.dir / "email.csv").read_bytes()

    rows[1][1] = "fax"
    rows[4][4] = "not a time"
    rows[6][0] = None
    bad = run("bad")
    assert_data_error(bad, "consents.parquet", 3, "channel")
    assert_data_error(bad, "consents.parquet", 6, "recorded_at")
    assert_data_error(bad, "consents.parquet", 8, "customer_id")


@pytest.mark.parametrize("customers, made", [
    (TWO_CUSTOMERS, True),
    (TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,c@example.fi\n", False),   # a data error: nothing is made
])
def test_work_on_the_customers_runs_while_the_consent_log_is_read_only_when_no_problem_is_found(
        tmp_path, customers, made):
    from audiencecli.config import load_config
    from audiencecli.inputs import check_inputs

    build(tmp_path, customers=customers, consents=GRANTED_C1)
    seen = []
    check = check_inputs(load_config(tmp_path / "campaign.toml"),
                         meanwhile=lambda frame: seen.append(frame.get_column("customer_id").to_list()) or "made")
    assert (check.made == "made") is made
    assert seen == ([["C1", "C2"]] if made else [])
    assert check.inputs is not None or not made
    if made:  # the rows are let go once what is made of them exists; the facts stay
        assert check.inputs.customers.frame.height == 0 and check.inputs.customers.rows == 2


@pytest.mark.parametrize("customers, consents, runs", [
    (TWO_CUSTOMERS, GRANTED_C1, True),
    (TWO_CUSTOMERS + "C3,person,Cecilia,Cederberg,c@example.fi\n", GRANTED_C1, False),  # a customer data error
    (TWO_CUSTOMERS, GRANTED_C1 + "C2,fax,marketing,granted,2026-01-01T10:00:00,web\n", False),  # a consent one
    (None, GRANTED_C1, False),  # no customers file: the second core does not wait for its ids
])
def test_work_on_the_consent_log_runs_on_the_second_core_only_when_no_problem_is_found(
        tmp_path, customers, consents, runs):
    """A Parquet log; a CSV log is read before the customers, and then nothing runs beside them."""
    from audiencecli.config import load_config
    from audiencecli.sources import Loaded
    from audiencecli.inputs import check_inputs, release

    import io

    log = pl.read_csv(io.BytesIO(consents.encode()), infer_schema=False).to_dict(as_series=False)
    build(tmp_path, customers=customers, consents=None, files={"consents.parquet": parquet_bytes(log)},
          inputs={"consents": "consents.parquet"})  # only a Parquet log is read beside the customers
    seen = []

    def with_consents(loaded: Loaded, ids: pl.Series):
        seen.append((loaded.frame.height, ids.to_list()))
        return release(loaded), "made"

    check = check_inputs(load_config(tmp_path / "campaign.toml"), with_consents=with_consents)
    assert (check.made_of_consents == "made") is runs
    assert seen == ([(1, ["C1", "C2"])] if runs else [])
    if runs:
        assert check.inputs.consents.rows == 1 and check.inputs.consents.frame.height == 0


def test_a_csv_consent_log_and_the_holdings_are_read_before_the_customers_and_resolved_beside_the_contacts(
        tmp_path, monkeypatch):
    """A CSV log is parsed whole: reading it beside the customers took 11.8 GB at 10M customers.
    The holdings are read beside it, and the log is numbered and resolved beside the contacts."""
    import audiencecli.inputs
    from audiencecli.config import load_config
    from audiencecli.inputs import check_inputs, release

    build(tmp_path, customers=TWO_CUSTOMERS, consents=GRANTED_C1,
          holdings="customer_id,product_group,start_date\nC1,pension,2020-01-01\n")
    happened = []
    for name in ("load_consents", "load_holdings", "load_customers"):
        def recorded(*args, name=name, load=getattr(audiencecli.inputs, name), **kwargs):
            loaded = load(*args, **kwargs)
            happened.append(name)
            return loaded
        monkeypatch.setattr(audiencecli.inputs, name, recorded)

    def with_consents(loaded, ids):
        happened.append(("with_consents", loaded.frame.height, ids.to_list()))
        return release(loaded), "made"

    check = check_inputs(load_config(tmp_path / "campaign.toml"), with_consents=with_consents)
    assert sorted(happened[:2]) == ["load_consents", "load_holdings"]  # the two at once: few gigabytes
    assert happened[2:] == ["load_customers", ("with_consents", 1, ["C1", "C2"])]
    assert check.made_of_consents == "made"


def consent_log_parquet(rows: list[list[str]]) -> dict:
    columns = ("customer_id", "channel", "purpose", "status", "recorded_at", "source")
    return {"consents.parquet": parquet_bytes({c: [r[i] for r in rows] for i, c in enumerate(columns)})}


EIGHT_EVENTS = [[f"C{i % 2 + 1}", "email", "marketing", "denied" if i % 3 else "granted", f"2026-01-0{i}T10:00:00",
                 "web"] for i in range(1, 9)]


def test_once_its_own_work_is_done_the_first_core_parses_consent_slices_too_in_the_files_order(
        tmp_path, monkeypatch):
    import threading
    import time

    import audiencecli.inputs
    import audiencecli.sources
    from audiencecli.config import load_config
    from audiencecli.inputs import check_inputs

    rows = [list(row) for row in EIGHT_EVENTS]
    build(tmp_path / "whole", consents=None, files=consent_log_parquet(rows), inputs={"consents": "consents.parquet"})
    whole = check_inputs(load_config(tmp_path / "whole" / "campaign.toml")).inputs.consents.frame

    monkeypatch.setattr(audiencecli.sources.consents, "SLICE_ROWS", 1)
    parse = audiencecli.sources.consents._consent_slice
    on_first_core = []

    def slow_on_the_second_core(table, problems):
        on_first_core.append(threading.current_thread() is threading.main_thread())
        time.sleep(0.02 if on_first_core[-1] else 0.1)
        return parse(table, problems)

    monkeypatch.setattr(audiencecli.sources.consents, "_consent_slice", slow_on_the_second_core)
    shared = check_inputs(load_config(tmp_path / "whole" / "campaign.toml")).inputs.consents.frame
    assert any(on_first_core) and not all(on_first_core)
    assert shared.equals(whole)

    rows[1][1], rows[5][4], rows[6][2] = "fax", "not a time", "spam"
    build(tmp_path / "bad", consents=None, files=consent_log_parquet(rows), inputs={"consents": "consents.parquet"})
    on_first_core.clear()
    check = check_inputs(load_config(tmp_path / "bad" / "campaign.toml"))
    assert any(on_first_core) and not all(on_first_core)
    assert [(p.line, p.column) for p in check.data_problems.listed] == [(3, "channel"), (7, "recorded_at"),
                                                                        (8, "purpose")]


@pytest.mark.parametrize("slow, read_on_first_core", [("consent log", True), ("customers' work", False)])
def test_the_holdings_are_read_by_whichever_core_is_free_first(tmp_path, monkeypatch, slow, read_on_first_core):
    import threading
    import time

    import audiencecli.inputs
    import audiencecli.sources
    from audiencecli.config import load_config
    from audiencecli.inputs import check_inputs

    build(tmp_path, consents=None, files=consent_log_parquet(EIGHT_EVENTS), inputs={"consents": "consents.parquet"},
          holdings="customer_id,product_group,start_date\nC1,pension,2020-01-01\n",
          campaign={"product_group": "pension"})
    load_holdings = audiencecli.inputs.load_holdings
    on_first_core = []

    def with_consents(loaded, ids):  # work on the consent log, on the second core
        time.sleep(0.5 if slow == "consent log" else 0)
        return loaded, "made"

    def seen_holdings(spec, problems, keep, only=None):
        on_first_core.append(threading.current_thread() is threading.main_thread())
        return load_holdings(spec, problems, keep, only)

    def customers_work(frame):
        time.sleep(0.5 if slow == "customers' work" else 0)
        return "made"

    monkeypatch.setattr(audiencecli.inputs, "load_holdings", seen_holdings)
    check = check_inputs(load_config(tmp_path / "campaign.toml"), meanwhile=customers_work,
                         with_consents=with_consents)
    assert on_first_core == [read_on_first_core]
    assert check.inputs.holders.get_column("customer_id").to_list() == ["C1"]


def test_holdings_read_in_slices_keep_every_active_one_count_every_row_and_report_every_bad_line(
        tmp_path, monkeypatch):
    import audiencecli.inputs
    import audiencecli.sources

    rows = ["C1,home,2020-01-01,", "C2,pension,2020-01-01,2021-01-01", "C2,pension,2030-01-01,",
            "C1,pension,2020-01-01,", "C2,pension,2019-01-01,", "C1,pension,2010-01-01,2040-01-01"]
    holdings = HOLDINGS_HEADER + "\n".join(rows) + "\n"
    whole = build(tmp_path / "whole", holdings=holdings, campaign=CONTRACT)
    monkeypatch.setattr(audiencecli.sources.holdings, "SLICE_ROWS", 2)
    sliced = build(tmp_path / "sliced", holdings=holdings, campaign=CONTRACT)
    assert whole.exit_code == sliced.exit_code == 0, sliced.stderr
    assert sliced.sendable("email") == {"C1": "contract", "C2": "contract"}
    assert (whole.dir / "exclusions.csv").read_bytes() == (sliced.dir / "exclusions.csv").read_bytes()
    assert summary(sliced)["inputs"]["holdings"] == 6

    rows[1] = "C2,pension,2020-01-01,soon"
    rows[4] = "C2,,2019-01-01,"
    bad = build(tmp_path / "bad", holdings=HOLDINGS_HEADER + "\n".join(rows) + "\n", campaign=CONTRACT)
    assert_data_error(bad, "holdings.csv", 3, "end_date")
    assert_data_error(bad, "holdings.csv", 6, "product_group")


# ---------------------------------------------------------------------------------------------
# A value longer than 1,000 characters (Unicode code points, once trimmed) in a column the
# contract names is a broken export: a data error `FILE:LINE: column X: longer than 1000
# characters` that never quotes the value, before any rule (so not invalid_contact)

LONG = "x" * 1001
HISTORY_HEADER = "customer_id,channel,purpose,sent_at,campaign\n"
LIST = [{"name": "blocked", "kind": "internal", "path": "blocked.csv"}]


def with_value(value: str) -> dict[str, dict]:
    """For each (file, column) checked: build()'s arguments putting `value` there, and its line."""
    return {
        ("customers.csv", "email"): {"customers": TWO_CUSTOMERS + f"C3,private,Aino,Virtanen,{value}\n", "line": 4},
        ("customers.csv", "customer_id"): {"customers": TWO_CUSTOMERS + f"{value},private,Aino,Virtanen,\n",
                                           "line": 4},
        ("customers.csv", "last_name"): {"customers": TWO_CUSTOMERS + f"C3,private,Aino,{value},\n", "line": 4},
        ("consents.csv", "source"): {"consents": GRANTED_C1 + f"C2,email,marketing,granted,2026-01-01,{value}\n",
                                     "line": 3},
        ("consents.csv", "channel"): {"consents": GRANTED_C1 + f"C2,{value},marketing,granted,2026-01-01,web\n",
                                      "line": 3},
        ("blocked.csv", "email"): {"files": {"blocked.csv": f"email\nbo2@example.fi\n{value}\n"},
                                   "suppressions": LIST, "line": 3},
        ("holdings.csv", "product_group"): {"holdings": HOLDINGS_HEADER + f"C1,pension,2020-01-01,\nC2,{value},2020-01-01,\n",
                                            "campaign": CONTRACT, "line": 3},
        ("history.csv", "campaign"): {"files": {"history.csv": HISTORY_HEADER + f"C1,email,marketing,2026-11-20,a\n"
                                                                                 f"C2,email,marketing,2019-01-01,{value}\n"},
                                      "inputs": {"contact_history": "history.csv"}, "line": 3},
    }


def build_with(root: Path, file: str, column: str, value: str) -> tuple[Run, int]:
    arguments = dict(with_value(value)[(file, column)])
    line = arguments.pop("line")
    return build(root, **arguments), line


def assert_too_long(run: Run, root: Path, file: str, line: int, column: str) -> None:
    """The problem, as the contract words it, quoting nothing; nothing written."""
    assert_data_error(run, file, line, column)
    assert any(text.endswith(f"{file}:{line}: column {column}: longer than 1000 characters")
               for text in run.stderr.splitlines()), run.stderr
    assert "xxxxxxxxxx" not in run.stderr and "ääääääääää" not in run.stderr
    assert not [p for p in root.iterdir() if p.is_dir()]  # no run directory, no temporary folder


@pytest.mark.parametrize("file, column", list(with_value(LONG)))
def test_a_value_over_1000_characters_is_a_data_error_naming_file_line_and_column(tmp_path, file, column):
    run, line = build_with(tmp_path, file, column, LONG)
    assert_too_long(run, tmp_path, file, line, column)


@pytest.mark.parametrize("file, column", [key for key in with_value(LONG) if key[1] != "channel"])
def test_a_value_of_exactly_1000_characters_is_read(tmp_path, file, column):
    run, _line = build_with(tmp_path, file, column, "x" * 1000)
    assert run.exit_code == 0, run.stderr


def test_an_email_over_1000_characters_is_this_error_not_invalid_contact(tmp_path):
    at_the_limit = "x" * 1000  # a contact R7 judges
    run = build(tmp_path / "limit", customers=TWO_CUSTOMERS + f"C3,private,Aino,Virtanen,{at_the_limit}\n",
                consents=CONSENT_HEADER + "C3,email,marketing,granted,2026-01-01T10:00:00,web\n")
    assert run.exit_code == 0, run.stderr
    assert run.reason("C3", "email") == "invalid_contact"
    over = "a" * 990 + "@example.fi"  # 1,001 characters
    run = build(tmp_path / "over", customers=TWO_CUSTOMERS + f"C3,private,Aino,Virtanen,{over}\n")
    assert_too_long(run, tmp_path / "over", "customers.csv", 4, "email")


@pytest.mark.parametrize("value, too_long", [("ä" * 1001, True), ("ä" * 600, False), ("ä" * 1000, False)],
                         ids=["1001-chars-2002-bytes", "600-chars-1200-bytes", "1000-chars-2000-bytes"])
def test_the_limit_counts_characters_not_bytes(tmp_path, value, too_long):
    run, line = build_with(tmp_path, "customers.csv", "last_name", value)
    if too_long:
        assert_too_long(run, tmp_path, "customers.csv", line, "last_name")
    else:
        assert run.exit_code == 0, run.stderr


def test_the_limit_counts_the_value_trimmed(tmp_path):
    run, _line = build_with(tmp_path, "consents.csv", "source", " \t" + "x" * 1000 + "\u00a0 ")
    assert run.exit_code == 0, run.stderr


def test_values_over_1000_characters_are_listed_twenty_and_counted(tmp_path):
    rows = "".join(f"C{n},private,Aino,Virtanen,{LONG}\n" for n in range(3, 28))  # 25 of them
    run = build(tmp_path, customers=TWO_CUSTOMERS + rows)
    assert_too_long(run, tmp_path, "customers.csv", 4, "email")
    assert len([line for line in run.stderr.splitlines() if "longer than 1000 characters" in line]) == 20
    assert "(25 problems in total)" in run.stderr


def test_a_value_over_1000_characters_in_a_parquet_file_is_a_data_error_on_its_row(tmp_path):
    customers = {"customer_id": ["C1", "C2"], "customer_type": ["private", "private"],
                 "email": ["aino1@example.fi", LONG]}
    run = build(tmp_path, customers=None, files={"customers.parquet": parquet_bytes(customers)},
                inputs={"customers": "customers.parquet"})
    assert_too_long(run, tmp_path, "customers.parquet", 3, "email")


@pytest.mark.parametrize("command", ["validate", "explain"])
def test_validate_and_explain_report_a_value_over_1000_characters_as_build_does(tmp_path, command):
    build_with(tmp_path, "consents.csv", "source", LONG)
    args = [command, str(tmp_path / "campaign.toml"), "--quiet", *(["C2"] if command == "explain" else [])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.stderr
    assert any(line.endswith("consents.csv:3: column source: longer than 1000 characters")
               for line in result.stderr.splitlines()), result.stderr


def history_parquet_campaign(root: Path, campaign: str, sent_at: dt.datetime) -> Path:
    """A campaign with a 30-day cap over a clean Parquet history (typed sent_at, text columns:
    the fast path's kind) of two rows, the second's campaign `campaign`, sent at `sent_at`."""
    write(root / "customers.csv", TWO_CUSTOMERS)
    write(root / "consents.csv", CONSENT_HEADER)
    pl.DataFrame({
        "customer_id": ["C1", "C2"], "channel": ["email", "email"], "purpose": ["marketing", "marketing"],
        "sent_at": [dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc), sent_at], "campaign": ["a", campaign],
    }).write_parquet(root / "history.parquet")
    config = root / "campaign.toml"
    config.write_text('[campaign]\nname = "inputs-test"\npurpose = "marketing"\nchannels = ["email"]\n'
                      'as_of = "2026-12-01"\n\n[inputs]\ncustomers = "customers.csv"\nconsents = "consents.csv"\n'
                      'contact_history = "history.parquet"\n\n'
                      '[[pressure]]\nname = "monthly"\nmax_contacts = 2\nwindow_days = 30\n', encoding="utf-8")
    return config


def test_a_value_over_1000_characters_in_a_parquet_history_row_inside_the_window_is_a_data_error(tmp_path):
    config = history_parquet_campaign(tmp_path, LONG, dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc))
    result = CliRunner().invoke(app, ["build", str(config), "--out", str(tmp_path / "run"), "--quiet"])
    run = Run(result.exit_code, result.stdout, result.stderr, tmp_path / "run")
    assert_too_long(run, tmp_path, "history.parquet", 3, "campaign")


def test_a_parquet_history_row_outside_the_window_is_not_read_so_not_checked(tmp_path):
    config = history_parquet_campaign(tmp_path, LONG, dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc))
    result = CliRunner().invoke(app, ["build", str(config), "--out", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 0, result.stderr
