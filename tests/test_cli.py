"""The `audience` command line (contract sections 1 and 8): help, build options, output modes,
exit codes and error messages, running as a module, and the shared run checker."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiencecli.cli import app
from conftest import CHECK_RUN, Campaign, customer

CHANNELS = ("email", "sms", "phone", "post", "social")
COMMANDS = ("build", "validate", "explain", "report", "diff", "sample")
BUILD_OPTIONS = ("--out", "--as-of", "--format", "--allow-stale", "--quiet", "--json")


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def audience(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiencecli", *[str(a) for a in args]],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def granted(customer_id: str) -> dict:
    return {"customer_id": customer_id, "channel": "all", "purpose": "all", "status": "granted",
            "recorded_at": "2026-01-01T10:00:00", "source": "web"}


def small(campaign: Campaign) -> Campaign:
    campaign.customers = [customer("C1"), customer("C2", email="", phone=""), customer("C3")]
    campaign.consents = [granted("C1")]
    return campaign


def stale_list(campaign: Campaign) -> Campaign:
    campaign.lists = [{"name": "old-robinson", "kind": "robinson", "list_date": "2026-01-01",
                       "rows": [{"customer_id": "C9"}]}]
    return campaign


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- help ----------------------------------------------------------------------------------

def test_help_works():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "build" in result.stdout


def test_help_lists_every_command_of_the_contract():
    result = invoke("--help")
    assert result.exit_code == 0
    missing = [c for c in COMMANDS if not re.search(rf"\b{c}\b", result.stdout)]
    assert missing == []


def test_build_help_works_and_lists_every_build_option():
    result = invoke("build", "--help")
    assert result.exit_code == 0
    assert [o for o in BUILD_OPTIONS if o not in result.stdout] == []


# --- exit codes (section 8) ----------------------------------------------------------------

def test_successful_build_exits_0(campaign):
    small(campaign)
    result = invoke("build", campaign.write(), "--out", campaign.root / "run")
    assert result.exit_code == 0, result.stderr


def test_unknown_option_is_a_usage_error_exit_2(campaign):
    small(campaign)
    result = invoke("build", campaign.write(), "--out", campaign.root / "run", "--no-such-option")
    assert result.exit_code == 2
    assert not (campaign.root / "run").exists()


def test_unknown_config_key_is_a_config_error_exit_2_naming_the_key(campaign):
    small(campaign)
    campaign.campaign = {"colour": "blue"}
    run = campaign.build()
    assert run.exit_code == 2
    assert "colour" in run.stderr


def test_format_outside_its_set_is_exit_2(campaign):
    small(campaign)
    run = campaign.build("--format", "xlsx")
    assert run.exit_code == 2
    assert not run.dir.exists()


def test_missing_config_file_is_exit_2(tmp_path):
    # The contract is silent; a config that does not exist is a usage/config problem, not input data.
    result = invoke("build", tmp_path / "nope.toml", "--out", tmp_path / "run")
    assert result.exit_code == 2
    assert "nope.toml" in result.stderr


def test_data_error_exits_3(campaign):
    small(campaign)
    campaign.customers.append(customer("C1"))
    run = campaign.build()
    assert run.exit_code == 3


def test_stale_suppression_list_exits_4_naming_list_date_and_age(campaign):
    stale_list(small(campaign))
    run = campaign.build()
    assert run.exit_code == 4
    assert "old-robinson" in run.stderr
    assert "2026-01-01" in run.stderr
    assert "334" in run.stderr  # 2026-12-01 minus 2026-01-01


def test_config_error_wins_over_data_error(campaign):
    small(campaign)
    campaign.customers.append(customer("C1"))
    campaign.campaign = {"colour": "blue"}
    assert campaign.build().exit_code == 2


def test_data_error_wins_over_stale_list(campaign):
    stale_list(small(campaign))
    campaign.customers.append(customer("C1"))
    assert campaign.build().exit_code == 3


# --- error messages (section 8) ------------------------------------------------------------

def test_error_line_names_file_line_and_column(campaign):
    campaign.customers = [customer("C1"), customer("C1")]  # the duplicate is data row 2 = line 3
    run = campaign.build()
    assert run.exit_code == 3
    assert re.search(r"customers\.csv:3: column customer_id: ", run.stderr), run.stderr


def test_each_problem_is_one_line_in_a_log_even_when_long(campaign):
    # A cron job's stderr is no terminal; a long path must not be wrapped onto a second line.
    deep = campaign.root / ("a-long-folder-name-of-a-campaign-" * 3) / "nested"
    deep.mkdir(parents=True)
    nested = Campaign(root=deep, customers=[customer("C1"), customer("C1"), customer("C1")])
    done = audience("build", nested.write(), "--out", deep / "run", cwd=Path("/"))
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) >= 2
    assert all(re.match(r".*customers\.csv:\d+: column customer_id: .*\(C1\)$", line) for line in lines), lines


def test_at_most_20_problems_are_listed_and_the_total_is_counted(campaign):
    campaign.customers = [customer(f"C{n}", customer_type="robot") for n in range(1, 26)]
    run = campaign.build()
    assert run.exit_code == 3
    listed = [line for line in run.stderr.splitlines() if re.match(r".*customers\.csv:\d+: ", line)]
    assert 1 <= len(listed) <= 20
    assert "25" in run.stderr


@pytest.mark.parametrize("breaks, code", [("config", 2), ("data", 3), ("stale", 4)])
def test_failed_build_writes_nothing(campaign, breaks, code):
    small(campaign)
    if breaks == "config":
        campaign.campaign = {"colour": "blue"}
    elif breaks == "data":
        campaign.customers.append(customer("C1"))
    else:
        stale_list(campaign)
    campaign.write()
    before = entries(campaign.root)
    run = campaign.build()
    assert run.exit_code == code
    assert entries(campaign.root) == before  # no run directory, no temporary folder


@pytest.mark.parametrize("breaks, code", [("config", 2), ("data", 3), ("stale", 4)])
def test_errors_print_no_traceback(campaign, breaks, code):
    small(campaign)
    if breaks == "config":
        campaign.campaign = {"colour": "blue"}
    elif breaks == "data":
        campaign.customers.append(customer("C1"))
    else:
        stale_list(campaign)
    done = audience("build", campaign.write(), "--out", campaign.root / "run")
    assert done.returncode == code
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr.strip()


def test_debug_is_accepted(campaign):
    small(campaign)
    result = invoke("build", campaign.write(), "--out", campaign.root / "run", "--debug", "--quiet")
    assert result.exit_code == 0, result.stderr


def test_debug_shows_a_traceback_on_error(campaign):
    small(campaign)
    campaign.customers.append(customer("C1"))
    done = audience("build", campaign.write(), "--out", campaign.root / "run", "--debug")
    assert done.returncode != 0
    assert "Traceback" in done.stderr


# --- output modes --------------------------------------------------------------------------

def test_json_prints_only_the_summary_on_stdout(campaign):
    small(campaign)
    result = invoke("build", campaign.write(), "--out", campaign.root / "run", "--json")
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)  # the whole of stdout is one JSON document
    written = json.loads((campaign.root / "run" / "summary.json").read_text(encoding="utf-8"))
    assert printed == written


def test_json_sends_messages_to_stderr(campaign):
    small(campaign)
    campaign.campaign = {"channels": ["email"]}
    stale_list(campaign)  # a phone/post list: does not apply to an email campaign, so a note names it
    result = invoke("build", campaign.write(), "--out", campaign.root / "run", "--json")
    assert result.exit_code == 0, result.stderr
    written = json.loads((campaign.root / "run" / "summary.json").read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == written  # the note did not leak into stdout
    assert "old-robinson" in result.stderr


def test_quiet_prints_no_table(campaign):
    small(campaign)
    result = invoke("build", campaign.write(), "--out", campaign.root / "run", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "candidates" not in result.stdout and "sendable" not in result.stdout
    assert result.stdout.strip() == ""


def test_default_prints_a_table_with_each_channel(campaign):
    small(campaign)
    result = invoke("build", campaign.write(), "--out", campaign.root / "run")
    assert result.exit_code == 0, result.stderr
    for word in (*CHANNELS, "candidates", "sendable"):
        assert word in result.stdout, word


def test_allow_stale_builds_marks_the_run_stale_and_says_so(campaign):
    stale_list(small(campaign))
    result = invoke("build", campaign.write(), "--out", campaign.root / "run", "--allow-stale")
    assert result.exit_code == 0, result.stderr
    summary = json.loads((campaign.root / "run" / "summary.json").read_text(encoding="utf-8"))
    manifest = json.loads((campaign.root / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert summary["stale"] is True and manifest["stale"] is True
    assert "old-robinson" in result.stderr and "stale" in result.stderr.lower()


# --- build options (section 1) -------------------------------------------------------------

def test_out_is_relative_to_the_working_directory(campaign, tmp_path, monkeypatch):
    small(campaign)
    config = campaign.write()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("build", config, "--out", "relative-run", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (elsewhere / "relative-run" / "exclusions.csv").is_file()


def test_output_dir_in_config_is_relative_to_the_config_file(campaign, tmp_path, monkeypatch):
    small(campaign)
    campaign.output = {"dir": "runs/first"}
    config = campaign.write()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("build", config, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (campaign.root / "runs" / "first" / "exclusions.csv").is_file()


def test_default_output_dir_is_out_campaign_name_beside_the_config(campaign, tmp_path, monkeypatch):
    small(campaign)
    config = campaign.write()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("build", config, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (campaign.root / "out" / "test-campaign" / "exclusions.csv").is_file()


def test_out_option_overrides_output_dir(campaign):
    small(campaign)
    campaign.output = {"dir": "from-config"}
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    assert (run.dir / "exclusions.csv").is_file()
    assert not (campaign.root / "from-config").exists()


def test_as_of_date_option_overrides_config_as_end_of_that_helsinki_day(campaign):
    small(campaign)
    run = campaign.build("--as-of", "2026-06-30")
    assert run.exit_code == 0, run.stderr
    summer_end_of_day = dt.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert dt.datetime.fromisoformat(run.summary()["as_of"]) == summer_end_of_day


def test_as_of_datetime_option_is_helsinki_local_time(campaign):
    small(campaign)
    run = campaign.build("--as-of", "2026-06-30T12:00:00")
    assert run.exit_code == 0, run.stderr
    noon = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert dt.datetime.fromisoformat(run.summary()["as_of"]) == noon


def test_as_of_option_changes_the_decisions(campaign):
    small(campaign)  # C1's consent is recorded 2026-01-01
    run = campaign.build("--as-of", "2025-12-31")
    assert run.exit_code == 0, run.stderr
    assert run.reason("C1", "email") == "no_consent"


def test_format_option_overrides_output_format(campaign):
    small(campaign)
    campaign.output = {"format": "parquet"}
    run = campaign.build("--format", "csv")
    assert run.exit_code == 0, run.stderr
    assert (run.dir / "email.csv").is_file()
    assert not (run.dir / "email.parquet").exists()


# --- running as a program ------------------------------------------------------------------

def test_build_runs_as_python_module(campaign):
    small(campaign)
    out = campaign.root / "run"
    done = audience("build", campaign.write(), "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert {f"{c}.csv" for c in CHANNELS} | {"exclusions.csv", "summary.json", "manifest.json"} <= set(entries(out))


def test_shared_checker_finds_no_problems(campaign):
    if not CHECK_RUN.exists():
        pytest.skip("shared check-run tool is absent")
    small(campaign)
    campaign.customers += [customer("C4", deceased_date="2020-01-01"), customer("C5", email="x@", phone="12"),
                           customer("C10", customer_type="business", business_role="ceo")]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    done = subprocess.run([sys.executable, str(CHECK_RUN), str(campaign.root / "campaign.toml"), str(run.dir)],
                          capture_output=True, text=True, timeout=120)
    assert "check-run: 0 problems" in done.stdout, done.stdout
    assert done.returncode == 0


@pytest.mark.parametrize("user_value, expected", [
    (None, "dirty_decay_ms:20000,muzzy_decay_ms:0,background_thread:true"),
    ("narenas:2", "narenas:2"),  # a value the user set is kept
])
def test_the_allocator_keeps_freed_pages_longer_unless_the_user_says_otherwise(user_value, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    if user_value is not None:
        env["_RJEM_MALLOC_CONF"] = user_value
    seen = subprocess.run([sys.executable, "-c", "import os, audiencecli; print(os.environ['_RJEM_MALLOC_CONF'])"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert seen == expected
