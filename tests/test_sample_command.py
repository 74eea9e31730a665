"""`audience sample` (contract section 1): a synthetic data set that builds, passes check-run,
exercises every rule a marketing campaign can trigger, and is a pure function of (N, seed, format).

Generated sets are small (a few thousand customers) so the module runs in a few seconds; the
1M and 10M timings are in bench/README.md.
"""
from __future__ import annotations

import datetime as dt

import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from faker.providers.person.fi_FI import Provider as FinnishNames
from faker.providers.person.sv_SE import Provider as SwedishNames
from typer.testing import CliRunner

from audiencecli.cli import app
from audiencecli.sample import CITIES, SWEDISH_SURNAME, TABLES, write_sample

CHECK_RUN = Path(__file__).resolve().parents[2] / "shared" / "tools" / "check-run"
COLUMNS = {
    "customers": ["customer_id", "customer_type", "first_name", "last_name", "company_name", "email", "phone",
                  "street_address", "postal_code", "city", "country", "language", "birth_date",
                  "deceased_date", "paperless", "business_role", "address_protected"],
    "consents": ["customer_id", "channel", "purpose", "status", "recorded_at", "source"],
    "holdings": ["customer_id", "product_group", "start_date", "end_date"],
    "contact_history": ["customer_id", "channel", "purpose", "sent_at", "campaign"],
    "internal": ["customer_id", "email", "note"],
    "robinson": ["phone", "first_name", "last_name", "street_address", "postal_code", "channel"],
    "telemarketing": ["phone", "member_since"],
}
# A marketing campaign over both segments with internal, robinson and telemarketing lists can
# trigger every code but segment_not_targeted (both segments are targeted), no_active_contract
# and paperless (contract, legal and service letters only) and suppression_list (no custom list);
# its caps and arbitration give contact_pressure and channel_arbitration.
MARKETING_CODES = {"deceased", "under_age", "address_protected", "missing_contact", "invalid_contact",
                   "customer_denied", "internal_prohibition", "robinson_register", "telemarketing_prohibition",
                   "no_consent", "contact_pressure", "control_group", "channel_arbitration", "duplicate_contact"}
MARKETING_BASES = {"consent", "existing_customer", "b2b_legitimate_interest", "legitimate_interest"}


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def read(path: Path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    separator = ";" if path.read_bytes()[:200].count(b";") else ","
    return pl.read_csv(path, separator=separator, infer_schema=False, encoding="utf8-lossy")


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def make_and_build(folder: Path, customers: int) -> tuple[Path, Path]:
    """A CSV set made and built through the CLI: (data folder, run folder)."""
    data = folder / "data"
    made = invoke("sample", data, "--customers", customers, "--seed", 7, "--quiet")
    assert made.exit_code == 0, made.stderr
    run = data / "run"
    result = invoke("build", data / "campaign.toml", "--out", run, "--quiet")
    assert result.exit_code == 0, result.stderr
    return data, run


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """5,000 customers: enough for every reason code to occur."""
    return make_and_build(tmp_path_factory.mktemp("sample"), 5000)


@pytest.fixture(scope="module")
def customers(built) -> pl.DataFrame:
    return read(built[0] / "customers.csv")


def test_writes_every_table_with_the_contract_columns_and_a_campaign(tmp_path):
    written = write_sample(tmp_path / "s", 300, seed=2)
    assert sorted(written.files) == sorted(TABLES)
    for name, path in written.files.items():
        table = read(path)
        assert table.columns == COLUMNS[name], name
        assert table.height == written.rows[name], name
    assert written.rows["customers"] == 300
    assert 2 * 300 < written.rows["consents"] < 4 * 300
    assert 300 < written.rows["holdings"] < 3 * 300
    assert 4 * 300 < written.rows["contact_history"] < 8 * 300
    assert [written.rows[n] for n in ("internal", "robinson", "telemarketing")] == [30, 30, 30]
    config = written.config.read_text(encoding="utf-8")
    for expected in ('purpose = "marketing"', 'product_group = "pension"', "as_of = 2026-12-01",
                     '"email", "sms", "phone", "post", "social"', "business_roles", "holdout_percent = 5",
                     'kind = "robinson"', "list_date = 2026-11-20", "[[pressure]]", "same_campaign = true",
                     'order = ["email", "sms", "post", "phone"]', 'contact_history = "contact_history.csv"',
                     'audiences = ["meta", "google"]'):
        assert expected in config


def test_sample_builds_and_passes_check_run(tmp_path):
    if not CHECK_RUN.exists():
        pytest.skip("shared/tools/check-run is not available")
    data, run = make_and_build(tmp_path, 2000)  # check-run slows down more than linearly
    result = subprocess.run([sys.executable, str(CHECK_RUN), str(data / "campaign.toml"), str(run)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout
    assert "check-run: 0 problems" in result.stdout


def test_sample_triggers_every_reason_code_a_marketing_campaign_can(built):
    exclusions = read(built[1] / "exclusions.csv")
    assert set(exclusions["reason_code"].unique()) == MARKETING_CODES


def test_sample_build_writes_an_upload_file_for_meta_and_google_of_the_social_audience(built):
    social = read(built[1] / "social.csv").height
    assert social > 0
    for platform in ("meta", "google"):
        assert read(built[1] / f"audience-{platform}.csv").height == social, platform


def test_sample_gives_every_marketing_legal_basis(built):
    bases = set()
    for channel in ("email", "sms", "phone", "post", "social"):
        bases |= set(read(built[1] / f"{channel}.csv")["legal_basis"].unique())
    assert bases == MARKETING_BASES


def test_same_seed_gives_byte_identical_files_whatever_the_chunk_size(tmp_path):
    whole = write_sample(tmp_path / "a", 400, seed=5)
    rows = read(whole.files["customers"])
    # cut where a customer copies the previous one's address or e-mail, the case chunks must carry over
    copies = rows.with_row_index().filter(
        (pl.col("street_address") == pl.col("street_address").shift(1))
        | (pl.col("email") == pl.col("email").shift(1)))["index"]
    cut = int(copies.filter(copies >= 150)[0])  # at most three chunks: each costs a plan
    write_sample(tmp_path / "b", 400, seed=5, chunk_rows=cut)
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_another_seed_gives_other_data(tmp_path):
    write_sample(tmp_path / "a", 300, seed=5)
    write_sample(tmp_path / "b", 300, seed=6)
    for name in ("customers.csv", "consents.csv", "holdings.csv", "robinson.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name


def test_parquet_sample_is_deterministic_and_builds(tmp_path):
    for folder in ("a", "b"):
        result = invoke("sample", tmp_path / folder, "--customers", 1500, "--seed", 3, "--format", "parquet",
                        "--quiet")
        assert result.exit_code == 0, result.stderr
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert {p.suffix for p in (tmp_path / "a").iterdir()} == {".parquet", ".toml"}
    assert read(tmp_path / "a" / "customers.parquet").columns == COLUMNS["customers"]
    build = invoke("build", tmp_path / "a" / "campaign.toml", "--out", tmp_path / "run", "--quiet")
    assert build.exit_code == 0, build.stderr
    assert (tmp_path / "run" / "exclusions.parquet").exists()


def test_swedish_speaking_customers_have_finland_swedish_names_and_places(customers):
    swedish_first = set(SwedishNames.first_names_female) | set(SwedishNames.first_names_male)
    finnish_first = set(FinnishNames.first_names_female) | set(FinnishNames.first_names_male)
    sv = customers.filter(pl.col("language") == "sv")
    fi = customers.filter(pl.col("language") == "fi")
    assert sv.height > 200
    assert set(sv["first_name"]) <= swedish_first
    assert set(fi["first_name"]) <= finnish_first
    swedish_last = sv["last_name"].map_elements(lambda n: bool(SWEDISH_SURNAME.search(n)), return_dtype=pl.Boolean)
    assert swedish_last.mean() > 0.6
    swedish_cities = {c[1] for c in CITIES}
    in_finland = sv.filter(pl.col("country") == "FI")["city"].drop_nulls()
    # the rest share a household with a Finnish-speaking customer, and so their address
    assert in_finland.is_in(list(swedish_cities)).mean() > 0.9
    assert {"Helsingfors", "Åbo", "Vasa"} <= set(in_finland)


def test_phones_come_in_the_spellings_people_type(customers):
    phones = customers["phone"].drop_nulls()
    spellings = {
        "040 123 4567": r"^04\d \d{3} \d{4}$",
        "+358 40 1234567": r"^\+358 4\d \d{7}$",
        "(09) 123 4567": r"^\(0\d{1,2}\) \d{3} \d{3,4}$",
        "00358401234567": r"^00358\d{8,9}$",
        "0401234567": r"^0\d{8,9}$",
        "+46 70 123 4567": r"^\+46 7\d \d{3} \d{4}$",
    }
    for example, pattern in spellings.items():
        assert phones.str.contains(pattern).sum() > 0, example


def test_a_few_percent_of_contacts_are_missing_or_invalid(customers):
    missing_email = customers["email"].is_null().mean()
    no_at = customers["email"].drop_nulls().str.contains("@").not_().mean()
    missing_phone = customers["phone"].is_null().mean()
    no_street = customers["street_address"].is_null().mean()
    assert 0.03 < missing_email < 0.08
    assert 0 < no_at < 0.02
    assert 0.03 < missing_phone < 0.08
    assert 0.005 < no_street < 0.04


def test_lists_overlap_the_customers(built, customers):
    data, _ = built
    internal = read(data / "internal.csv")
    robinson = read(data / "robinson.csv")
    assert internal["customer_id"].drop_nulls().is_in(customers["customer_id"].implode()).all()
    assert internal["email"].drop_nulls().str.to_lowercase().is_in(
        customers["email"].drop_nulls().str.to_lowercase().implode()).mean() > 0.8
    assert set(robinson["channel"].drop_nulls()) == {"phone", "post"}
    assert robinson.head(1).columns == COLUMNS["robinson"]
    assert (data / "robinson.csv").read_bytes().startswith(b"\xef\xbb\xbfphone;")  # an Excel export


def test_progress_is_reported(tmp_path):
    seen = []
    write_sample(tmp_path / "s", 50, progress=seen.append)
    assert any("customers" in s for s in seen) and any("lists" in s for s in seen)


def test_zero_customers_is_a_usage_error(tmp_path):
    result = invoke("sample", tmp_path / "s", "--customers", 0)
    assert result.exit_code == 2
    assert "--customers" in result.stderr and "at least 1" in result.stderr
    assert not (tmp_path / "s").exists()


def test_unknown_format_is_a_usage_error(tmp_path):
    result = invoke("sample", tmp_path / "s", "--customers", 10, "--format", "xlsx")
    assert result.exit_code == 2
    assert "xlsx" in result.stderr and "csv, parquet" in result.stderr


def test_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = invoke("sample", tmp_path, "--customers", 10)
    assert result.exit_code == 2
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    forced = invoke("sample", tmp_path, "--customers", 10, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "customers.csv").exists()


def test_forced_rewrite_in_the_other_format_leaves_no_stale_tables(tmp_path):
    assert invoke("sample", tmp_path / "s", "--customers", 10, "--quiet").exit_code == 0
    result = invoke("sample", tmp_path / "s", "--customers", 10, "--format", "parquet", "--force", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert not list((tmp_path / "s").glob("*.csv"))


def test_summary_names_the_folder_and_the_next_command(tmp_path):
    result = invoke("sample", tmp_path / "s", "--customers", 20)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"wrote .*s: customers 20, consents \d+", result.stderr)
    assert "audience build" in result.stderr and "campaign.toml" in result.stderr
    assert result.stdout == ""


def test_help_describes_every_option():
    result = invoke("sample", "--help")
    assert result.exit_code == 0
    for option in ("--customers", "--seed", "--format", "--force", "--quiet"):
        assert option in result.stdout


def test_the_history_spans_the_last_180_days_every_channel_and_purpose(built):
    history = read(built[0] / "contact_history.csv")
    sent = history.get_column("sent_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z")
    assert sent.min() >= dt.datetime(2026, 6, 3, tzinfo=dt.timezone.utc)
    assert sent.max() <= dt.datetime(2026, 12, 1, 22, tzinfo=dt.timezone.utc)
    assert set(history["channel"]) == {"email", "sms", "phone", "post", "social"}
    assert set(history["purpose"]) == {"marketing", "service", "survey", "contract", "legal"}
    assert history["campaign"].n_unique() >= 5


def test_a_few_percent_are_minors_and_about_half_a_percent_protected(customers):
    born = customers.get_column("birth_date").str.to_date("%Y-%m-%d", strict=False).fill_null(
        customers.get_column("birth_date").str.to_date("%d.%m.%Y", strict=False))
    minors = (born > dt.date(2008, 12, 1)).mean()
    protected = (customers.get_column("address_protected") == "true").fill_null(False).mean()
    assert 0.02 < minors < 0.06
    assert 0.002 < protected < 0.01
