"""The README tells the truth about the commands and the rules."""
import re
from pathlib import Path

from typer.testing import CliRunner

from audiencecli.cli import app
from audiencecli.init import campaign_template
from audiencecli.rules import RULES, rules_markdown
from audiencecli.sample import CAMPAIGN

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
RULE_NUMBER = re.compile(r"\bR\d{1,2}\b")


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


def test_the_readme_names_rules_by_reason_code_outside_the_rules_table_and_explains_output():
    # Rule numbers move when rules are added; reason codes do not. The rules table shows the
    # numbers, and so does explain's output quoted in the README.
    prose = re.sub(r"<!-- rules-table:start -->.*?<!-- rules-table:end -->", "", README, flags=re.S)
    prose = re.sub(r"```\n[^`]*?── [✓✗–·] R\d[^`]*?```", "", prose, flags=re.S)
    assert RULE_NUMBER.findall(prose) == []


def test_sample_configs_and_config_templates_name_rules_by_reason_code():
    texts = {path.name: path.read_text(encoding="utf-8")
             for path in sorted((REPO / "sample_data").glob("*")) if path.suffix in (".toml", ".md")}
    texts.update({"audience init": campaign_template(), "audience sample": CAMPAIGN})
    assert {name: RULE_NUMBER.findall(text) for name, text in texts.items() if RULE_NUMBER.search(text)} == {}
