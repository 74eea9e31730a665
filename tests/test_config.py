"""Section 2 (campaign config) and the config part of section 8 (exit 2), as the contract words them.

Each test writes a tiny config by hand, so every key can be left out, misspelt or mistyped.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from audiencecli.cli import app
from conftest import CUSTOMER_HEADER, customer, toml_value, write_csv

HELSINKI = ZoneInfo("Europe/Helsinki")
CONSENT_HEADER = ["customer_id", "channel", "purpose", "status", "recorded_at", "source"]
DROP = object()  # leave a default key out of the config


class Raw(str):
    """A TOML literal written as is (dates, datetimes, broken syntax)."""


def render(value) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {render(v)}" for k, v in value.items()) + " }"
    return toml_value(value)


def table(header: str, values: dict) -> list[str]:
    return [header] + [f"{k} = {render(v)}" for k, v in values.items() if v is not DROP] + [""]


def write_data(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "customers.csv", [customer("C1"), customer("C2")], CUSTOMER_HEADER)
    write_csv(folder / "consents.csv", [
        {"customer_id": "C1", "channel": "email", "purpose": "marketing", "status": "granted",
         "recorded_at": "2026-01-01T10:00:00", "source": "web"},
    ], CONSENT_HEADER)
    write_csv(folder / "robinson.csv", [{"customer_id": "C2"}])


def write_config(folder: Path, *, campaign: dict | None = None, inputs: dict | None = None,
                 suppressions: list[dict] = (), output: dict | None = None, top: dict | None = None,
                 data: bool = True) -> Path:
    """A valid config (plus data files) with the given keys changed; DROP removes a key."""
    folder.mkdir(parents=True, exist_ok=True)
    if data:
        write_data(folder)
    settings = {"name": "autumn-offer", "purpose": "marketing", "channels": ["email"], "as_of": "2026-12-01"}
    settings.update(campaign or {})
    files = {"customers": "customers.csv", "consents": "consents.csv"}
    files.update(inputs or {})
    lines = [f"{k} = {render(v)}" for k, v in (top or {}).items()] + [""]
    lines += table("[campaign]", settings) + table("[inputs]", files)
    for entry in suppressions:
        lines += table("[[suppressions]]", entry)
    if output is not None:
        lines += table("[output]", output)
    path = folder / "campaign.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def build(config: Path, *args: str, out: Path | str | None = "default"):
    if out == "default":
        out = config.parent / "run"
    extra = ["--out", str(out)] if out is not None else []
    return invoke("build", config, *extra, "--quiet", *args)


def assert_config_error(result, *names: str) -> None:
    """Exit 2, every name mentioned on stderr, no traceback anywhere."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    for name in names:
        assert name in result.stderr, (name, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def as_of_of(run_dir: Path) -> dt.datetime:
    return dt.datetime.fromisoformat(summary(run_dir)["as_of"])


# ---------------------------------------------------------------------------------------------
# A valid config builds


def test_minimal_valid_config_builds(tmp_path):
    config = write_config(tmp_path)
    result = build(config)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "run" / "email.csv").exists()


# ---------------------------------------------------------------------------------------------
# Required keys


@pytest.mark.parametrize("key", ["name", "purpose", "channels"])
def test_missing_required_campaign_key_is_config_error_naming_it(tmp_path, key):
    result = build(write_config(tmp_path, campaign={key: DROP}))
    assert_config_error(result, key)


@pytest.mark.parametrize("key", ["customers", "consents"])
def test_missing_required_input_is_config_error_naming_it(tmp_path, key):
    result = build(write_config(tmp_path, inputs={key: DROP}))
    assert_config_error(result, key)


def test_holdings_input_is_optional(tmp_path):
    result = build(write_config(tmp_path))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("key", ["name", "kind", "path"])
def test_missing_required_suppression_key_is_config_error_naming_it(tmp_path, key):
    entry = {"name": "robinson-2026-11", "kind": "robinson", "path": "robinson.csv", "list_date": "2026-11-20"}
    entry[key] = DROP
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, key)


def test_missing_campaign_table_is_config_error(tmp_path):
    write_data(tmp_path)
    config = tmp_path / "campaign.toml"
    config.write_text('[inputs]\ncustomers = "customers.csv"\nconsents = "consents.csv"\n', encoding="utf-8")
    assert_config_error(build(config), "campaign")


def test_missing_inputs_table_is_config_error(tmp_path):
    write_data(tmp_path)
    config = tmp_path / "campaign.toml"
    config.write_text('[campaign]\nname = "a"\npurpose = "marketing"\nchannels = ["email"]\n', encoding="utf-8")
    assert_config_error(build(config), "inputs")


# ---------------------------------------------------------------------------------------------
# Unknown keys, at every level: named, with the allowed keys


def test_unknown_top_level_key_is_named_with_allowed_keys(tmp_path):
    result = build(write_config(tmp_path, top={"colour": "blue"}))
    assert_config_error(result, "colour", "campaign", "inputs", "suppressions", "output")


def test_unknown_top_level_table_is_named(tmp_path):
    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + '\n[outputs]\ndir = "x"\n', encoding="utf-8")
    assert_config_error(build(config), "outputs")


def test_unknown_campaign_key_is_named_with_allowed_keys(tmp_path):
    result = build(write_config(tmp_path, campaign={"budget": 100}))
    assert_config_error(result, "budget", "name", "purpose", "product_group", "channels", "segments",
                        "business_roles", "as_of", "holdout_percent", "dedupe")


def test_misspelt_campaign_key_is_named(tmp_path):
    result = build(write_config(tmp_path, campaign={"holdout_percentage": 5}))
    assert_config_error(result, "holdout_percentage", "holdout_percent")


def test_unknown_inputs_key_is_named_with_allowed_keys(tmp_path):
    result = build(write_config(tmp_path, inputs={"leads": "customers.csv"}))
    assert_config_error(result, "leads", "customers", "consents", "holdings")


def test_unknown_suppressions_key_is_named_with_allowed_keys(tmp_path):
    entry = {"name": "robinson-2026-11", "kind": "robinson", "path": "robinson.csv", "list_date": "2026-11-20",
             "owner": "legal"}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, "owner", "name", "kind", "path", "list_date", "channels", "purposes",
                        "max_age_days")


def test_unknown_output_key_is_named_with_allowed_keys(tmp_path):
    result = build(write_config(tmp_path, output={"compress": True}))
    assert_config_error(result, "compress", "dir", "format")


def test_unknown_input_path_entry_key_is_named_with_allowed_keys(tmp_path):
    result = build(write_config(tmp_path, inputs={"customers": {"path": "customers.csv", "encodng": "cp1252"}}))
    assert_config_error(result, "encodng", "path", "encoding")


def test_unknown_list_path_entry_key_is_named_with_allowed_keys(tmp_path):
    entry = {"name": "robinson-2026-11", "kind": "robinson", "list_date": "2026-11-20",
             "path": {"path": "robinson.csv", "charset": "cp1252"}}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, "charset", "path", "encoding")


# ---------------------------------------------------------------------------------------------
# Wrong types


@pytest.mark.parametrize("key, value", [
    ("name", 2026),
    ("purpose", 1),
    ("product_group", 5),
    ("channels", "email"),
    ("segments", "private"),
    ("business_roles", "ceo"),
    ("as_of", 20261201),
    ("as_of", Raw("14:05:00")),
    ("holdout_percent", "5"),
    ("dedupe", "yes"),
    ("dedupe", 1),
])
def test_wrong_type_in_campaign_is_config_error_naming_the_key(tmp_path, key, value):
    result = build(write_config(tmp_path, campaign={key: value}))
    assert_config_error(result, key)


def test_channel_list_with_non_string_is_config_error(tmp_path):
    result = build(write_config(tmp_path, campaign={"channels": ["email", 2]}))
    assert_config_error(result, "channels")


@pytest.mark.parametrize("key", ["customers", "consents", "holdings"])
def test_input_path_of_wrong_type_is_config_error(tmp_path, key):
    result = build(write_config(tmp_path, inputs={key: 42}))
    assert_config_error(result, key)


def test_campaign_that_is_not_a_table_is_config_error(tmp_path):
    write_data(tmp_path)
    config = tmp_path / "campaign.toml"
    config.write_text('campaign = "autumn"\n[inputs]\ncustomers = "customers.csv"\nconsents = "consents.csv"\n',
                      encoding="utf-8")
    assert_config_error(build(config), "campaign")


@pytest.mark.parametrize("key, value", [
    ("list_date", 20261115),
    ("list_date", "yesterday"),
    ("max_age_days", "30"),
    ("max_age_days", 1.5),
    ("max_age_days", True),
    ("channels", "phone"),
    ("purposes", "marketing"),
])
def test_wrong_type_in_suppression_is_config_error_naming_the_key(tmp_path, key, value):
    entry = {"name": "robinson-2026-11", "kind": "robinson", "path": "robinson.csv", "list_date": "2026-11-20"}
    entry[key] = value
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, key)


@pytest.mark.parametrize("key, value", [("dir", 5), ("format", True)])
def test_wrong_type_in_output_is_config_error_naming_the_key(tmp_path, key, value):
    result = build(write_config(tmp_path, output={key: value}))
    assert_config_error(result, key)


# ---------------------------------------------------------------------------------------------
# Values outside their set: named with the allowed values


def test_purpose_outside_its_set_names_the_allowed_values(tmp_path):
    result = build(write_config(tmp_path, campaign={"purpose": "advertising"}))
    assert_config_error(result, "purpose", "advertising", "marketing", "service", "survey", "contract", "legal")


def test_channel_outside_its_set_names_the_allowed_values(tmp_path):
    result = build(write_config(tmp_path, campaign={"channels": ["email", "fax"]}))
    assert_config_error(result, "channels", "fax", "email", "sms", "phone", "post", "social")


def test_empty_channel_list_is_config_error(tmp_path):
    result = build(write_config(tmp_path, campaign={"channels": []}))
    assert_config_error(result, "channels")


def test_segment_outside_its_set_names_the_allowed_values(tmp_path):
    result = build(write_config(tmp_path, campaign={"segments": ["consumer"]}))
    assert_config_error(result, "segments", "consumer", "private", "business")


def test_list_kind_outside_its_set_names_the_allowed_values(tmp_path):
    entry = {"name": "blocked", "kind": "blacklist", "path": "robinson.csv"}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, "kind", "blacklist", "internal", "robinson", "telemarketing", "custom")


def test_list_channel_outside_its_set_names_the_allowed_values(tmp_path):
    entry = {"name": "blocked", "kind": "internal", "path": "robinson.csv", "channels": ["fax"]}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, "channels", "fax", "email", "sms", "phone", "post", "social")


def test_list_purpose_outside_its_set_names_the_allowed_values(tmp_path):
    entry = {"name": "blocked", "kind": "internal", "path": "robinson.csv", "purposes": ["contract"]}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, "purposes", "contract", "marketing", "service", "survey")


def test_output_format_outside_its_set_names_the_allowed_values(tmp_path):
    result = build(write_config(tmp_path, output={"format": "xlsx"}))
    assert_config_error(result, "format", "xlsx", "csv", "parquet")


def test_encoding_outside_its_set_names_the_allowed_value(tmp_path):
    result = build(write_config(tmp_path, inputs={"customers": {"path": "customers.csv", "encoding": "latin-9"}}))
    assert_config_error(result, "encoding", "latin-9", "cp1252")


def test_format_option_outside_its_set_is_usage_error(tmp_path):
    result = build(write_config(tmp_path), "--format", "xlsx")
    assert_config_error(result, "csv", "parquet")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("campaign, names", [
    ({"purpose": "Marketing"}, ["purpose", "Marketing"]),
    ({"channels": ["Email"]}, ["channels", "Email"]),
    ({"channels": ["EMAIL"]}, ["channels", "EMAIL"]),
    ({"segments": ["Private"]}, ["segments", "Private"]),
])
def test_upper_case_enumerated_campaign_values_are_rejected(tmp_path, campaign, names):
    result = build(write_config(tmp_path, campaign=campaign))
    assert_config_error(result, *names)


def test_upper_case_list_kind_is_rejected(tmp_path):
    entry = {"name": "robinson-2026-11", "kind": "Robinson", "path": "robinson.csv", "list_date": "2026-11-20"}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, "kind", "Robinson")


def test_upper_case_output_format_is_rejected(tmp_path):
    result = build(write_config(tmp_path, output={"format": "CSV"}))
    assert_config_error(result, "format", "CSV")


# ---------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize("name", ["pension webinar", "kampanja/12", "syksy-ä", "", "a:b"])
def test_campaign_name_outside_the_pattern_is_config_error(tmp_path, name):
    result = build(write_config(tmp_path, campaign={"name": name}))
    assert_config_error(result, "name")


def test_campaign_name_with_letters_digits_dot_underscore_dash_is_accepted(tmp_path):
    result = build(write_config(tmp_path, campaign={"name": "Pension_Webinar-2026.12"}))
    assert result.exit_code == 0, result.stderr
    assert summary(tmp_path / "run")["campaign"] == "Pension_Webinar-2026.12"


def test_list_name_outside_the_pattern_is_config_error(tmp_path):
    entry = {"name": "robinson 2026/11", "kind": "robinson", "path": "robinson.csv", "list_date": "2026-11-20"}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, "name")


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "-x", "_x"])
def test_campaign_name_must_start_with_a_letter_or_digit(tmp_path, name):
    # `..` as a name would send the default output folder to the config's own folder.
    result = build(write_config(tmp_path, campaign={"name": name}), out=None)
    assert_config_error(result, "campaign.name", "a letter or digit first")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["..", ".robinson", "-robinson"])
def test_list_name_must_start_with_a_letter_or_digit(tmp_path, name):
    entry = {"name": name, "kind": "robinson", "path": "robinson.csv", "list_date": "2026-11-20"}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, "suppressions", "a letter or digit first")


def test_cap_name_must_start_with_a_letter_or_digit(tmp_path):
    config = write_config(tmp_path, inputs={"contact_history": "history.csv"})
    (tmp_path / "history.csv").write_text("customer_id,channel,purpose,sent_at\n", encoding="utf-8")
    config.write_text(config.read_text(encoding="utf-8")
                      + '\n[[pressure]]\nname = ".."\nmax_contacts = 1\nwindow_days = 7\n', encoding="utf-8")
    assert_config_error(build(config), "pressure", "a letter or digit first")


def test_names_starting_with_a_digit_are_accepted(tmp_path):
    entry = {"name": "2026-robinson", "kind": "robinson", "path": "robinson.csv", "list_date": "2026-11-20"}
    result = build(write_config(tmp_path, campaign={"name": "2026.webinar"}, suppressions=[entry]))
    assert result.exit_code == 0, result.stderr


def test_duplicate_list_names_are_config_error_naming_the_name(tmp_path):
    entry = {"name": "blocked-2026", "kind": "internal", "path": "robinson.csv"}
    result = build(write_config(tmp_path, suppressions=[entry, dict(entry)]))
    assert_config_error(result, "blocked-2026")


# ---------------------------------------------------------------------------------------------
# holdout_percent and dedupe


@pytest.mark.parametrize("value", [0, 100, 12.5, 0.25])
def test_holdout_percent_from_0_to_100_incl_fractional_is_accepted(tmp_path, value):
    result = build(write_config(tmp_path, campaign={"holdout_percent": value}))
    assert result.exit_code == 0, result.stderr


def test_holdout_percent_100_holds_out_everyone(tmp_path):
    result = build(write_config(tmp_path, campaign={"holdout_percent": 100}))
    assert result.exit_code == 0, result.stderr
    email = summary(tmp_path / "run")["channels"]["email"]
    assert email["sendable"] == 0


@pytest.mark.parametrize("value", [-1, -0.5, 100.5, 101, True, False, Raw("nan"), Raw("inf")])
def test_holdout_percent_outside_0_to_100_or_bool_is_config_error(tmp_path, value):
    result = build(write_config(tmp_path, campaign={"holdout_percent": value}))
    assert_config_error(result, "holdout_percent")


@pytest.mark.parametrize("value", [True, False])
def test_dedupe_true_or_false_is_accepted(tmp_path, value):
    result = build(write_config(tmp_path, campaign={"dedupe": value}))
    assert result.exit_code == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# as_of


def test_toml_date_as_of_means_end_of_that_day_in_helsinki(tmp_path):
    result = build(write_config(tmp_path, campaign={"as_of": Raw("2026-12-01")}))
    assert result.exit_code == 0, result.stderr
    assert summary(tmp_path / "run")["as_of"] == "2026-12-01T23:59:59.999999+02:00"


def test_iso_string_date_as_of_means_end_of_that_day_in_helsinki(tmp_path):
    result = build(write_config(tmp_path, campaign={"as_of": "2026-12-01"}))
    assert result.exit_code == 0, result.stderr
    assert summary(tmp_path / "run")["as_of"] == "2026-12-01T23:59:59.999999+02:00"


def test_summer_date_as_of_uses_helsinki_summer_time(tmp_path):
    result = build(write_config(tmp_path, campaign={"as_of": "2026-07-01"}))
    assert result.exit_code == 0, result.stderr
    assert summary(tmp_path / "run")["as_of"] == "2026-07-01T23:59:59.999999+03:00"


def test_toml_local_datetime_as_of_is_helsinki_time(tmp_path):
    result = build(write_config(tmp_path, campaign={"as_of": Raw("2026-12-01T14:05:00")}))
    assert result.exit_code == 0, result.stderr
    assert as_of_of(tmp_path / "run") == dt.datetime(2026, 12, 1, 14, 5, tzinfo=HELSINKI)


def test_toml_offset_datetime_as_of_keeps_its_offset(tmp_path):
    result = build(write_config(tmp_path, campaign={"as_of": Raw("2026-12-01T12:05:00Z")}))
    assert result.exit_code == 0, result.stderr
    assert as_of_of(tmp_path / "run") == dt.datetime(2026, 12, 1, 14, 5, tzinfo=HELSINKI)


@pytest.mark.parametrize("text", ["2026-12-01T14:05:00", "2026-12-01 14:05", "2026-12-01T14:05:00.000"])
def test_iso_string_datetime_as_of_is_helsinki_time(tmp_path, text):
    result = build(write_config(tmp_path, campaign={"as_of": text}))
    assert result.exit_code == 0, result.stderr
    assert as_of_of(tmp_path / "run") == dt.datetime(2026, 12, 1, 14, 5, tzinfo=HELSINKI)


@pytest.mark.parametrize("text", ["2026-12-01T13:05:00+01:00", "2026-12-01T12:05:00Z", "2026-12-01T07:05:00-05:00"])
def test_iso_string_datetime_as_of_with_offset_is_that_instant(tmp_path, text):
    result = build(write_config(tmp_path, campaign={"as_of": text}))
    assert result.exit_code == 0, result.stderr
    assert as_of_of(tmp_path / "run") == dt.datetime(2026, 12, 1, 14, 5, tzinfo=HELSINKI)


def test_as_of_left_out_is_the_moment_the_build_starts(tmp_path):
    before = dt.datetime.now(dt.timezone.utc)
    result = build(write_config(tmp_path, campaign={"as_of": DROP}))
    after = dt.datetime.now(dt.timezone.utc)
    assert result.exit_code == 0, result.stderr
    as_of = as_of_of(tmp_path / "run")
    assert as_of.tzinfo is not None
    assert before - dt.timedelta(seconds=1) <= as_of <= after + dt.timedelta(seconds=1)


@pytest.mark.parametrize("text", ["tomorrow", "1.12.2026x", "2026-13-01", "2026-12-32"])
def test_unparseable_as_of_is_config_error(tmp_path, text):
    result = build(write_config(tmp_path, campaign={"as_of": text}))
    assert_config_error(result, "as_of")


def test_as_of_option_overrides_config_date(tmp_path):
    result = build(write_config(tmp_path, campaign={"as_of": "2026-12-01"}), "--as-of", "2026-06-15")
    assert result.exit_code == 0, result.stderr
    assert summary(tmp_path / "run")["as_of"] == "2026-06-15T23:59:59.999999+03:00"


def test_as_of_option_accepts_a_datetime(tmp_path):
    result = build(write_config(tmp_path), "--as-of", "2026-12-01T14:05:00")
    assert result.exit_code == 0, result.stderr
    assert as_of_of(tmp_path / "run") == dt.datetime(2026, 12, 1, 14, 5, tzinfo=HELSINKI)


@pytest.mark.parametrize("text", ["1.12.2026", "01.12.2026"])
def test_as_of_option_takes_a_finnish_date(tmp_path, text):
    result = build(write_config(tmp_path, campaign={"as_of": "2026-06-01"}), "--as-of", text)
    assert result.exit_code == 0, result.stderr
    assert summary(tmp_path / "run")["as_of"] == "2026-12-01T23:59:59.999999+02:00"


@pytest.mark.parametrize("text", ["1.12.2026 14.05", "1.12.2026 14:05", "01.12.2026 14.05.00", "1.12.2026 14:05:00"])
def test_as_of_option_takes_a_finnish_datetime_in_helsinki_time(tmp_path, text):
    result = build(write_config(tmp_path), "--as-of", text)
    assert result.exit_code == 0, result.stderr
    assert as_of_of(tmp_path / "run") == dt.datetime(2026, 12, 1, 14, 5, tzinfo=HELSINKI)


def test_config_as_of_takes_a_finnish_date(tmp_path):
    result = build(write_config(tmp_path, campaign={"as_of": "1.12.2026"}))
    assert result.exit_code == 0, result.stderr
    assert summary(tmp_path / "run")["as_of"] == "2026-12-01T23:59:59.999999+02:00"


def test_list_date_takes_a_finnish_date(tmp_path):
    entry = {"name": "robinson-2026-11", "kind": "robinson", "path": "robinson.csv", "list_date": "20.11.2026"}
    result = build(write_config(tmp_path, campaign={"channels": ["phone"]}, suppressions=[entry]))
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert [i["list_date"] for i in manifest["inputs"] if i["role"] == "list:robinson-2026-11"] == ["2026-11-20"]


def test_as_of_option_changes_the_decisions(tmp_path):
    config = write_config(tmp_path)
    # C1's consent is from 2026-01-01: before it, C1 has no consent on marketing e-mail.
    result = build(config, "--as-of", "2025-12-31")
    assert result.exit_code == 0, result.stderr
    assert summary(tmp_path / "run")["channels"]["email"]["sendable"] == 0


def test_unparseable_as_of_option_is_usage_error(tmp_path):
    result = build(write_config(tmp_path), "--as-of", "next-week")
    assert result.exit_code == 2, result.stderr
    assert "as-of" in result.stderr or "as_of" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------------------------------------
# Paths: config-relative, --out cwd-relative, default output dir


def test_default_output_dir_is_out_slash_name_next_to_the_config(tmp_path, monkeypatch):
    config = write_config(tmp_path / "cfg")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = build(config, out=None)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "cfg" / "out" / "autumn-offer" / "summary.json").exists()
    assert not (tmp_path / "elsewhere" / "out").exists()


def test_output_dir_is_relative_to_the_config_folder(tmp_path, monkeypatch):
    config = write_config(tmp_path / "cfg", output={"dir": "runs/this-one"})
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = build(config, out=None)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "cfg" / "runs" / "this-one" / "summary.json").exists()
    assert not (tmp_path / "elsewhere" / "runs").exists()


def test_out_option_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    config = write_config(tmp_path / "cfg")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = build(config, out="my-run")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "elsewhere" / "my-run" / "summary.json").exists()
    assert not (tmp_path / "cfg" / "my-run").exists()


def test_out_option_overrides_output_dir(tmp_path, monkeypatch):
    config = write_config(tmp_path / "cfg", output={"dir": "runs/from-config"})
    monkeypatch.chdir(tmp_path)
    result = build(config, out="from-option")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "from-option" / "summary.json").exists()
    assert not (tmp_path / "cfg" / "runs").exists()


def test_output_format_parquet_writes_parquet_tables(tmp_path):
    result = build(write_config(tmp_path, output={"format": "parquet"}))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "run" / "email.parquet").exists()
    assert (tmp_path / "run" / "exclusions.parquet").exists()
    assert not (tmp_path / "run" / "email.csv").exists()


def test_format_option_overrides_output_format(tmp_path):
    result = build(write_config(tmp_path, output={"format": "csv"}), "--format", "parquet")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "run" / "email.parquet").exists()
    assert not (tmp_path / "run" / "email.csv").exists()


def test_format_option_csv_overrides_output_format_parquet(tmp_path):
    result = build(write_config(tmp_path, output={"format": "parquet"}), "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "run" / "email.csv").exists()
    assert not (tmp_path / "run" / "email.parquet").exists()


def test_relative_input_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    cfg = tmp_path / "cfg"
    write_data(cfg / "data")
    config = write_config(cfg, data=False, inputs={"customers": "data/customers.csv", "consents": "data/consents.csv"})
    # A decoy with the same relative path under the working directory must not be read.
    decoy = tmp_path / "elsewhere" / "data"
    decoy.mkdir(parents=True)
    write_csv(decoy / "customers.csv", [customer("C9")], CUSTOMER_HEADER)
    write_csv(decoy / "consents.csv", [], CONSENT_HEADER)
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = build(config, out="run")
    assert result.exit_code == 0, result.stderr
    email = summary(tmp_path / "elsewhere" / "run")["channels"]["email"]
    assert email["candidates"] == 2
    assert email["sendable"] == 1


def test_config_given_by_relative_path_resolves_inputs_against_its_folder(tmp_path, monkeypatch):
    write_config(tmp_path / "cfg")
    monkeypatch.chdir(tmp_path)
    result = build(Path("cfg") / "campaign.toml", out="run")
    assert result.exit_code == 0, result.stderr
    assert summary(tmp_path / "run")["channels"]["email"]["candidates"] == 2


def test_relative_list_path_resolves_against_the_config_folder(tmp_path, monkeypatch):
    entry = {"name": "blocked", "kind": "internal", "path": "lists/blocked.csv"}
    config = write_config(tmp_path / "cfg", suppressions=[entry])
    (tmp_path / "cfg" / "lists").mkdir()
    write_csv(tmp_path / "cfg" / "lists" / "blocked.csv", [{"customer_id": "C1"}])
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = build(config, out="run")
    assert result.exit_code == 0, result.stderr
    assert summary(tmp_path / "elsewhere" / "run")["channels"]["email"]["excluded_by_reason"] == {
        "internal_prohibition": 1, "no_consent": 1}


def test_input_path_entry_without_path_is_config_error(tmp_path):
    result = build(write_config(tmp_path, inputs={"customers": {"encoding": "cp1252"}}))
    assert_config_error(result, "customers", "path")


def test_suppressions_written_as_a_single_table_is_config_error(tmp_path):
    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8")
                      + '\n[suppressions]\nname = "blocked"\nkind = "internal"\npath = "robinson.csv"\n',
                      encoding="utf-8")
    assert_config_error(build(config), "suppressions")


def test_input_path_entry_with_path_and_encoding_is_accepted(tmp_path):
    result = build(write_config(tmp_path, inputs={"customers": {"path": "customers.csv", "encoding": "cp1252"}}))
    assert result.exit_code == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# Suppression-list config


def test_custom_list_without_channels_is_config_error(tmp_path):
    entry = {"name": "partners", "kind": "custom", "path": "robinson.csv"}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, "channels")


def test_custom_list_with_channels_is_accepted(tmp_path):
    entry = {"name": "partners", "kind": "custom", "path": "robinson.csv", "channels": ["email"]}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("kind", ["robinson", "telemarketing"])
def test_robinson_or_telemarketing_list_without_list_date_is_config_error(tmp_path, kind):
    entry = {"name": f"{kind}-list", "kind": kind, "path": "robinson.csv"}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert_config_error(result, "list_date")


@pytest.mark.parametrize("kind", ["robinson", "telemarketing"])
def test_list_without_list_date_is_config_error_even_when_it_does_not_apply(tmp_path, kind):
    # The campaign is e-mail only, so a phone/post list does not apply; its config is still checked.
    entry = {"name": f"{kind}-list", "kind": kind, "path": "robinson.csv"}
    result = build(write_config(tmp_path, campaign={"channels": ["email"]}, suppressions=[entry]))
    assert_config_error(result, "list_date")


def test_internal_list_needs_no_list_date(tmp_path):
    entry = {"name": "blocked", "kind": "internal", "path": "robinson.csv"}
    result = build(write_config(tmp_path, suppressions=[entry]))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("list_date", [Raw("2026-11-20"), "2026-11-20"])
def test_list_date_as_toml_date_or_iso_string_is_accepted(tmp_path, list_date):
    entry = {"name": "robinson-2026-11", "kind": "robinson", "path": "robinson.csv", "list_date": list_date}
    result = build(write_config(tmp_path, campaign={"channels": ["phone"]}, suppressions=[entry]))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("list_date", [Raw("2026-11-20T08:00:00"), "2026-11-20T08:00:00"])
def test_list_date_as_datetime_counts_by_its_date(tmp_path, list_date):
    # "Dates in the config are TOML dates/datetimes or ISO strings": a datetime is read as its day.
    entry = {"name": "robinson-2026-11", "kind": "robinson", "path": "robinson.csv", "list_date": list_date}
    result = build(write_config(tmp_path, campaign={"channels": ["phone"]}, suppressions=[entry]))
    assert result.exit_code == 0, result.stderr


def test_list_date_in_the_future_of_as_of_is_accepted(tmp_path):
    entry = {"name": "robinson-2026-12", "kind": "robinson", "path": "robinson.csv", "list_date": Raw("2026-12-05")}
    result = build(write_config(tmp_path, campaign={"channels": ["phone"]}, suppressions=[entry]))
    assert result.exit_code == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# Errors together, invalid files, no traceback, nothing written


def test_all_config_problems_are_reported_together(tmp_path):
    result = build(write_config(tmp_path, campaign={"purpose": "advertising", "budget": 5}))
    assert_config_error(result, "purpose", "advertising", "budget")


def test_problems_in_different_sections_are_reported_together(tmp_path):
    entry = {"name": "blocked", "kind": "blacklist", "path": "robinson.csv"}
    result = build(write_config(tmp_path, campaign={"name": DROP}, inputs={"consents": DROP},
                                suppressions=[entry], output={"format": "xlsx"}))
    assert_config_error(result, "name", "consents", "blacklist", "xlsx")
    problem_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(problem_lines) >= 4


def test_invalid_toml_is_config_error(tmp_path):
    write_data(tmp_path)
    config = tmp_path / "campaign.toml"
    config.write_text('[campaign\nname = "autumn-offer"\n', encoding="utf-8")
    result = build(config)
    assert_config_error(result, "campaign.toml")
    assert not (tmp_path / "run").exists()


def test_toml_with_a_key_twice_is_config_error(tmp_path):
    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8").replace(
        '[campaign]\n', '[campaign]\npurpose = "service"\n'), encoding="utf-8")
    assert_config_error(build(config), "campaign.toml")


def test_missing_config_file_is_config_error(tmp_path):
    result = build(tmp_path / "no-such-campaign.toml")
    assert_config_error(result, "no-such-campaign.toml")
    assert not (tmp_path / "run").exists()


def test_unknown_command_line_option_is_usage_error(tmp_path):
    result = build(write_config(tmp_path), "--colour")
    assert result.exit_code == 2
    assert not (tmp_path / "run").exists()


def test_build_without_config_argument_is_usage_error():
    result = invoke("build")
    assert result.exit_code == 2


@pytest.mark.parametrize("changes", [
    {"campaign": {"purpose": "advertising"}},
    {"campaign": {"budget": 1}},
    {"inputs": {"customers": 42}},
    {"suppressions": [{"name": "r", "kind": "robinson", "path": "robinson.csv"}]},
])
def test_config_error_shows_no_traceback(tmp_path, changes):
    result = build(write_config(tmp_path, **changes))
    assert result.exit_code == 2
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert 'File "' not in output


def test_config_error_is_on_stderr_not_stdout(tmp_path):
    result = build(write_config(tmp_path, campaign={"purpose": "advertising"}))
    assert result.exit_code == 2
    assert "advertising" in result.stderr
    assert "advertising" not in result.stdout


@pytest.mark.parametrize("changes", [
    {"campaign": {"purpose": "advertising"}},
    {"output": {"format": "xlsx"}},
    {"suppressions": [{"name": "r", "kind": "custom", "path": "robinson.csv"}]},
])
def test_config_error_writes_nothing(tmp_path, changes):
    config = write_config(tmp_path, **changes)
    before = sorted(os.listdir(tmp_path))
    result = build(config)
    assert result.exit_code == 2
    assert not (tmp_path / "run").exists()
    assert sorted(os.listdir(tmp_path)) == before  # no temporary folder beside the target either


def test_config_error_leaves_the_default_output_dir_absent(tmp_path):
    config = write_config(tmp_path, campaign={"purpose": "advertising"})
    result = build(config, out=None)
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_config_error_leaves_a_previous_run_untouched(tmp_path):
    config = write_config(tmp_path)
    assert build(config).exit_code == 0
    previous = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    config = write_config(tmp_path, campaign={"purpose": "advertising"})
    assert build(config).exit_code == 2
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == previous
    assert not [p for p in tmp_path.iterdir() if p.name not in {
        "run", "campaign.toml", "customers.csv", "consents.csv", "robinson.csv"}]


def test_config_problem_lines_name_the_config_file(tmp_path):
    result = build(write_config(tmp_path, campaign={"purpose": "advertising"}))
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if "advertising" in line]
    assert lines and all("campaign.toml" in line for line in lines), result.stderr
