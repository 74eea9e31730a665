"""`audience init DIR` (issue 18): a commented campaign.toml with every config key and its
default, which builds as it is against `audience sample` data; `--version` and shell completion."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from audiencecli import __version__
from audiencecli.cli import app
from audiencecli.config import ALLOWED_KEYS, load_config
from audiencecli.init import campaign_template, write_init
from audiencecli.sample import write_sample
from conftest import CHECK_RUN

runner = CliRunner()


def uncommented(text: str) -> str:
    """The template with its commented-out keys turned on (`# key = value` -> `key = value`)."""
    return re.sub(r"(?m)^# (\[\[?[a-z]+\]\]?$|[a-z_]+ = )", r"\1", text)


def test_init_writes_a_config_that_loads(tmp_path):
    written = write_init(tmp_path / "new")
    assert written == tmp_path / "new" / "campaign.toml"
    config = load_config(written)
    assert config.name == "my-campaign"
    assert config.channels == ("email", "sms", "phone", "post", "social")


def test_init_names_every_config_key():
    text = campaign_template()
    data = tomllib.loads(uncommented(text))
    sections = {"campaign": data["campaign"], "inputs": data["inputs"], "output": data["output"],
                "arbitration": data["arbitration"], "pressure": data["pressure"][0],
                "suppressions": data["suppressions"][0]}
    for section, keys in ALLOWED_KEYS.items():
        if section in ("", "path entry", "query entry"):
            continue
        assert set(sections[section]) == keys, section
    assert set(data) == ALLOWED_KEYS[""]
    for key in (*ALLOWED_KEYS["path entry"], *ALLOWED_KEYS["query entry"]):
        assert f"{key} = " in text, key  # the other ways to give an input are shown too


def test_init_with_every_key_turned_on_is_still_a_valid_config(tmp_path):
    """The commented defaults are real values: turned on, the config loads."""
    write_sample(tmp_path, 50, 1, "csv")
    (tmp_path / "campaign.toml").write_text(uncommented(campaign_template()), encoding="utf-8")
    config = load_config(tmp_path / "campaign.toml")
    assert config.minimum_age == 15 and config.dedupe is True and config.holdout_percent == 0


def test_init_builds_as_is_against_sample_data(tmp_path):
    write_sample(tmp_path, 300, 1, "csv")
    result = runner.invoke(app, ["init", str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "run"
    result = runner.invoke(app, ["build", str(tmp_path / "campaign.toml"), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    if not CHECK_RUN.exists():
        return  # the shared check-run tool is absent: the build's success is what is left to see
    check = subprocess.run([sys.executable, str(CHECK_RUN), str(tmp_path / "campaign.toml"), str(out)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_init_refuses_to_replace_a_config_without_force(tmp_path):
    (tmp_path / "campaign.toml").write_text("kept", encoding="utf-8")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "--force" in result.output
    assert (tmp_path / "campaign.toml").read_text(encoding="utf-8") == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campaign.toml"]


def test_init_into_a_file_is_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("", encoding="utf-8")
    result = runner.invoke(app, ["init", str(tmp_path / "file")])
    assert result.exit_code == 2
    assert "not a folder" in result.output


def test_version_prints_the_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"audiencecli {__version__}"


def test_shell_completion_script_is_offered():
    """Typer's completion: `--show-completion` prints the script for a shell (found from the
    parent processes; Typer's own switch names it here, as no shell runs the tests)."""
    audience = Path(sys.executable).with_name("audience")
    completed = subprocess.run([str(audience), "--show-completion", "bash"], capture_output=True, text=True,
                               env={"PATH": str(audience.parent), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert completed.returncode == 0, completed.stderr
    assert "complete -o default -F _audience_completion audience" in completed.stdout
