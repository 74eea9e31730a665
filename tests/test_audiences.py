"""Platform audience files and their removal files (contract section 12): per platform of
[output].audiences, the social channel's sendable customers in the platform's upload format,
and against the previous run, the members that left."""
from __future__ import annotations

import csv
import hashlib
import json
import stat
import unicodedata

import pytest

from conftest import build, consent, customer

META_EMAIL = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"  # john_smith@gmail.com
META_PHONE = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"  # 16505551212


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def audience(run, platform: str, remove: bool = False) -> list[dict]:
    path = run.dir / f"audience-{platform}{'-remove' if remove else ''}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def header(run, name: str) -> list[str]:
    return (run.dir / name).read_text(encoding="utf-8").splitlines()[0].split(",")


@pytest.fixture
def social(campaign):
    """Two customers sendable on social; the audiences of every platform."""
    campaign.customers = [customer("C1", first_name="Anna-Liisa", last_name="Öhman", postal_code="00100"),
                          customer("C2")]
    campaign.consents = [consent("C1"), consent("C2")]
    campaign.output = {"audiences": ["meta", "google", "linkedin", "tiktok", "snapchat"]}
    return campaign


def test_audience_files_are_written_for_each_platform_asked_for(social):
    social.output = {"audiences": ["meta", "linkedin"]}
    run = build(social)
    files = sorted(p.name for p in run.dir.glob("audience-*"))
    assert files == ["audience-linkedin.csv", "audience-meta.csv"]
    outputs = {o["file"]: o for o in json.loads((run.dir / "manifest.json").read_text())["outputs"]}
    assert outputs["audience-meta.csv"]["rows"] == 2
    assert outputs["audience-meta.csv"]["sha256"] == hashlib.sha256((run.dir / "audience-meta.csv").read_bytes()).hexdigest()


def test_audience_files_are_not_written_without_audiences(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert not list(run.dir.glob("audience-*"))
    assert "audiences" not in run.summary()


def test_audience_files_are_csv_and_owner_only_even_for_a_parquet_run(social):
    run = build(social, "--format", "parquet")
    for platform in ("meta", "google", "linkedin", "tiktok", "snapchat"):
        path = run.dir / f"audience-{platform}.csv"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(audience(run, platform)) == 2


def test_audience_files_hold_only_customers_sendable_on_social(social):
    social.consents = [consent("C1"), consent("C2"), consent("C2", channel="social", status="denied",
                                                             at="2026-06-01T10:00:00")]
    run = build(social)
    assert audience(run, "meta") == [row for row in audience(run, "meta") if row["email"] == sha("aino1@example.fi")]
    assert len(audience(run, "meta")) == 1


def test_meta_file_matches_metas_published_example_hashes(campaign):
    campaign.customers = [customer("C1", email=" John_Smith@Gmail.COM ", phone="+1 650-555-1212", country="US")]
    campaign.consents = [consent("C1")]
    campaign.output = {"audiences": ["meta"]}
    run = build(campaign)
    (row,) = audience(run, "meta")
    assert row["email"] == META_EMAIL
    assert row["phone"] == META_PHONE


def test_meta_file_columns_and_normalization(social):
    run = build(social)
    assert header(run, "audience-meta.csv") == ["email", "phone", "fn", "ln", "zip", "country"]
    row = audience(run, "meta")[0]
    assert row["phone"] == sha("358400000001")
    assert row["fn"] == sha("annaliisa")
    assert row["ln"] == sha("öhman")
    assert row["zip"] == sha("00100")
    assert row["country"] == sha("fi")


def test_names_are_nfc_normalized_before_hashing(social):
    social.customers[0]["last_name"] = unicodedata.normalize("NFD", "Öhman")
    run = build(social)
    assert audience(run, "meta")[0]["ln"] == sha("öhman")
    assert audience(run, "google")[0]["Last Name"] == sha("öhman")


def test_google_file_hashes_the_phone_with_plus_and_leaves_country_and_zip_plain(social):
    run = build(social)
    assert header(run, "audience-google.csv") == ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
    row = audience(run, "google")[0]
    assert row["Email"] == sha("aino1@example.fi")
    assert row["Phone"] == sha("+358400000001")
    assert row["Country"] == "FI"
    assert row["Zip"] == "00100"


def test_linkedin_file_takes_the_email_only_and_leaves_out_customers_without_one(social):
    social.customers[1]["email"] = ""
    run = build(social)
    assert header(run, "audience-linkedin.csv") == ["email"]
    assert audience(run, "linkedin") == [{"email": sha("aino1@example.fi")}]
    assert len(audience(run, "meta")) == 2  # C2 is matched on the phone there


def test_tiktok_file_has_its_prehashed_headers_and_hashes_the_phone_as_digits(social):
    run = build(social)
    assert header(run, "audience-tiktok.csv") == ["Email_SHA256", "Phone_SHA256"]
    assert audience(run, "tiktok")[0]["Phone_SHA256"] == sha("358400000001")


def test_tiktok_email_drops_the_plus_tag_and_the_dots_of_the_user_name(social):
    social.customers[0]["email"] = "Aino.Virtanen+news@Example.fi"
    run = build(social)
    assert audience(run, "tiktok")[0]["Email_SHA256"] == sha("ainovirtanen@example.fi")
    assert audience(run, "meta")[0]["email"] == sha("aino.virtanen+news@example.fi")


def test_tiktok_file_matches_tiktoks_published_example_hash(campaign):
    """TikTok's ID format list shows d6117306… as its hashed e-mail example; it is the SHA-256 of
    `janedoe@gmail.com` (the page's plain-text column says johndoe: the hash is what is pinned)."""
    campaign.customers = [customer("C1", email="JaneDoe@Gmail.com")]
    campaign.consents = [consent("C1")]
    campaign.output = {"audiences": ["tiktok"]}
    (row,) = audience(build(campaign), "tiktok")
    assert row["Email_SHA256"] == "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"


def test_snapchat_hashes_the_phone_as_digits_without_plus(social):
    run = build(social)
    assert header(run, "audience-snapchat.csv") == ["email", "phone"]
    assert audience(run, "snapchat")[0]["phone"] == sha("358400000001")


@pytest.mark.parametrize("platform, email, phone, email_hash, phone_hash, country", [
    # Meta's Marketing API documentation, Customer File Custom Audiences (its phone example,
    # 1 555 987 6543, is not a valid number, so it is never hashed: the contract's example instead)
    ("meta", "mary@example.com", "+1 650 555 1212",
     "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79", META_PHONE, "US"),
    # Google's Data Manager client library tests (googleads/data-manager-python, tests/formatter_test.py)
    ("google", "alexz@example.com", "(800) 555-0100",
     "509e933019bb285a134a9334b8bb679dff79d0ce023d529af4bd744d47b4fd8a",
     "fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30", "US"),
])
def test_platform_files_match_the_platforms_published_example_hashes(campaign, platform, email, phone,
                                                                      email_hash, phone_hash, country):
    campaign.customers = [customer("C1", email=email, phone=phone, country=country)]
    campaign.consents = [consent("C1")]
    campaign.output = {"audiences": [platform]}
    (row,) = audience(build(campaign), platform)
    email_column, phone_column = ("email", "phone") if platform == "meta" else ("Email", "Phone")
    assert (row[email_column], row[phone_column]) == (email_hash, phone_hash)


def test_an_invalid_email_leaves_its_cell_empty(social):
    social.customers[0]["email"] = "not an email"
    run = build(social)
    assert audience(run, "meta")[0]["email"] == ""
    assert audience(run, "meta")[0]["phone"] == sha("358400000001")


def test_audiences_need_the_social_channel(social):
    social.campaign = {"channels": ["email"]}
    run = social.build()
    assert run.exit_code == 2
    assert "output.audiences" in run.stderr


def test_an_unknown_platform_is_a_config_error(social):
    social.output = {"audiences": ["myspace"]}
    run = social.build()
    assert run.exit_code == 2
    assert "output.audiences" in run.stderr and "meta" in run.stderr


# ---------------------------------------------------------------------------------------------
# removals


def test_without_a_previous_run_no_removal_file_is_written_and_the_summary_says_so(social):
    run = build(social)
    assert not list(run.dir.glob("audience-*-remove.csv"))
    audiences = run.summary()["audiences"]
    assert audiences["previous_run"] is False
    assert audiences["platforms"]["meta"] == {"file": "audience-meta.csv", "rows": 2, "removal_file": None,
                                              "removals": None}


def test_a_denial_after_a_run_puts_the_member_in_the_removal_file(social):
    first = build(social)
    kept = audience(first, "meta")
    social.consents.append(consent("C2", channel="social", status="denied", at="2026-11-30T10:00:00"))
    second = build(social)
    removed = audience(second, "meta", remove=True)
    assert removed == [row for row in kept if row["email"] == sha("aino2@example.fi")]
    assert header(second, "audience-meta-remove.csv") == header(second, "audience-meta.csv")
    assert second.summary()["audiences"]["platforms"]["meta"]["removals"] == 1
    assert second.summary()["audiences"]["previous_run"] is True
    for platform in ("google", "linkedin", "tiktok", "snapchat"):
        assert len(audience(second, platform, remove=True)) == 1


def test_an_unchanged_second_run_writes_empty_removal_files_with_their_header(social):
    build(social)
    second = build(social)
    for platform in ("meta", "google", "linkedin", "tiktok", "snapchat"):
        assert audience(second, platform, remove=True) == []
        assert header(second, f"audience-{platform}-remove.csv") == header(second, f"audience-{platform}.csv")


def test_a_customer_gone_from_the_customers_file_is_removed(social):
    build(social)
    social.customers = social.customers[:1]
    second = build(social)
    assert [row["email"] for row in audience(second, "linkedin", remove=True)] == [sha("aino2@example.fi")]


def test_a_changed_email_removes_the_old_one(social):
    build(social)
    social.customers[1]["email"] = "new@example.fi"
    second = build(social)
    assert [row["email"] for row in audience(second, "linkedin", remove=True)] == [sha("aino2@example.fi")]
    assert sha("new@example.fi") in [row["email"] for row in audience(second, "linkedin")]


def test_a_platform_added_later_gets_an_empty_removal_file(social):
    social.output = {"audiences": ["meta"]}
    build(social)
    social.output = {"audiences": ["meta", "linkedin"]}
    second = build(social)
    assert audience(second, "linkedin", remove=True) == []


def test_a_failed_build_keeps_the_previous_run_and_its_audience_files(social):
    first = build(social)
    before = (first.dir / "audience-meta.csv").read_bytes()
    social.customers.append(customer("C1"))  # a duplicate customer_id: exit 3
    failed = social.build()
    assert failed.exit_code == 3
    assert (first.dir / "audience-meta.csv").read_bytes() == before


def test_the_readme_worked_example(campaign):
    campaign.customers = [customer("C1", first_name="Anna-Liisa", last_name="Öhman", email=" Anna.Ohman@Example.FI ",
                                   phone="040 123 4567", postal_code="00100", country="FI")]
    campaign.consents = [consent("C1")]
    campaign.output = {"audiences": ["meta", "google", "linkedin"]}
    run = build(campaign)
    assert audience(run, "meta") == [{"email": sha("anna.ohman@example.fi"), "phone": sha("358401234567"),
                                      "fn": sha("annaliisa"), "ln": sha("öhman"), "zip": sha("00100"),
                                      "country": sha("fi")}]
    assert audience(run, "google") == [{"Email": sha("anna.ohman@example.fi"), "Phone": sha("+358401234567"),
                                        "First Name": sha("annaliisa"), "Last Name": sha("öhman"),
                                        "Country": "FI", "Zip": "00100"}]
    assert audience(run, "linkedin") == [{"email": sha("anna.ohman@example.fi")}]


def test_a_previous_file_with_other_columns_stops_the_build_and_keeps_the_run(social):
    first = build(social)
    (first.dir / "audience-meta.csv").write_text("something,else\n1,2\n", encoding="utf-8")
    failed = social.build()
    assert failed.exit_code == 3
    assert "audience-meta.csv" in failed.stderr
    assert (first.dir / "audience-meta.csv").read_text(encoding="utf-8") == "something,else\n1,2\n"


def test_shared_checker_accepts_a_run_with_audience_and_removal_files(social):
    import subprocess
    import sys

    from conftest import CHECK_RUN
    if not CHECK_RUN.exists():
        pytest.skip("shared check-run tool is absent")
    build(social)
    run = build(social)  # the second run has removal files too
    assert list(run.dir.glob("audience-*-remove.csv"))
    done = subprocess.run([sys.executable, str(CHECK_RUN), str(social.root / "campaign.toml"), str(run.dir)],
                          capture_output=True, text=True, timeout=120)
    assert "check-run: 0 problems" in done.stdout, done.stdout
