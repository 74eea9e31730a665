"""Personal data (contract sections 7 and 8): no names, emails, phones or addresses in what the tool
says or in summary.json and manifest.json; `explain`, asked about one customer, shows that
customer's own contact points and no one else's; run files 0600, the run folder 0700.
"""
from __future__ import annotations

import hashlib
import os
import stat

import pytest
from typer.testing import CliRunner

from audiencecli.cli import app
from conftest import Campaign, consent, customer

# Contact data no message may hold, each in every spelling the tool makes of it.
SECRET = {
    "first_name": "Zinaida", "last_name": "Quistgaard", "company_name": "Quistgaard Oy",
    "email": "Zinaida.Quist@Example.FI", "phone": "040 987 6543",
    "street_address": "Salakuja 77 B", "postal_code": "00990", "city": "Kätkölä",
}
OTHER = {
    "first_name": "Yrjänä", "last_name": "Wuorimaa", "company_name": "Wuorimaa Ab",
    "email": "yrjana.w@example.com", "phone": "+358 50 111 2233",
    "street_address": "Piilotie 13", "postal_code": "00880", "city": "Vaitiola",
}


def spellings(person: dict) -> set[str]:
    """Each contact value as given, normalized, E.164, bare digits and hashed (a postal code alone
    names no one, and five digits may turn up in any hash)."""
    email = person["email"].strip().lower()
    digits = "358" + "".join(ch for ch in person["phone"] if ch.isdigit()).removeprefix("358").removeprefix("0")
    return {
        *(v for k, v in person.items() if k != "postal_code"), person["email"].lower(), email,
        "+" + digits, digits, person["phone"].replace(" ", ""), person["street_address"].lower(),
        hashlib.sha256(email.encode()).hexdigest(), hashlib.sha256(digits.encode()).hexdigest(),
    }


def assert_names_no_one(text: str, *people: dict) -> None:
    for person in people or (SECRET, OTHER):
        for secret in spellings(person):
            assert secret not in text, secret


def secretive(campaign: Campaign) -> Campaign:
    """Two customers with contact data, an orphan consent, a list phone that cannot be parsed,
    a stale list and a list that does not apply: every kind of note and warning a build gives."""
    campaign.customers = [customer("C1", **SECRET), customer("C2", customer_type="business", **OTHER)]
    campaign.consents = [consent("C1"), consent("C404"), consent("C2", "email", "marketing", "denied")]
    campaign.lists = [
        {"name": "stop", "kind": "internal", "rows": [{"email": SECRET["email"]}, {"phone": "040 98X 6543"},
                                                      {"phone": SECRET["phone"], "channel": "sms"}]},
        {"name": "old-robinson", "kind": "robinson", "list_date": "2026-01-01",
         "rows": [{"first_name": OTHER["first_name"], "last_name": OTHER["last_name"],
                   "street_address": OTHER["street_address"], "postal_code": OTHER["postal_code"]}]},
        {"name": "survey-only", "kind": "custom", "channels": ["email"], "purposes": ["survey"],
         "rows": [{"customer_id": "C1"}]},
    ]
    return campaign


def invoke(*args) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def built(campaign):
    secretive(campaign)
    run = campaign.build("--allow-stale")
    assert run.exit_code == 0, run.stderr
    assert run.summary()["warnings"] and run.summary()["stale"]
    return run


# --- what the tool says ----------------------------------------------------------------------

@pytest.mark.parametrize("options", [[], ["--json"]])
def test_build_output_names_no_one(campaign, options):
    config = secretive(campaign).write()
    code, said = invoke("build", config, "--out", campaign.root / "run", "--allow-stale", *options)
    assert code == 0, said
    assert "warning: list stop" in said and "stale" in said
    assert "98X" not in said  # the list phone that cannot be parsed is counted, not quoted
    assert_names_no_one(said)


def test_validate_output_names_no_one(campaign):
    config = secretive(campaign).write()
    for options in ([], ["--json"]):
        code, said = invoke("validate", config, "--allow-stale", *options)
        assert code == 0, said
        assert_names_no_one(said)


def test_report_names_no_one(built, tmp_path):
    page = tmp_path / "report.html"
    code, said = invoke("report", built.dir, "--html", page)
    assert code == 0, said
    assert_names_no_one(said)
    assert_names_no_one(page.read_text(encoding="utf-8"))


def test_diff_names_no_one(built, campaign, tmp_path):
    campaign.consents = []
    code, said = invoke("build", campaign.write(), "--out", tmp_path / "later", "--allow-stale", "--quiet")
    assert code == 0, said
    changes = tmp_path / "changes.csv"
    code, said = invoke("diff", built.dir, tmp_path / "later", "--out", changes)
    assert code == 0, said
    assert_names_no_one(said)
    assert_names_no_one(changes.read_text(encoding="utf-8"))


# --- summary and manifest --------------------------------------------------------------------

def test_summary_names_no_one(built):
    assert_names_no_one((built.dir / "summary.json").read_text(encoding="utf-8"))


def test_manifest_names_no_one(built):
    assert_names_no_one((built.dir / "manifest.json").read_text(encoding="utf-8"))


# --- error messages --------------------------------------------------------------------------

def test_error_lines_quote_values_of_non_contact_columns_only(campaign):
    campaign.customers = [customer("C1", customer_type="privat", **SECRET),
                          customer("C1", deceased_date="someday", **OTHER)]
    run = campaign.build()
    assert run.exit_code == 3
    assert "(privat)" in run.stderr and "(C1)" in run.stderr and "(someday)" in run.stderr
    assert_names_no_one(run.stderr)


def test_a_row_that_cannot_be_parsed_is_named_by_line_not_by_its_values(campaign):
    config = secretive(campaign).write()
    lines = (campaign.root / "customers.csv").read_text(encoding="utf-8").splitlines()
    lines[1] += ',"unclosed'
    (campaign.root / "customers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, said = invoke("build", config, "--out", campaign.root / "run", "--allow-stale")
    assert code == 3, said
    assert "customers.csv:2: " in said
    assert_names_no_one(said)


def test_a_list_row_in_error_is_named_by_line_not_by_its_values(campaign):
    secretive(campaign)
    campaign.lists[0]["rows"].append({"email": OTHER["email"], "phone": OTHER["phone"], "channel": "pigeon"})
    run = campaign.build("--allow-stale")
    assert run.exit_code == 3
    assert "stop.csv:5: column channel" in run.stderr and "(pigeon)" in run.stderr
    assert_names_no_one(run.stderr)


# --- explain ---------------------------------------------------------------------------------

def test_explain_shows_the_customers_own_contact_points_and_no_one_elses(built, campaign):
    for options in ([], ["--json"]):
        code, said = invoke("explain", campaign.root / "campaign.toml", "C1", "--allow-stale", *options)
        assert code == 0, said
        assert SECRET["email"].lower() in said  # the exception: asked about C1, it shows C1's contact points
        assert_names_no_one(said, OTHER)


# --- file modes ------------------------------------------------------------------------------

@pytest.fixture
def permissive_umask():
    """A umask that lets everyone read new files: the modes must come from the tool, not the umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_run_files_are_0600_even_under_a_permissive_umask(campaign, permissive_umask, fmt):
    run = secretive(campaign).build("--allow-stale", "--format", fmt)
    assert run.exit_code == 0, run.stderr
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in run.dir.iterdir()}
    assert len(modes) == 8 and set(modes.values()) == {0o600}, modes


def test_run_folder_is_0700_even_under_a_permissive_umask(campaign, permissive_umask):
    run = secretive(campaign).build("--allow-stale")
    assert run.exit_code == 0, run.stderr
    assert stat.S_IMODE(run.dir.stat().st_mode) == 0o700


def test_rebuilt_run_folder_stays_0700(campaign):
    run = secretive(campaign).build("--allow-stale")
    os.chmod(run.dir, 0o755)  # someone opened up the previous run; the new one is private again
    again = campaign.build("--allow-stale")
    assert again.exit_code == 0, again.stderr
    assert stat.S_IMODE(again.dir.stat().st_mode) == 0o700


def test_diff_and_report_files_are_0600_even_under_a_permissive_umask(built, tmp_path, permissive_umask):
    page, changes = tmp_path / "report.html", tmp_path / "changes.csv"
    assert invoke("report", built.dir, "--html", page)[0] == 0
    assert invoke("diff", built.dir, built.dir, "--out", changes)[0] == 0
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert stat.S_IMODE(changes.stat().st_mode) == 0o600

