"""Excel workbooks as inputs (contract section 13): the first sheet or a named one, every cell
read as the text a person sees (a date cell is a date, a number keeps its digits), errors naming
the sheet and the row. Workbooks are made with XlsxWriter, as a spreadsheet export would be."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
import xlsxwriter
from typer.testing import CliRunner

from audiencecli.cli import app
from conftest import CUSTOMER_HEADER, consent, customer

runner = CliRunner()


def workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook of sheets, each a list of rows (the first the header); a date or datetime
    becomes a date cell (formatted d.m.yyyy, as a Finnish Excel shows it), a number a number cell."""
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "d.m.yyyy"})
    time_format = book.add_format({"num_format": "d.m.yyyy h:mm"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(r, c, value, time_format)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif value is None or value == "":
                    continue
                else:
                    sheet.write(r, c, value)
    book.close()
    return path


def customer_rows(*rows: dict) -> list[list]:
    return [CUSTOMER_HEADER] + [[row.get(c, "") for c in CUSTOMER_HEADER] for row in rows]


def build_with(campaign, replacements: dict[str, str], *args: str):
    config = campaign.write()
    text = config.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    config.write_text(text, encoding="utf-8")
    out = campaign.root / "run"
    result = runner.invoke(app, ["build", str(config), "--out", str(out), "--quiet", *args])
    return result, out


def sendable(out: Path, channel: str) -> dict[str, dict]:
    import csv
    with (out / f"{channel}.csv").open(encoding="utf-8", newline="") as handle:
        return {row["customer_id"]: row for row in csv.DictReader(handle)}


def test_customers_from_the_first_sheet_of_a_workbook(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1")]
    workbook(campaign.root / "customers.xlsx", {"Asiakkaat": customer_rows(customer("C1"), customer("C2"))})
    result, out = build_with(campaign, {'customers = "customers.csv"': 'customers = "customers.xlsx"'})
    assert result.exit_code == 0, result.output
    assert set(sendable(out, "email")) == {"C1"}


def test_a_named_sheet_is_read(campaign):
    campaign.consents = [consent("C2")]
    workbook(campaign.root / "book.xlsx", {"Muistiinpanot": [["x"], ["y"]],
                                           "Asiakkaat": customer_rows(customer("C2"))})
    result, out = build_with(campaign, {'customers = "customers.csv"':
                                        'customers = { path = "book.xlsx", sheet = "Asiakkaat" }'})
    assert result.exit_code == 0, result.output
    assert set(sendable(out, "email")) == {"C2"}


def test_a_phone_typed_as_a_number_keeps_its_digits(campaign):
    rows = customer_rows(customer("C1", phone=358401234567), customer("C2", phone=401234568))
    campaign.consents = [consent("C1"), consent("C2")]
    workbook(campaign.root / "customers.xlsx", {"Sheet1": rows})
    result, out = build_with(campaign, {'customers = "customers.csv"': 'customers = "customers.xlsx"'})
    assert result.exit_code == 0, result.output
    phones = {cid: row["phone"] for cid, row in sendable(out, "sms").items()}
    # 358401234567 is the international number without "+"; 401234568 the national one whose
    # leading 0 the spreadsheet dropped: with country FI it is 040 123 4568 all the same.
    assert phones == {"C1": "+358401234567", "C2": "+358401234568"}


def test_a_date_cell_is_a_date(campaign):
    rows = customer_rows(customer("C1", birth_date=dt.date(2011, 12, 2)), customer("C2", birth_date=dt.date(1980, 2, 29)))
    campaign.consents = [consent("C1"), consent("C2")]
    workbook(campaign.root / "customers.xlsx", {"Sheet1": rows})
    result, out = build_with(campaign, {'customers = "customers.csv"': 'customers = "customers.xlsx"'})
    assert result.exit_code == 0, result.output
    assert set(sendable(out, "email")) == {"C2"}  # C1 is 14 at as_of: under_age


def test_consents_from_a_workbook_with_datetime_cells(campaign):
    campaign.customers = [customer("C1"), customer("C2")]
    header = ["customer_id", "channel", "purpose", "status", "recorded_at", "source"]
    workbook(campaign.root / "consents.xlsx", {"Sheet1": [header,
                                                         ["C1", "all", "all", "granted", dt.datetime(2026, 1, 1, 10, 0), "web"],
                                                         ["C2", "all", "all", "granted", dt.datetime(2026, 12, 2, 10, 0), "web"]]})
    result, out = build_with(campaign, {'consents = "consents.csv"': 'consents = "consents.xlsx"'})
    assert result.exit_code == 0, result.output
    assert set(sendable(out, "email")) == {"C1"}  # C2's consent is after as_of


def test_an_error_names_the_sheet_and_the_row(campaign):
    workbook(campaign.root / "customers.xlsx", {"Asiakkaat": customer_rows(customer("C1"), customer("C1"))})
    result, out = build_with(campaign, {'customers = "customers.csv"': 'customers = "customers.xlsx"'})
    assert result.exit_code == 3
    assert "customers.xlsx[Asiakkaat]:2: column customer_id: duplicate customer_id" in result.output
    assert "customers.xlsx[Asiakkaat]:3:" in result.output
    assert not out.exists()


def test_a_missing_sheet_is_a_data_error(campaign):
    workbook(campaign.root / "customers.xlsx", {"Sheet1": customer_rows(customer("C1"))})
    result, out = build_with(campaign, {'customers = "customers.csv"':
                                        'customers = { path = "customers.xlsx", sheet = "Asiakkaat" }'})
    assert result.exit_code == 3
    assert "has no sheet 'Asiakkaat'; its sheets: Sheet1" in result.output
    assert not out.exists()


def test_a_file_that_is_not_a_workbook_is_a_data_error(campaign):
    (campaign.root / "customers.xlsx").write_text("customer_id\nC1\n", encoding="utf-8")
    result, out = build_with(campaign, {'customers = "customers.csv"': 'customers = "customers.xlsx"'})
    assert result.exit_code == 3
    assert "cannot be read as an Excel workbook" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_a_suppression_list_from_a_workbook(campaign):
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.consents = [consent("C1"), consent("C2")]
    campaign.lists = [{"name": "internal", "kind": "internal", "rows": None, "file": "internal.xlsx"}]
    workbook(campaign.root / "internal.xlsx", {"Kiellot": [["email"], ["aino2@example.fi"]]})
    result, out = build_with(campaign, {})
    assert result.exit_code == 0, result.output
    assert set(sendable(out, "email")) == {"C1"}


def test_sheet_is_for_workbooks_only(campaign):
    result, _ = build_with(campaign, {'customers = "customers.csv"':
                                      'customers = { path = "customers.csv", sheet = "Sheet1" }'})
    assert result.exit_code == 2
    assert "inputs.customers.sheet" in result.output


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (Debian package libreoffice-calc-nogui) is not installed; "
                                            ".ci/run installs it when it can")
def test_a_workbook_saved_by_libreoffice_is_read_as_a_person_sees_it(campaign, tmp_path_factory):
    """A CSV opened in LibreOffice Calc and saved as .xlsx, as a marketer would: Calc makes the
    phones and postal codes numbers and the ISO dates date cells."""
    campaign.customers = [customer("C1", phone="358401234567", birth_date="1980-02-29", postal_code="00100"),
                          customer("C2", phone="0401234568", birth_date="1.2.1990"),
                          customer("C3", birth_date="2011-12-02")]
    campaign.consents = [consent("C1"), consent("C2"), consent("C3")]
    campaign.write()
    profile = tmp_path_factory.mktemp("libreoffice-profile")
    converted = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--infilter=CSV:44,34,76,1",
         "--convert-to", "xlsx", "--outdir", str(campaign.root), str(campaign.root / "customers.csv")],
        capture_output=True, text=True, timeout=180)
    assert converted.returncode == 0 and (campaign.root / "customers.xlsx").exists(), converted.stderr
    result, out = build_with(campaign, {'customers = "customers.csv"': 'customers = "customers.xlsx"'})
    assert result.exit_code == 0, result.output
    # Calc made 358401234567 a number: read as its digits, it is the international number.
    assert sendable(out, "sms")["C1"]["phone"] == "+358401234567"
    # 0401234568 lost its leading 0 in Calc: the national number of FI all the same.
    assert sendable(out, "sms")["C2"]["phone"] == "+358401234568"
    # The ISO dates became date cells: C3 (born 2011-12-02) is 14 at as_of; C1 born on 29 February.
    import csv
    with (out / "exclusions.csv").open(encoding="utf-8", newline="") as handle:
        reasons = {(r["customer_id"], r["channel"]): r["reason_code"] for r in csv.DictReader(handle)}
    assert reasons[("C3", "email")] == "under_age"
    assert "C1" in sendable(out, "email") and "C2" in sendable(out, "email")
    # 00100 became the number 100: not a 5-digit postal code, so no letter.
    assert reasons[("C1", "post")] == "invalid_contact"


def test_the_manifest_names_the_sheet_read(campaign):
    import json
    campaign.consents = [consent("C1")]
    campaign.lists = [{"name": "internal", "kind": "internal", "rows": None,
                       "path": {"path": "internal.xlsx", "sheet": "Kiellot"}}]
    workbook(campaign.root / "book.xlsx", {"Muut": [["x"]], "Asiakkaat": customer_rows(customer("C1"))})
    workbook(campaign.root / "internal.xlsx", {"Kiellot": [["email"], ["nobody@example.fi"]]})
    result, out = build_with(campaign, {'customers = "customers.csv"':
                                        'customers = { path = "book.xlsx", sheet = "Asiakkaat" }'})
    assert result.exit_code == 0, result.output
    config = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["config"]
    assert config["inputs"]["customers"]["sheet"] == "Asiakkaat"
    assert config["suppressions"][0]["sheet"] == "Kiellot"
