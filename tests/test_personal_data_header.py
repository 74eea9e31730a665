"""A file whose header line is missing: its first data row is read as the header, and the
"required column is missing" / "no key column" messages must not list that row's values (a
customer's name, email, phone and address) as the columns found (contract section 8)."""
from __future__ import annotations

from test_personal_data import OTHER, SECRET, assert_names_no_one, invoke, secretive


def test_a_customers_file_without_its_header_line_names_no_one(campaign):
    config = secretive(campaign).write()
    path = campaign.root / "customers.csv"
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]), encoding="utf-8")
    code, said = invoke("build", config, "--out", campaign.root / "run", "--allow-stale")
    assert code == 3, said
    assert "customers.csv:1: column customer_id: required column is missing" in said
    assert_names_no_one(said, SECRET, OTHER)


def test_a_list_without_its_header_line_names_no_one(campaign):
    config = secretive(campaign).write()
    path = campaign.root / "old-robinson.csv"
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]), encoding="utf-8")
    code, said = invoke("build", config, "--out", campaign.root / "run", "--allow-stale")
    assert code == 3, said
    assert "old-robinson.csv:1: no key column" in said
    assert_names_no_one(said, SECRET, OTHER)
