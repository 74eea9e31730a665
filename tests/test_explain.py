"""`audience explain` (issue #3): per channel every rule's verdict and evidence, agreeing with build."""
import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiencecli.cli import app
from audiencecli.config import load_config
from audiencecli.explain import FAIL, NOT_APPLICABLE, explain
from audiencecli.inputs import load_inputs
from conftest import REPO, build, consent, customer

SAMPLE_CONFIGS = sorted((REPO / "sample_data").glob("*.toml"))


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("config_path", SAMPLE_CONFIGS, ids=lambda p: p.stem)
def test_explain_agrees_with_build_for_every_customer_of_the_sample_data(config_path, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["build", str(config_path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.stderr
    config = load_config(config_path)
    explanations = explain(config, load_inputs(config))
    excluded = {(r["customer_id"], r["channel"]): r for r in read(out / "exclusions.csv")}
    sendable = {(r["customer_id"], channel): r["legal_basis"]
                for channel in config.channels for r in read(out / f"{channel}.csv")}
    assert len(explanations) == len(read(config.customers.path))
    for customer_id, explanation in explanations.items():
        for channel in explanation.channels:
            key = (customer_id, channel.channel)
            if key in sendable:
                assert channel.outcome == "sendable" and channel.legal_basis == sendable[key]
                assert all(c.status != FAIL for c in channel.checks), key
            else:
                row = excluded[key]
                assert channel.outcome == "excluded"
                assert (channel.reason_code, channel.all_reasons, channel.detail) == (
                    row["reason_code"], row["all_reasons"], row["detail"])
                failing = [c.code for c in channel.checks if c.status == FAIL]
                if row["reason_code"] in ("duplicate_contact", "control_group"):
                    assert failing == [row["reason_code"]]
                else:
                    assert ";".join(failing) == row["all_reasons"]


def test_explain_shows_every_rule_with_its_verdict_and_the_deciding_consent_event(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1", "email", "marketing", "denied", at="2026-11-02T09:30:00",
                                 source="unsubscribe_link")]
    config = campaign.write()
    result = CliRunner().invoke(app, ["explain", str(config), "C1", "--json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    email = next(c for c in data["channels"] if c["channel"] == "email")
    assert email["outcome"] == "excluded" and email["reason_code"] == "customer_denied"
    assert [c["number"] for c in email["checks"]] == [
        "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R10", "R10", "R10", "R11", "R12", "R13", "R14",
        "R15"]
    denied = next(c for c in email["checks"] if c["code"] == "customer_denied")
    assert denied["status"] == FAIL and "2026-11-02T09:30:00+02:00" in denied["detail"]
    assert email["evidence"]["consent"]["source"] == "unsubscribe_link"
    paperless = next(c for c in email["checks"] if c["code"] == "paperless")
    assert paperless["status"] == NOT_APPLICABLE


def test_explain_cuts_a_consent_source_over_200_characters(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1", "email", "marketing", "denied", source="s" * 300)]
    config = campaign.write()
    for args in (["--json"], []):
        result = CliRunner(env={"COLUMNS": "2000"}).invoke(app, ["explain", str(config), "C1", "--quiet", *args])
        assert result.exit_code == 0, result.stderr
        assert "s" * 199 + "…" in result.stdout and "s" * 200 not in result.stdout


def test_explain_names_the_matched_list_and_key(campaign):
    campaign.customers = [customer("C1")]
    campaign.lists = [{"name": "tml", "kind": "telemarketing", "rows": [{"phone": "+358 40 0000001"}]}]
    config = campaign.write()
    result = CliRunner().invoke(app, ["explain", str(config), "C1", "--json", "--quiet"])
    phone = next(c for c in json.loads(result.stdout)["channels"] if c["channel"] == "phone")
    assert phone["reason_code"] == "telemarketing_prohibition"
    assert "tml (phone)" in phone["evidence"]["lists"]["telemarketing"]


def test_explain_tree_in_the_terminal(campaign):
    campaign.customers = [customer("C1")]
    config = campaign.write()
    result = CliRunner().invoke(app, ["explain", str(config), "C1", "--quiet"])
    assert result.exit_code == 0, result.stderr
    for text in ("C1", "email", "sms", "phone", "post", "social", "R1 segment_not_targeted", "R13 control_group"):
        assert text in result.stdout


def test_explain_of_an_unknown_customer_is_a_usage_error(campaign):
    campaign.customers = [customer("C1")]
    config = campaign.write()
    result = CliRunner().invoke(app, ["explain", str(config), "C404", "--quiet"])
    assert result.exit_code == 2
    assert "C404" in result.stderr and "Traceback" not in result.stderr


def test_explain_writes_nothing(campaign):
    campaign.customers = [customer("C1")]
    config = campaign.write()
    before = sorted(p.name for p in campaign.root.iterdir())
    CliRunner().invoke(app, ["explain", str(config), "C1", "--quiet"])
    assert sorted(p.name for p in campaign.root.iterdir()) == before


def test_explain_shows_the_duplicate_it_lost_to_and_the_holdout_bucket(campaign):
    campaign.customers = [customer("C1"), customer("C2", email="aino1@example.fi")]
    campaign.consents = [consent("C1"), consent("C2")]
    campaign.campaign = {"holdout_percent": 0.0001}
    run = build(campaign)
    assert run.reason("C2", "email") == "duplicate_contact"
    config = load_config(campaign.root / "campaign.toml")
    email = next(c for c in explain(config, load_inputs(config), ["C2"])["C2"].channels if c.channel == "email")
    assert email.evidence["duplicate_of"] == "C1"
    assert email.evidence["holdout_bucket"] is not None


def test_explain_shows_year_0000_dates_and_times_which_the_readers_accept(campaign):
    campaign.customers = [customer("C1", deceased_date="0000-01-01"), customer("C2")]
    campaign.consents = [consent("C2", "email", "marketing", "denied", at="0000-01-01T00:00:00+00:00")]
    config = campaign.write()
    for customer_id, shown in (("C1", "0000-01-01"), ("C2", "0000-01-01T")):
        result = CliRunner().invoke(app, ["explain", str(config), customer_id, "--json", "--quiet"])
        assert result.exit_code == 0, result.stderr
        assert shown in result.stdout and "Traceback" not in result.stderr


def test_explain_names_the_first_active_holding_as_evidence(campaign, monkeypatch):
    import audiencecli.sources.holdings

    monkeypatch.setattr(audiencecli.sources.holdings, "SLICE_ROWS", 2)  # read in slices, as a big file is
    campaign.campaign = {"purpose": "contract", "product_group": "pension"}
    campaign.customers = [customer("C1")]
    campaign.holdings = [
        {"customer_id": "C1", "product_group": "home", "start_date": "2020-01-01"},
        {"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01", "end_date": "2021-01-01"},
        {"customer_id": "C1", "product_group": "pension", "start_date": "2030-01-01"},
        {"customer_id": "C1", "product_group": "pension", "start_date": "2019-01-01"},
        {"customer_id": "C1", "product_group": "pension", "start_date": "2018-01-01"},
    ]
    config = campaign.write()
    result = CliRunner().invoke(app, ["explain", str(config), "C1", "--json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    email = next(c for c in json.loads(result.stdout)["channels"] if c["channel"] == "email")
    assert email["outcome"] == "sendable" and email["legal_basis"] == "contract"
    assert email["evidence"]["active_holding_line"] == 5
