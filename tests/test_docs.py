"""The README tells the truth about the commands and the rules."""
import re
from pathlib import Path

from typer.testing import CliRunner

from audiencecli.cli import app
from audiencecli.rules import RULES, rules_markdown

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_rules_table_is_the_rules_table_of_the_code():
    table = re.search(r"<!-- rules-table:start -->\n(.*?)\n<!-- rules-table:end -->", README, re.S)
    assert table and table.group(1) == rules_markdown()


def test_every_reason_code_is_documented():
    for rule in RULES:
        assert f"`{rule.code}`" in README


def test_every_command_has_help_and_a_readme_section():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert f"audience {name}" in README
        assert CliRunner().invoke(app, [name, "--help"]).exit_code == 0


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    command = re.findall(r"```sh\n(.*?)\n```", README, re.S)[1]
    assert command.strip() in ci


def test_every_test_file_the_guarantees_name_exists():
    guarantees = re.search(r"## Guarantees\n(.*?)\n## ", README, re.S)
    assert guarantees
    named = set(re.findall(r"`(tests/[\w/]+(?:\.py)?/?)`", guarantees.group(1)))
    assert named
    for path in named:
        assert (Path(__file__).resolve().parents[1] / path).exists(), path
