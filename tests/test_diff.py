"""`audience diff RUN_A RUN_B`: entered, left and stayed per channel, with the reasons, between two runs."""
from __future__ import annotations

import csv
import json
import shutil
import stat
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiencecli.cli import app
from conftest import Campaign, build, consent, customer

REPO = Path(__file__).resolve().parents[1]
CHANNELS = ("email", "sms", "phone", "post", "social")
CHANGE_HEADER = ["customer_id", "channel", "change", "reason_before", "reason_after",
                 "legal_basis_before", "legal_basis_after"]


def invoke(*args):
    return CliRunner().invoke(app, ["diff", *[str(a) for a in args]])


def diff_json(a: Path, b: Path, *args) -> dict:
    result = invoke(a, b, "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def build_as(campaign: Campaign, name: str, *args: str) -> Path:
    """Build the campaign as it is now and keep the run under `name`."""
    run = build(campaign, *args)
    target = campaign.root / name
    run.dir.rename(target)
    return target


def read_changes(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def small(campaign: Campaign) -> Campaign:
    campaign.customers = [customer("C1"), customer("C2"), customer("C3", email="")]
    campaign.consents = [consent("C1"), consent("C3")]
    return campaign


@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory) -> tuple[Path, Path]:
    """The sample campaign at two dates: between them customers both enter and leave."""
    root = tmp_path_factory.mktemp("sample")
    runs = []
    for as_of in ("2026-09-01", "2027-03-01"):
        out = root / as_of
        result = CliRunner().invoke(app, ["build", str(REPO / "sample_data" / "campaign.toml"), "--out", str(out),
                                          "--as-of", as_of, "--allow-stale", "--quiet"])
        assert result.exit_code == 0, result.stderr
        runs.append(out)
    return runs[0], runs[1]


def test_identical_runs_all_stayed_no_changes(small, tmp_path):
    a = build_as(small, "a")
    b = build_as(small, "b")
    result = diff_json(a, b, "--out", tmp_path / "changes.csv")
    for channel in CHANNELS:
        c = result["channels"][channel]
        assert c["in"] == "both"
        assert (c["entered"], c["left"]) == (0, 0)
        assert c["stayed"] == c["sendable_a"] == c["sendable_b"]
        assert c["left_by_reason"] == c["entered_by_reason"] == {}
        assert c["legal_basis_changes"] == []
    assert result["notes"] == [] and result["same_campaign"] is True
    assert result["channels"]["email"]["stayed"] == 1
    assert (tmp_path / "changes.csv").read_text(encoding="utf-8") == ",".join(CHANGE_HEADER) + "\n"


def test_withdrawn_consent_left_with_customer_denied(small, tmp_path):
    a = build_as(small, "a")
    small.consents.append(consent("C1", status="denied", at="2026-06-01T12:00:00", source="unsubscribe_link"))
    b = build_as(small, "b")
    result = diff_json(a, b, "--out", tmp_path / "changes.csv")
    email = result["channels"]["email"]
    assert (email["left"], email["entered"], email["stayed"]) == (1, 0, 0)
    assert email["left_by_reason"] == {"customer_denied": 1}
    rows = [r for r in read_changes(tmp_path / "changes.csv") if r["channel"] == "email"]
    assert rows == [{"customer_id": "C1", "channel": "email", "change": "left", "reason_before": "",
                     "reason_after": "customer_denied", "legal_basis_before": "consent", "legal_basis_after": ""}]


def test_new_consent_entered_with_the_old_reason(small, tmp_path):
    a = build_as(small, "a")
    small.consents.append(consent("C2", at="2026-06-01T12:00:00"))
    b = build_as(small, "b")
    result = diff_json(a, b, "--out", tmp_path / "changes.csv")
    for channel in ("email", "sms"):
        assert result["channels"][channel]["entered_by_reason"] == {"no_consent": 1}
        assert result["channels"][channel]["left"] == 0
    row = next(r for r in read_changes(tmp_path / "changes.csv") if r["channel"] == "email")
    assert (row["customer_id"], row["change"], row["reason_before"], row["legal_basis_after"]) == \
        ("C2", "entered", "no_consent", "consent")


def test_customer_missing_from_a_run_is_not_in_run(small):
    small.customers.append(customer("007"))
    small.consents.append(consent("007"))
    a = build_as(small, "a")
    small.customers = [c for c in small.customers if c["customer_id"] != "C1"]
    b = build_as(small, "b")
    result = diff_json(a, b)
    assert result["channels"]["email"]["left_by_reason"] == {"not in run": 1}
    assert result["channels"]["post"]["left_by_reason"] == {"not in run": 1}
    back = diff_json(b, a)
    assert back["channels"]["email"]["entered_by_reason"] == {"not in run": 1}


def test_legal_basis_change_among_those_who_stayed(campaign, tmp_path):
    campaign.campaign = {"product_group": "pension", "channels": ["email"]}
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    campaign.consents = [consent("C2")]
    a = build_as(campaign, "a")
    campaign.consents.append(consent("C1", at="2026-06-01T12:00:00"))
    b = build_as(campaign, "b")
    result = invoke(a, b, "--out", tmp_path / "changes.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "email: +0 \u22120 (stayed 2); legal basis: 1 existing_customer→consent"
    assert read_changes(tmp_path / "changes.csv") == [
        {"customer_id": "C1", "channel": "email", "change": "basis_changed", "reason_before": "",
         "reason_after": "", "legal_basis_before": "existing_customer", "legal_basis_after": "consent"}]
    email = diff_json(a, b)["channels"]["email"]
    assert email["legal_basis_changes"] == [{"from": "existing_customer", "to": "consent", "count": 1}]


def _brute_force(a: Path, b: Path, channel: str) -> dict:
    def sendable(run: Path) -> dict:
        with (run / f"{channel}.csv").open(encoding="utf-8", newline="") as handle:
            return {r["customer_id"]: r["legal_basis"] for r in csv.DictReader(handle)}

    def excluded(run: Path) -> dict:
        with (run / "exclusions.csv").open(encoding="utf-8", newline="") as handle:
            return {r["customer_id"]: r["reason_code"] for r in csv.DictReader(handle) if r["channel"] == channel}

    before, after = sendable(a), sendable(b)
    was, now = excluded(a), excluded(b)
    stayed = before.keys() & after.keys()
    return {
        "sendable_a": len(before), "sendable_b": len(after), "stayed": len(stayed),
        "entered": len(after.keys() - before.keys()), "left": len(before.keys() - after.keys()),
        "left_by_reason": Counter(now.get(c, "not in run") for c in before.keys() - after.keys()),
        "entered_by_reason": Counter(was.get(c, "not in run") for c in after.keys() - before.keys()),
        "legal_basis_changes": Counter((before[c], after[c]) for c in stayed if before[c] != after[c]),
    }


def test_counts_match_a_brute_force_recomputation_from_the_files(sample_runs, tmp_path):
    a, b = sample_runs
    result = diff_json(a, b, "--out", tmp_path / "changes.csv")
    rows = read_changes(tmp_path / "changes.csv")
    assert any(r["change"] == "left" for r in rows) and any(r["change"] == "entered" for r in rows)
    for channel in CHANNELS:
        got = dict(result["channels"][channel])
        expected = _brute_force(a, b, channel)
        assert got.pop("in") == "both"
        got["left_by_reason"] = Counter(got["left_by_reason"])
        got["entered_by_reason"] = Counter(got["entered_by_reason"])
        got["legal_basis_changes"] = Counter({(x["from"], x["to"]): x["count"] for x in got["legal_basis_changes"]})
        assert got == expected, channel
        changes = Counter(r["change"] for r in rows if r["channel"] == channel)
        assert (changes["entered"], changes["left"]) == (expected["entered"], expected["left"])
        assert changes["basis_changed"] == sum(expected["legal_basis_changes"].values())


def test_json_structure(sample_runs):
    a, b = sample_runs
    result = diff_json(a, b)
    assert set(result) == {"run_a", "run_b", "same_campaign", "notes", "channels"}
    assert result["run_a"] == {"path": str(a), "campaign": "pension-webinar-2026-12",
                               "as_of": "2026-09-01T23:59:59.999999+03:00", "stale": False, "format": "csv"}
    assert result["run_b"]["as_of"].startswith("2027-03-01")
    assert list(result["channels"]) == list(CHANNELS)
    email = result["channels"]["email"]
    assert set(email) == {"in", "sendable_a", "sendable_b", "stayed", "entered", "left",
                          "left_by_reason", "entered_by_reason", "legal_basis_changes"}
    counts = list(email["left_by_reason"].values())
    assert counts == sorted(counts, reverse=True) and sum(counts) == email["left"]
    assert email["sendable_b"] == email["stayed"] + email["entered"]


def test_text_output_one_line_per_channel_and_a_table(sample_runs):
    a, b = sample_runs
    result = invoke(a, b)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    expected = diff_json(a, b)["channels"]["email"]
    head = f"email: +{expected['entered']} \u2212{expected['left']} (stayed {expected['stayed']}); left: "
    assert lines[0].startswith(head)
    assert [line.split(":")[0] for line in lines[:5]] == list(CHANNELS)
    assert "sendable in A" in result.stdout and "now customer_denied" in result.stdout


def test_text_output_names_each_run_and_its_as_of_readably_on_one_line(sample_runs):
    result = invoke(*sample_runs)  # CliRunner's terminal: 80 columns
    assert result.exit_code == 0, result.stderr
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert "A: pension-webinar-2026-12 as of 2026-09-01, end of day (Helsinki)" in lines
    assert "B: pension-webinar-2026-12 as of 2027-03-01, end of day (Helsinki) (STALE)" in lines


def test_out_csv_columns_sorting_and_owner_only(sample_runs, tmp_path):
    a, b = sample_runs
    out = tmp_path / "changes.csv"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o644)
    result = invoke(a, b, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == CHANGE_HEADER
        rows = list(reader)
    assert rows
    keys = [(r[0], CHANNELS.index(r[1])) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for r in rows:
        change, reason_before, reason_after, basis_before, basis_after = r[2:]
        assert change in ("entered", "left", "basis_changed")
        assert bool(reason_before) == (change == "entered") and bool(reason_after) == (change == "left")
        assert bool(basis_before) == (change != "entered") and bool(basis_after) == (change != "left")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["changes.csv"]


def test_csv_and_parquet_runs_compare(small):
    a = build_as(small, "a")
    small.consents.append(consent("C1", status="denied", at="2026-06-01T12:00:00"))
    b = build_as(small, "b", "--format", "parquet")
    assert (b / "exclusions.parquet").is_file() and not (b / "exclusions.csv").exists()
    result = diff_json(a, b)
    assert result["run_b"]["format"] == "parquet"
    assert result["channels"]["sms"]["left_by_reason"] == {"customer_denied": 1}
    same = build_as(small, "c")
    for compared in (diff_json(same, b), diff_json(b, same)):
        assert all(c["entered"] == c["left"] == 0 for c in compared["channels"].values())
        assert compared["channels"]["phone"]["stayed"] == 2


def test_different_campaigns_and_channels_are_noted(small):
    a = build_as(small, "a")
    small.campaign = {"name": "other-campaign", "channels": ["email", "sms"]}
    b = build_as(small, "b")
    result = invoke(a, b, "--json")
    assert result.exit_code == 0
    assert "note: the runs are of different campaigns (A: test-campaign, B: other-campaign)" in result.stderr
    data = json.loads(result.stdout)
    assert data["same_campaign"] is False
    assert data["channels"]["post"] == {"in": "run_a", "sendable_a": 3}
    text = invoke(a, b).stdout
    assert "post: only in run A (3 sendable)" in text


def test_output_holds_no_personal_data(small, tmp_path):
    a = build_as(small, "a")
    small.consents.append(consent("C2"))
    b = build_as(small, "b")
    out = tmp_path / "changes.csv"
    shown = invoke(a, b).stdout + invoke(a, b, "--json").stdout + invoke(a, b, "--out", out).stderr
    shown += out.read_text(encoding="utf-8")
    for person in small.customers:
        for field in ("email", "first_name", "last_name", "street_address"):
            if person[field]:
                assert person[field] not in shown


@pytest.mark.parametrize("damage", ["missing", "no_summary", "no_exclusions", "bad_summary", "a_file"])
def test_not_a_run_directory_is_exit_2_with_one_line(small, damage):
    a = build_as(small, "a")
    b = small.root / "b"
    shutil.copytree(a, b)
    if damage == "missing":
        shutil.rmtree(b)
    elif damage == "no_summary":
        (b / "summary.json").unlink()
    elif damage == "no_exclusions":
        (b / "exclusions.csv").unlink()
    elif damage == "bad_summary":
        (b / "summary.json").write_text("{", encoding="utf-8")
    else:
        b = a / "email.csv"
    result = invoke(a, b)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and str(b) in result.stderr
    assert "Traceback" not in result.stderr


def test_diff_names_the_reasons_of_who_should_be_contacted(tmp_path):
    """The webinar on all five channels, then the same data with caps and arbitration: those who
    left went to the new rules."""
    runs = []
    for config in ("campaign.toml", "multichannel.toml"):
        out = tmp_path / config
        result = CliRunner().invoke(app, ["build", str(REPO / "sample_data" / config), "--out", str(out), "--quiet"])
        assert result.exit_code == 0, result.stderr
        runs.append(out)
    result = diff_json(*runs)
    left = {reason for c in result["channels"].values() for reason in c.get("left_by_reason", {})}
    assert {"contact_pressure", "channel_arbitration"} <= left
