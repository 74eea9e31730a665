"""`audience validate` (issue #3): build's checks, every problem at once, warnings, nothing written."""
import json

from typer.testing import CliRunner

from audiencecli.cli import app
from conftest import REPO, consent, customer

SAMPLE = REPO / "sample_data" / "campaign.toml"


def validate(config, *args):
    return CliRunner().invoke(app, ["validate", str(config), "--quiet", *args])


def test_validate_of_the_sample_campaign_passes_and_prints_a_quality_table():
    result = validate(SAMPLE)
    assert result.exit_code == 0, result.stderr
    for text in ("email", "phone", "address", "missing", "invalid", "valid"):
        assert text in result.stdout
    assert "build would run" in result.stderr


def test_validate_lists_problems_of_every_file_with_builds_exit_code(campaign):
    campaign.customers = [customer("C1", birth_date="32.13.1990"), customer("C1")]
    campaign.consents = [consent("C1", status="maybe")]
    config = campaign.write()
    result = validate(config)
    assert result.exit_code == 3
    assert "customers.csv:2: column birth_date" in result.stderr
    assert "duplicate customer_id" in result.stderr
    assert "consents.csv:2: column status" in result.stderr


def test_problems_are_listed_customers_then_consents_then_holdings_then_lists(campaign):
    """The files are read on two cores; the listing keeps the order of the files."""
    campaign.customers = [customer("C1", customer_type="robot")]
    campaign.consents = [consent("C1", status="maybe")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "soon"}]
    campaign.lists = [{"name": "own", "kind": "internal", "rows": [{"customer_id": "C1", "channel": "fax"}]}]
    result = validate(campaign.write())
    assert result.exit_code == 3
    files = [name for name in ("customers.csv", "consents.csv", "holdings.csv", "own.csv")
             if name in result.stderr]
    assert files == ["customers.csv", "consents.csv", "holdings.csv", "own.csv"], result.stderr
    positions = [result.stderr.index(name) for name in files]
    assert positions == sorted(positions), result.stderr


def test_validate_reports_missing_and_stale_lists_with_exit_4(campaign):
    campaign.customers = [customer("C1")]
    campaign.lists = [{"name": "old", "kind": "robinson", "rows": [{"phone": "0401234567"}], "list_date": "2026-01-01"},
                      {"name": "gone", "kind": "telemarketing", "rows": None, "file": "gone.csv"}]
    config = campaign.write()
    result = validate(config)
    assert result.exit_code == 4
    assert "old" in result.stderr and "stale" in result.stderr
    assert "gone" in result.stderr and "missing" in result.stderr


def test_validate_data_errors_come_before_list_errors(campaign):
    campaign.customers = [customer("C1", customer_type="robot")]
    campaign.lists = [{"name": "old", "kind": "robinson", "rows": [{"phone": "0401234567"}], "list_date": "2026-01-01"}]
    result = validate(campaign.write())
    assert result.exit_code == 3
    assert "stale" in result.stderr and "customer_type" in result.stderr


def test_validate_config_error_exits_2(campaign):
    campaign.customers = [customer("C1")]
    campaign.campaign = {"purpose": "spam"}
    result = validate(campaign.write())
    assert result.exit_code == 2 and "purpose" in result.stderr


def test_validate_warns_without_failing(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C9"), consent("C1", at="2099-01-01T00:00:00")]
    campaign.lists = [{"name": "tm", "kind": "telemarketing", "rows": [{"phone": "12", "note": "x"}]},
                      {"name": "rob", "kind": "robinson", "rows": None, "file": "absent.csv"}]
    campaign.campaign = {"channels": ["email", "phone"]}
    campaign.lists[1]["channels"] = ["post"]
    result = validate(campaign.write(), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    text = " ".join(data["warnings"])
    assert "C9" in text                                   # orphan consent id
    assert "future" in text                               # event dated after now
    assert "unknown columns note" in text                 # extra column
    assert "tm" in text and "phone value" in text         # unusable list phone
    assert any("rob" in note for note in data["notes"])   # list that does not apply
    assert data["quality"]["email"] == {"missing": 0, "invalid": 0, "valid": 1}


def test_validate_counts_contact_quality(campaign):
    campaign.customers = [customer("C1"), customer("C2", email="", phone="12"), customer("C3", email="x@",
                          city="")]
    data = json.loads(validate(campaign.write(), "--json").stdout)
    assert data["quality"]["email"] == {"missing": 1, "invalid": 1, "valid": 1}
    assert data["quality"]["phone"]["invalid"] == 1
    assert data["quality"]["address"] == {"missing": 0, "invalid": 1, "valid": 2}


def test_validate_writes_nothing(campaign):
    campaign.customers = [customer("C1")]
    config = campaign.write()
    before = sorted(p.name for p in campaign.root.iterdir())
    assert validate(config).exit_code == 0
    assert sorted(p.name for p in campaign.root.iterdir()) == before
