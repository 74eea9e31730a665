"""The hand-made sample data set in sample_data/ builds, passes check-run, and exercises everything.

Each sample campaign is built once per session through the real CLI (as a user would run it);
the runs are then checked structurally by the shared check-run tool, for coverage of every
reason code and legal basis, and for the deliberate cases listed in sample_data/README.md.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
CONFIGS = sorted(SAMPLE.glob("*.toml"))
CHECK_RUN = Path(__file__).resolve().parents[2] / "shared" / "tools" / "check-run"

REASON_CODES = {
    "segment_not_targeted", "deceased", "no_active_contract", "paperless", "missing_contact",
    "invalid_contact", "customer_denied", "internal_prohibition", "robinson_register",
    "telemarketing_prohibition", "suppression_list", "no_consent", "duplicate_contact",
    "control_group", "under_age", "address_protected", "contact_pressure", "channel_arbitration",
}
LEGAL_BASES = {
    "legal_obligation", "contract", "consent", "existing_customer", "b2b_legitimate_interest",
    "legitimate_interest",
}
CHANNELS = ("email", "sms", "phone", "post", "social")


def audience_command() -> list[str]:
    script = Path(sys.executable).with_name("audience")
    return [str(script)] if script.exists() else [sys.executable, "-m", "audiencecli"]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Build every sample campaign once; maps config file name to its run directory."""
    out = tmp_path_factory.mktemp("sample-runs")
    built = {}
    for config in CONFIGS:
        run_dir = out / config.stem
        result = subprocess.run(
            [*audience_command(), "build", str(config), "--out", str(run_dir), "--quiet"],
            capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, f"{config.name}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        built[config.name] = run_dir
    return built


def decisions(run_dir: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(customer_id, channel) -> ("sendable", legal_basis) or ("excluded", reason_code)."""
    found = {}
    for channel in CHANNELS:
        path = run_dir / f"{channel}.csv"
        if path.exists():
            for row in read_rows(path):
                found[(row["customer_id"], channel)] = ("sendable", row["legal_basis"])
    for row in read_rows(run_dir / "exclusions.csv"):
        found[(row["customer_id"], row["channel"])] = ("excluded", row["reason_code"])
    return found


def test_sample_configs_exist():
    assert {c.name for c in CONFIGS} >= {
        "campaign.toml", "letters-contract.toml", "letters-legal.toml", "service-newsletter.toml",
    }


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.stem)
def test_sample_campaign_passes_check_run(config, runs):
    if not CHECK_RUN.exists():
        pytest.skip(f"check-run not found at {CHECK_RUN} (shared/ is not beside the repository)")
    result = subprocess.run(
        [sys.executable, str(CHECK_RUN), str(config), str(runs[config.name])],
        capture_output=True, text=True, timeout=120,
    )
    assert "check-run: 0 problems" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0


def test_sample_campaigns_cover_every_reason_code_and_legal_basis(runs):
    reasons: set[str] = set()
    bases: set[str] = set()
    for run_dir in runs.values():
        for kind, value in decisions(run_dir).values():
            (bases if kind == "sendable" else reasons).add(value)
    assert REASON_CODES - reasons == set(), "reason codes no sample campaign produces"
    assert LEGAL_BASES - bases == set(), "legal bases no sample campaign produces"


# The deliberate cases of sample_data/README.md: (config, customer, channel) -> expected outcome.
EXPECTED = [
    ("campaign.toml", "C001", "email", "sendable", "consent"),
    ("campaign.toml", "C001", "post", "sendable", "legitimate_interest"),
    ("campaign.toml", "C002", "post", "excluded", "robinson_register"),  # name-and-address key
    ("campaign.toml", "C002", "phone", "sendable", "legitimate_interest"),  # that row is post only
    ("campaign.toml", "C003", "email", "excluded", "deceased"),
    ("campaign.toml", "C004", "email", "sendable", "consent"),  # deceased_date in the future
    ("campaign.toml", "C005", "email", "excluded", "missing_contact"),
    ("campaign.toml", "C006", "email", "excluded", "invalid_contact"),
    ("campaign.toml", "C006", "social", "sendable", "legitimate_interest"),  # valid phone suffices
    ("campaign.toml", "C007", "phone", "excluded", "missing_contact"),
    ("campaign.toml", "C008", "phone", "excluded", "invalid_contact"),
    ("campaign.toml", "C009", "sms", "excluded", "invalid_contact"),  # landline
    ("campaign.toml", "C009", "phone", "sendable", "legitimate_interest"),
    ("campaign.toml", "C010", "post", "excluded", "missing_contact"),
    ("campaign.toml", "C011", "post", "excluded", "invalid_contact"),  # no city
    ("campaign.toml", "C012", "post", "excluded", "invalid_contact"),  # 4-digit postal code
    ("campaign.toml", "C016", "email", "sendable", "existing_customer"),  # holding ends on as_of
    ("campaign.toml", "C016", "phone", "excluded", "customer_denied"),
    ("campaign.toml", "C017", "sms", "excluded", "invalid_contact"),  # Åland landline
    ("campaign.toml", "C017", "phone", "sendable", "legitimate_interest"),
    ("campaign.toml", "C018", "email", "sendable", "consent"),
    ("campaign.toml", "C019", "email", "excluded", "control_group"),
    ("campaign.toml", "C020", "email", "excluded", "duplicate_contact"),
    ("campaign.toml", "C020", "post", "excluded", "duplicate_contact"),
    ("campaign.toml", "C022", "sms", "excluded", "duplicate_contact"),
    ("campaign.toml", "C022", "post", "sendable", "legitimate_interest"),  # other last name
    ("campaign.toml", "C024", "post", "excluded", "duplicate_contact"),
    ("campaign.toml", "C025", "email", "excluded", "internal_prohibition"),  # matched by email
    ("campaign.toml", "C026", "social", "excluded", "internal_prohibition"),  # by customer_id
    ("campaign.toml", "C027", "phone", "excluded", "robinson_register"),
    ("campaign.toml", "C027", "post", "excluded", "telemarketing_prohibition"),
    ("campaign.toml", "C028", "phone", "excluded", "telemarketing_prohibition"),
    ("campaign.toml", "C029", "email", "excluded", "suppression_list"),
    ("campaign.toml", "C029", "phone", "sendable", "legitimate_interest"),  # that row is email only
    ("campaign.toml", "C030", "sms", "excluded", "suppression_list"),
    ("campaign.toml", "C031", "email", "excluded", "customer_denied"),  # granted, then denied
    ("campaign.toml", "C032", "email", "sendable", "consent"),  # denied, then granted
    ("campaign.toml", "C033", "post", "excluded", "customer_denied"),  # all/all denial
    ("campaign.toml", "C034", "sms", "excluded", "control_group"),
    ("campaign.toml", "C035", "email", "excluded", "customer_denied"),  # tie: denied wins
    ("campaign.toml", "C036", "email", "sendable", "consent"),  # denial after as_of ignored
    ("campaign.toml", "C037", "email", "excluded", "customer_denied"),  # denial on the as_of day
    ("campaign.toml", "C038", "email", "sendable", "consent"),  # 23:30 UTC = next day in Helsinki
    ("campaign.toml", "C039", "email", "excluded", "no_consent"),  # pension ended
    ("campaign.toml", "C040", "email", "excluded", "no_consent"),  # pension starts after as_of
    ("campaign.toml", "C041", "email", "sendable", "b2b_legitimate_interest"),
    ("campaign.toml", "C042", "sms", "sendable", "b2b_legitimate_interest"),  # role "CFO"
    ("campaign.toml", "C043", "email", "excluded", "no_consent"),  # role hr not targeted
    ("campaign.toml", "C045", "email", "excluded", "customer_denied"),
    ("campaign.toml", "C046", "social", "excluded", "missing_contact"),
    ("campaign.toml", "C047", "social", "excluded", "customer_denied"),
    ("campaign.toml", "C049", "email", "excluded", "no_consent"),  # life is another product group
    ("campaign.toml", "C053", "email", "sendable", "existing_customer"),  # before b2b
    ("letters-contract.toml", "C001", "post", "sendable", "contract"),
    ("letters-contract.toml", "C012", "email", "excluded", "no_active_contract"),  # ended 30.11.
    ("letters-contract.toml", "C013", "post", "excluded", "paperless"),
    ("letters-contract.toml", "C013", "email", "sendable", "contract"),
    ("letters-contract.toml", "C025", "email", "sendable", "contract"),  # lists ignored
    ("letters-contract.toml", "C033", "post", "sendable", "contract"),  # denials ignored
    ("letters-contract.toml", "C040", "post", "excluded", "no_active_contract"),
    ("letters-legal.toml", "C033", "email", "sendable", "legal_obligation"),
    ("letters-legal.toml", "C014", "post", "excluded", "paperless"),
    ("service-newsletter.toml", "C041", "email", "excluded", "segment_not_targeted"),
    ("service-newsletter.toml", "C049", "sms", "excluded", "customer_denied"),  # all/service
    ("service-newsletter.toml", "C050", "email", "sendable", "consent"),
    ("service-newsletter.toml", "C051", "email", "excluded", "customer_denied"),
    ("service-newsletter.toml", "C051", "sms", "sendable", "legitimate_interest"),
    ("service-newsletter.toml", "C029", "email", "excluded", "suppression_list"),
    ("service-newsletter.toml", "C025", "email", "sendable", "legitimate_interest"),  # list not read
    ("campaign.toml", "C054", "email", "excluded", "under_age"),  # 14, minimum_age 15 by default
    ("campaign.toml", "C057", "post", "excluded", "address_protected"),
    ("campaign.toml", "C057", "email", "sendable", "existing_customer"),  # protection is post only
    ("letters-legal.toml", "C057", "post", "excluded", "address_protected"),  # whatever the purpose
    ("letters-legal.toml", "C057", "email", "sendable", "legal_obligation"),
    ("letters-legal.toml", "C054", "email", "sendable", "legal_obligation"),  # under_age: not legal
    ("birthday-edge.toml", "C055", "email", "excluded", "under_age"),  # 29 Feb 2008: 17 on 28 Feb
    ("birthday-edge.toml", "C056", "email", "sendable", "consent"),  # 28 Feb 2008: 18 today
    ("multichannel.toml", "C055", "email", "sendable", "consent"),  # 18 by December
    ("multichannel.toml", "C001", "email", "excluded", "contact_pressure"),  # 2 in 30 days
    ("multichannel.toml", "C001", "social", "excluded", "contact_pressure"),  # a cap on every channel
    ("multichannel.toml", "C010", "email", "excluded", "contact_pressure"),  # a second inside the window
    ("multichannel.toml", "C048", "email", "sendable", "existing_customer"),  # one row on the edge: 1
    ("multichannel.toml", "C048", "post", "excluded", "channel_arbitration"),  # e-mail chosen
    ("multichannel.toml", "C015", "email", "sendable", "consent"),  # service cap: not this purpose
    ("multichannel.toml", "C021", "phone", "excluded", "contact_pressure"),  # quarterly-call
    ("multichannel.toml", "C021", "sms", "sendable", "consent"),
    ("multichannel.toml", "C021", "post", "excluded", "channel_arbitration"),  # SMS chosen
    ("multichannel.toml", "C022", "sms", "excluded", "duplicate_contact"),  # after arbitration
    ("multichannel.toml", "C032", "phone", "excluded", "channel_arbitration"),
    ("multichannel.toml", "C032", "social", "sendable", "legitimate_interest"),  # not arbitrated
]


@pytest.mark.parametrize(
    ("config", "customer_id", "channel", "kind", "value"), EXPECTED,
    ids=[f"{c.removesuffix('.toml')}-{i}-{ch}" for c, i, ch, _, _ in EXPECTED],
)
def test_sample_deliberate_case(config, customer_id, channel, kind, value, runs):
    assert decisions(runs[config]).get((customer_id, channel)) == (kind, value)


def test_sample_campaign_counts_orphan_and_list_warning(runs):
    import json

    summary = json.loads((runs["campaign.toml"] / "summary.json").read_text(encoding="utf-8"))
    assert summary["orphan_consent_ids"]["count"] == 1
    assert summary["orphan_consent_ids"]["examples"] == ["C999"]
    assert summary["warnings"], "the robinson list's phone '12' should be counted as a warning"
    assert summary["stale"] is False


def test_sample_campaign_writes_meta_and_google_upload_files_of_its_social_audience(runs):
    run = runs["campaign.toml"]
    social = len(read_rows(run / "social.csv"))
    assert social > 0
    for platform in ("meta", "google"):
        assert len(read_rows(run / f"audience-{platform}.csv")) == social, platform


def test_sample_multichannel_counts_the_history_and_its_orphan(runs):
    import json

    summary = json.loads((runs["multichannel.toml"] / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"]["contact_history"] == 15
    assert summary["orphan_history_ids"] == {"count": 1, "examples": ["C998"]}
