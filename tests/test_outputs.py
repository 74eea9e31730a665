"""The run directory (contract sections 4 social hashes, and 7): files, columns, rows, summary,
manifest, permissions, determinism and atomic replacement."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from audiencecli import __version__
from audiencecli.errors import OutputError
from conftest import CUSTOMER_HEADER, Campaign, customer, write_csv

CHANNELS = ("email", "sms", "phone", "post", "social")
COLUMNS = {
    "email": ["customer_id", "email", "first_name", "last_name", "language", "legal_basis"],
    "sms": ["customer_id", "phone", "language", "legal_basis"],
    "phone": ["customer_id", "phone", "first_name", "last_name", "company_name", "language", "legal_basis"],
    "post": ["customer_id", "first_name", "last_name", "company_name", "street_address", "postal_code",
             "city", "country", "language", "legal_basis"],
    "social": ["customer_id", "email_sha256", "phone_sha256", "legal_basis"],
    "exclusions": ["customer_id", "channel", "reason_code", "all_reasons", "detail"],
}
TABLES = (*CHANNELS, "exclusions")

# The contract's own check vectors (section 4).
EMAIL_VECTOR = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
PHONE_VECTOR = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"


def granted(customer_id: str, channel: str = "all", purpose: str = "all") -> dict:
    return {"customer_id": customer_id, "channel": channel, "purpose": purpose, "status": "granted",
            "recorded_at": "2026-01-01T10:00:00", "source": "web"}


def denied(customer_id: str, channel: str = "all", purpose: str = "all") -> dict:
    return {**granted(customer_id, channel, purpose), "status": "denied", "source": "unsubscribe_link"}


def read_table(path: Path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, infer_schema=False)


def varied(campaign: Campaign) -> Campaign:
    """A handful of customers giving sendable rows, several reasons and empty values."""
    campaign.customers = [
        customer("C1"),
        customer("C2", first_name="", language="sv", country=""),
        customer("C10", email="", phone=""),
        customer("C3", email="not-an-email", phone="12"),
        customer("C4", deceased_date="2025-01-01"),
        customer("C9", email=" Aino9@Example.FI "),
    ]
    campaign.consents = [granted("C1"), granted("C2"), denied("C9", "email"), granted("C9", "sms")]
    return campaign


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def table_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.stem in TABLES}


def header(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[0].split(",")


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- which files ---------------------------------------------------------------------------

def test_only_the_campaigns_channels_get_a_file(campaign):
    campaign.campaign = {"channels": ["email", "post"]}
    campaign.customers = [customer("C1")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    names = {p.name for p in run.dir.iterdir()}
    assert {"email.csv", "post.csv", "exclusions.csv", "summary.json", "manifest.json"} <= names
    assert not names & {"sms.csv", "phone.csv", "social.csv"}


def test_files_sit_directly_in_the_run_directory(campaign):
    varied(campaign)
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert [p.name for p in run.dir.iterdir() if p.is_dir()] == []


def test_empty_channel_file_exists_with_its_header(campaign):
    campaign.campaign = {"channels": ["email"]}
    campaign.customers = [customer("C1")]  # no consent: R9 excludes everyone on email
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert run.sendable("email") == {}
    assert (run.dir / "email.csv").read_text(encoding="utf-8").splitlines() == [",".join(COLUMNS["email"])]


def test_empty_exclusions_file_exists_with_its_header(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [granted("C1")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert run.rows("exclusions") == []
    assert (run.dir / "exclusions.csv").read_text(encoding="utf-8").splitlines() == [",".join(COLUMNS["exclusions"])]


@pytest.mark.parametrize("table", TABLES)
def test_header_is_exactly_the_contract_columns_in_order(campaign, table):
    varied(campaign)
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert header(run.dir / f"{table}.csv") == COLUMNS[table]


# --- rows and values -----------------------------------------------------------------------

def test_channel_rows_are_sorted_by_customer_id_as_strings(campaign):
    campaign.customers = [customer("C9"), customer("C10"), customer("C2"), customer("C1")]
    campaign.consents = [granted(c) for c in ("C9", "C10", "C2", "C1")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    for channel in CHANNELS:
        assert [r["customer_id"] for r in run.rows(channel)] == ["C1", "C10", "C2", "C9"]


def test_a_customers_exclusion_rows_follow_the_contracts_channel_order_whatever_the_configs(campaign):
    campaign.campaign = {"channels": ["social", "post", "phone", "sms", "email"]}
    campaign.customers = [customer("C2", email=None, phone=None, street_address=None, postal_code=None, city=None),
                          customer("C1", email=None, phone=None, street_address=None, postal_code=None, city=None)]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    rows = [(r["customer_id"], r["channel"]) for r in run.rows("exclusions")]
    assert rows == [(c, channel) for c in ("C1", "C2") for channel in ("email", "sms", "phone", "post", "social")]


def test_exclusion_rows_are_sorted_by_customer_id_as_strings(campaign):
    campaign.customers = [customer("C9"), customer("C10"), customer("C2"), customer("C1")]
    run = campaign.build()  # no consent: all excluded from email and sms
    assert run.exit_code == 0, run.stderr
    ids = [r["customer_id"] for r in run.rows("exclusions")]
    assert ids == sorted(ids)
    assert list(dict.fromkeys(ids)) == ["C1", "C10", "C2", "C9"]


def test_emails_are_written_trimmed_and_lower_cased(campaign):
    campaign.customers = [customer("C1", email="  Aino.VIRTANEN@Example.FI ")]
    campaign.consents = [granted("C1")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert run.rows("email")[0]["email"] == "aino.virtanen@example.fi"


@pytest.mark.parametrize("raw", ["\u00a0aino@example.fi\t", "\u2003Aino@Example.fi\u00a0", " \t"])
def test_emails_are_trimmed_of_any_white_space_and_blank_is_missing(campaign, raw):
    # Emails are trimmed by their normalization, not by the reader: tabs and Unicode spaces too.
    campaign.customers = [customer("C1", email=raw)]
    campaign.consents = [granted("C1")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    if raw.strip():
        assert run.rows("email")[0]["email"] == "aino@example.fi"
    else:
        assert run.reason("C1", "email") == "missing_contact"


@pytest.mark.parametrize("raw, country, e164", [
    ("040 123 4567", "", "+358401234567"),
    ("00358 50 1234567", "FI", "+358501234567"),
    ("+358 40 1234567", "", "+358401234567"),
    ("070-123 45 67", "SE", "+46701234567"),
])
@pytest.mark.parametrize("channel", ["sms", "phone"])
def test_phones_are_written_in_e164(campaign, channel, raw, country, e164):
    campaign.customers = [customer("C1", phone=raw, country=country)]
    campaign.consents = [granted("C1")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert run.rows(channel)[0]["phone"] == e164


@pytest.mark.parametrize("channel", ["email", "sms", "phone", "post"])
def test_missing_language_is_written_fi(campaign, channel):
    campaign.customers = [customer("C1", language=""), customer("C2", language="sv")]
    campaign.consents = [granted("C1"), granted("C2")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert {r["customer_id"]: r["language"] for r in run.rows(channel)} == {"C1": "fi", "C2": "sv"}


def test_missing_country_is_written_FI(campaign):
    campaign.customers = [customer("C1", country=""), customer("C2", country="FI")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert {r["customer_id"]: r["country"] for r in run.rows("post")} == {"C1": "FI", "C2": "FI"}


def test_empty_values_are_empty_strings_in_csv(campaign):
    campaign.customers = [customer("C1", first_name="", company_name="")]
    campaign.consents = [granted("C1")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    post = run.rows("post")[0]
    assert post["first_name"] == "" and post["company_name"] == ""
    assert run.rows("email")[0]["first_name"] == ""
    for table in TABLES:
        text = (run.dir / f"{table}.csv").read_text(encoding="utf-8")
        assert "null" not in text.lower() and "None" not in text and "nan" not in text.lower()


# --- parquet -------------------------------------------------------------------------------

def test_format_parquet_writes_parquet_tables_with_the_contract_columns(campaign):
    varied(campaign)
    run = campaign.build("--format", "parquet")
    assert run.exit_code == 0, run.stderr
    for table in TABLES:
        assert not (run.dir / f"{table}.csv").exists()
        assert pl.read_parquet(run.dir / f"{table}.parquet").columns == COLUMNS[table]


@pytest.mark.parametrize("customers_per_chunk", [2, 1_000])  # pyarrow's writer, Polars' writer
def test_parquet_columns_are_plain_text_for_any_reader(campaign, monkeypatch, customers_per_chunk):
    import pyarrow as pa
    import pyarrow.parquet as pq

    import audiencecli.pipeline

    varied(campaign)
    monkeypatch.setattr(audiencecli.pipeline, "CUSTOMERS_PER_CHUNK", customers_per_chunk)
    run = campaign.build("--format", "parquet")
    assert run.exit_code == 0, run.stderr
    for table in TABLES:
        path = run.dir / f"{table}.parquet"
        assert set(pl.read_parquet_schema(path).values()) == {pl.String}, table
        assert all(pa.types.is_string(t) or pa.types.is_large_string(t) for t in pq.read_schema(path).types), table
    exclusions = pl.read_parquet(run.dir / "exclusions.parquet")
    assert exclusions.height > 4
    assert set(exclusions.get_column("channel")) <= {"email", "sms", "phone", "post", "social"}
    assert all(reasons.split(";")[0] == code for code, reasons in exclusions.select("reason_code", "all_reasons").rows())


def test_output_format_in_config_writes_parquet(campaign):
    varied(campaign)
    campaign.output = {"format": "parquet"}
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    for table in TABLES:
        assert (run.dir / f"{table}.parquet").is_file()
        assert not (run.dir / f"{table}.csv").exists()


def test_parquet_has_nulls_for_empty_values(campaign):
    campaign.customers = [customer("C1", first_name="", company_name="")]
    campaign.consents = [granted("C1")]
    run = campaign.build("--format", "parquet")
    assert run.exit_code == 0, run.stderr
    post = pl.read_parquet(run.dir / "post.parquet").row(0, named=True)
    assert post["first_name"] is None and post["company_name"] is None
    email = pl.read_parquet(run.dir / "email.parquet").row(0, named=True)
    assert email["first_name"] is None


def test_parquet_holds_the_same_rows_as_csv(campaign):
    varied(campaign)
    csv_run = campaign.build()
    assert csv_run.exit_code == 0, csv_run.stderr
    csv_dir = campaign.root / "run-csv"
    shutil.move(csv_run.dir, csv_dir)
    parquet_run = campaign.build("--format", "parquet")
    assert parquet_run.exit_code == 0, parquet_run.stderr
    for table in TABLES:
        from_csv = pl.read_csv(csv_dir / f"{table}.csv", infer_schema=False)  # empty field → null
        from_parquet = pl.read_parquet(parquet_run.dir / f"{table}.parquet")
        assert from_parquet.columns == from_csv.columns
        assert from_parquet.cast(pl.String).equals(from_csv), table


# --- social hashes (section 4) -------------------------------------------------------------

def social(run) -> dict[str, dict]:
    return {r["customer_id"]: r for r in run.rows("social")}


def test_social_email_hash_is_sha256_of_the_normalized_email(campaign):
    campaign.campaign = {"channels": ["social"]}
    campaign.customers = [customer("C1", email="John_Smith@Gmail.com ")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert social(run)["C1"]["email_sha256"] == EMAIL_VECTOR


def test_social_phone_hash_is_sha256_of_e164_digits_without_plus(campaign):
    campaign.campaign = {"channels": ["social"]}
    campaign.customers = [customer("C1", email="", phone="+1 650-555-1212", country="US")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    row = social(run)["C1"]
    assert row["phone_sha256"] == PHONE_VECTOR
    assert row["email_sha256"] == ""


def test_social_phone_hash_uses_the_customers_country_as_region(campaign):
    campaign.campaign = {"channels": ["social"]}
    campaign.customers = [customer("C1", phone="040 123 4567")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert social(run)["C1"]["phone_sha256"] == hashlib.sha256(b"358401234567").hexdigest()


def test_social_hashes_only_a_valid_email(campaign):
    campaign.campaign = {"channels": ["social"]}
    campaign.customers = [customer("C1", email="not-an-email")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    row = social(run)["C1"]
    assert row["email_sha256"] == ""
    assert row["phone_sha256"] == hashlib.sha256(b"358400000001").hexdigest()


def test_social_hashes_only_a_valid_phone(campaign):
    campaign.campaign = {"channels": ["social"]}
    campaign.customers = [customer("C1", phone="12")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    row = social(run)["C1"]
    assert row["phone_sha256"] == ""
    assert row["email_sha256"] == hashlib.sha256(b"aino1@example.fi").hexdigest()


# --- summary.json --------------------------------------------------------------------------

def test_summary_names_campaign_purpose_as_of_and_stale(campaign):
    varied(campaign)
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    summary = run.summary()
    assert summary["campaign"] == "test-campaign"
    assert summary["purpose"] == "marketing"
    helsinki_end_of_day = dt.datetime(2026, 12, 1, 23, 59, 59, 999999,
                                      tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert dt.datetime.fromisoformat(summary["as_of"]) == helsinki_end_of_day
    assert summary["stale"] is False


def test_summary_counts_inputs_and_lists_by_name(campaign):
    varied(campaign)
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    campaign.lists = [{"name": "stop-list", "kind": "internal",
                       "rows": [{"customer_id": "C1"}, {"customer_id": "C2"}, {"customer_id": "C77"}]}]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    inputs = run.summary()["inputs"]
    assert inputs["customers"] == 6
    assert inputs["consents"] == 4
    assert inputs["holdings"] == 1
    assert inputs["lists"] == {"stop-list": 3}


def test_summary_counts_orphan_consent_ids_with_at_most_20_examples(campaign):
    campaign.customers = [customer("C1")]
    orphans = [f"X{n:02d}" for n in range(25)]
    campaign.consents = [granted("C1")] + [granted(o) for o in orphans] + [denied("X00")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    found = run.summary()["orphan_consent_ids"]
    assert found["count"] == 25
    assert len(found["examples"]) == 20
    assert set(found["examples"]) <= set(orphans)


def test_summary_warnings_is_a_list(campaign):
    varied(campaign)
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert run.summary()["warnings"] == []


def test_summary_candidates_are_every_customer_sendable_plus_excluded(campaign):
    varied(campaign)
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    channels = run.summary()["channels"]
    assert list(channels) == list(CHANNELS)
    for channel, counts in channels.items():
        assert counts["candidates"] == 6
        assert counts["sendable"] + counts["excluded"] == 6
        assert counts["sendable"] == len(run.sendable(channel))
        assert counts["excluded"] == len(run.excluded(channel))


def test_summary_counts_by_reason_and_legal_basis_match_the_files(campaign):
    varied(campaign)
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    for channel, counts in run.summary()["channels"].items():
        by_reason = Counter(r["reason_code"] for r in run.excluded(channel).values())
        by_basis = Counter(run.sendable(channel).values())
        assert counts["excluded_by_reason"] == dict(by_reason), channel
        assert counts["sendable_by_legal_basis"] == dict(by_basis), channel


# --- manifest.json -------------------------------------------------------------------------

def entries(section) -> list[dict]:
    """Manifest inputs/outputs as a list of entries, whether written as a list or keyed by name."""
    if isinstance(section, dict):
        return [{"name": k, **v} for k, v in section.items()]
    return list(section)


def entry_for(section, file_name: str) -> dict:
    found = [e for e in entries(section)
             if Path(str(e.get("path") or e.get("file") or "")).name == file_name]
    assert len(found) == 1, f"no single manifest entry for {file_name}: {section}"
    return found[0]


def data_rows(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) - 1


def test_manifest_records_tool_version_command_and_resolved_config(campaign):
    varied(campaign)
    config = campaign.write()
    out = campaign.root / "run"
    done = subprocess.run([sys.executable, "-m", "audiencecli", "build", str(config), "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    tool = manifest.get("tool")
    versions = {manifest.get("version"), manifest.get("tool_version"),
                tool.get("version") if isinstance(tool, dict) else None}
    assert __version__ in versions
    command = manifest["command"]
    command_text = " ".join(command) if isinstance(command, list) else command
    assert "build" in command_text and str(config) in command_text and "--quiet" in command_text
    resolved = manifest.get("config") or manifest.get("resolved_config")
    assert resolved, "manifest has no resolved config"
    text = json.dumps(resolved)
    assert "test-campaign" in text and "marketing" in text and "2026-12-01" in text


def test_manifest_records_each_input_and_list_with_sha256_rows_and_list_date(campaign):
    varied(campaign)
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    campaign.lists = [{"name": "robinson-x", "kind": "robinson", "list_date": "2026-11-20",
                       "rows": [{"customer_id": "C1"}, {"customer_id": "C2"}]}]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    inputs = json.loads((run.dir / "manifest.json").read_text(encoding="utf-8"))["inputs"]
    for name, rows in (("customers.csv", 6), ("consents.csv", 4), ("holdings.csv", 1), ("robinson-x.csv", 2)):
        entry = entry_for(inputs, name)
        assert entry["sha256"] == hashlib.sha256((campaign.root / name).read_bytes()).hexdigest(), name
        assert entry["rows"] == rows, name
        assert Path(entry["path"]).resolve() == (campaign.root / name).resolve()
    assert str(entry_for(inputs, "robinson-x.csv")["list_date"]) == "2026-11-20"


def test_manifest_records_each_output_file_with_sha256_and_rows(campaign):
    varied(campaign)
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    outputs = json.loads((run.dir / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    for table in TABLES:
        path = run.dir / f"{table}.csv"
        entry = entry_for(outputs, path.name)
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), table
        assert entry["rows"] == data_rows(path), table


def test_manifest_records_started_and_finished_at(campaign):
    varied(campaign)
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    run = campaign.build()
    after = dt.datetime.now(dt.timezone.utc)
    assert run.exit_code == 0, run.stderr
    manifest = json.loads((run.dir / "manifest.json").read_text(encoding="utf-8"))
    started = dt.datetime.fromisoformat(manifest["started_at"])
    finished = dt.datetime.fromisoformat(manifest["finished_at"])
    assert started.tzinfo is not None and finished.tzinfo is not None
    assert before <= started <= finished <= after


def test_manifest_marks_a_stale_run(campaign):
    campaign.customers = [customer("C1")]
    campaign.lists = [{"name": "old-robinson", "kind": "robinson", "list_date": "2026-01-01",
                       "rows": [{"customer_id": "C9"}]}]
    run = campaign.build("--allow-stale")
    assert run.exit_code == 0, run.stderr
    manifest = json.loads((run.dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["stale"] is True
    assert run.summary()["stale"] is True


# --- permissions ---------------------------------------------------------------------------

def test_run_files_are_readable_by_the_owner_only(campaign):
    varied(campaign)
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    for path in run.dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_parquet_run_files_are_readable_by_the_owner_only(campaign):
    varied(campaign)
    run = campaign.build("--format", "parquet")
    assert run.exit_code == 0, run.stderr
    for path in run.dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_run_directory_is_not_readable_by_others(campaign):
    varied(campaign)
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert stat.S_IMODE(run.dir.stat().st_mode) & 0o077 == 0


# --- determinism ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_rebuild_with_identical_inputs_gives_byte_identical_tables(campaign, fmt):
    varied(campaign)
    campaign.lists = [{"name": "stop-list", "kind": "internal", "rows": [{"customer_id": "C2"}]}]
    first = campaign.build("--format", fmt)
    assert first.exit_code == 0, first.stderr
    before = table_files(first.dir)
    assert len(before) == len(TABLES)
    second = campaign.build("--format", fmt)
    assert second.exit_code == 0, second.stderr
    assert table_files(second.dir) == before


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_exclusions_written_a_few_customers_at_a_time_hold_the_same_rows(campaign, fmt, monkeypatch):
    import audiencecli.pipeline

    varied(campaign)
    whole = campaign.build("--format", fmt)
    assert whole.exit_code == 0, whole.stderr
    rows = read_table(whole.dir / f"exclusions.{fmt}")
    monkeypatch.setattr(audiencecli.pipeline, "CUSTOMERS_PER_CHUNK", 2)
    chunked = campaign.build("--format", fmt)
    assert chunked.exit_code == 0, chunked.stderr
    assert read_table(chunked.dir / f"exclusions.{fmt}").equals(rows)
    if fmt == "csv":
        assert (chunked.dir / "exclusions.csv").read_bytes() == (whole.dir / "exclusions.csv").read_bytes()
    assert rows.height > 4  # several chunks were written


# --- atomic replacement --------------------------------------------------------------------

def test_failed_build_leaves_the_previous_run_untouched_and_no_temporary_folder(campaign):
    varied(campaign)
    first = campaign.build()
    assert first.exit_code == 0, first.stderr
    previous = snapshot(first.dir)
    campaign.customers.append(customer("C1"))  # duplicate customer_id: a data error
    beside_before = sorted(p.name for p in campaign.root.iterdir())
    failed = campaign.build()
    assert failed.exit_code == 3, failed.stderr
    assert snapshot(first.dir) == previous
    assert sorted(p.name for p in campaign.root.iterdir()) == beside_before


def test_rebuild_replaces_the_previous_run(campaign):
    varied(campaign)
    first = campaign.build()
    assert first.exit_code == 0, first.stderr
    campaign.campaign = {"channels": ["email"]}
    second = campaign.build()
    assert second.exit_code == 0, second.stderr
    names = {p.name for p in second.dir.iterdir()}
    assert names == {"email.csv", "exclusions.csv", "summary.json", "manifest.json"}
    assert {r["channel"] for r in second.rows("exclusions")} == {"email"}
    assert list(second.summary()["channels"]) == ["email"]
    assert sorted(p.name for p in campaign.root.iterdir() if p.name.startswith(".")) == []


def test_build_refuses_to_overwrite_a_non_empty_folder_that_is_not_a_run(campaign):
    # A careful user expects their own files never to be replaced by a build: a usage error (exit 2).
    campaign.customers = [customer("C1")]
    target = campaign.root / "run"
    target.mkdir()
    (target / "notes.txt").write_text("my own work\n", encoding="utf-8")
    run = campaign.build()
    assert run.exit_code == 2
    assert "Traceback" not in run.stderr
    assert snapshot(target) == {"notes.txt": b"my own work\n"}


def test_build_into_an_existing_empty_folder_works(campaign):
    campaign.customers = [customer("C1")]
    (campaign.root / "run").mkdir()
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert (run.dir / "exclusions.csv").is_file()


def test_temporary_folder_left_by_a_killed_run_is_removed_by_the_next_build(campaign):
    campaign.customers = [customer("C1")]
    leftover = campaign.root / f".audience-tmp-run-{dead_pid()}-deadbeef"
    leftover.mkdir()
    (leftover / "email.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert not leftover.exists()
    assert sorted(p.name for p in campaign.root.iterdir() if p.name.startswith(".")) == []


def test_temporary_folder_of_a_build_still_running_is_left_alone(campaign):
    # The folder carries the pid of this (live) test process; another build must not delete it.
    campaign.customers = [customer("C1")]
    config = campaign.write()
    busy = campaign.root / f".audience-tmp-run-{os.getpid()}-cafebabe"
    busy.mkdir()
    done = subprocess.run([sys.executable, "-m", "audiencecli", "build", str(config), "--out",
                           str(campaign.root / "run"), "--quiet"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert busy.is_dir()


def test_killed_build_leaves_the_previous_run_intact(campaign):
    """SIGKILL cannot be caught: only building beside the target and renaming keeps the old run whole."""
    campaign.customers = [customer(f"C{n}") for n in range(1, 4)]
    campaign.consents = [granted("C1")]
    config = campaign.write()
    target = campaign.root / "run"
    first = subprocess.run([sys.executable, "-m", "audiencecli", "build", str(config), "--out", str(target),
                            "--quiet"], capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    previous = snapshot(target)

    many = [customer(f"C{n}") for n in range(1, 20_001)]
    write_csv(campaign.root / "customers.csv", many, CUSTOMER_HEADER)
    known = {p.name for p in campaign.root.iterdir()}
    process = subprocess.Popen([sys.executable, "-m", "audiencecli", "build", str(config), "--out", str(target),
                                "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20.0
    # Kill as soon as the new run starts appearing beside the target (mid-write).
    while time.monotonic() < deadline and process.poll() is None:
        if {p.name for p in campaign.root.iterdir()} - known:
            break
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    code = process.wait(timeout=30)
    assert code == -signal.SIGKILL, "the build finished before it could be killed; use a larger input"

    assert snapshot(target) == previous
    beside = {p.name for p in campaign.root.iterdir()} - known
    assert beside, "killed before it began writing: the test would prove nothing"
    assert all(name.startswith(".") for name in beside), beside  # only the hidden temporary folder


def test_a_file_failing_while_others_are_written_leaves_no_temporary_folder(campaign, monkeypatch):
    from audiencecli import outputs
    from audiencecli.config import load_config
    from audiencecli.pipeline import build

    varied(campaign)
    config = load_config(campaign.write())
    result = build(config)
    written = outputs._write_channel

    def failing(result, channel, path, fmt):
        if channel == "phone":
            time.sleep(0.2)  # the other writer is busy meanwhile
            raise OSError(28, "No space left on device")
        return written(result, channel, path, fmt)

    monkeypatch.setattr(outputs, "_write_channel", failing)
    with pytest.raises(OutputError, match="phone.csv: cannot be written: No space left on device"):
        outputs.write_run(result, command=["audience", "build"], started_at=dt.datetime.now(dt.timezone.utc))
    beside = [p.name for p in config.output_dir.parent.iterdir()]
    assert not any(name.startswith(outputs.TEMP_MARK) for name in beside), beside
    assert not config.output_dir.exists()


def test_files_written_together_are_listed_in_the_manifest_in_the_contract_order(campaign):
    varied(campaign)
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    manifest = json.loads((run.dir / "manifest.json").read_text())
    names = [item["file"] for item in manifest["outputs"]]
    assert names == [*(f"{c}.csv" for c in ("email", "sms", "phone", "post", "social")), "exclusions.csv",
                     "summary.json"]
