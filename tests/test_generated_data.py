"""Every command on a data set made by `audience sample` (issue #3: tests on generated data too)."""
import json

import pytest
from typer.testing import CliRunner

from audiencecli.cli import app


def run(*args):
    return CliRunner().invoke(app, [*map(str, args)])


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated")
    data = root / "data"
    result = run("sample", data, "--customers", 1500, "--seed", 7, "--quiet")
    assert result.exit_code == 0, result.stderr
    return root, data / "campaign.toml"


def test_validate_passes_on_generated_data(generated):
    _, config = generated
    result = run("validate", config, "--json", "--quiet")
    assert result.exit_code == 0, result.stderr
    quality = json.loads(result.stdout)["quality"]
    assert sum(quality["email"].values()) == 1500


def test_build_explain_report_and_diff_on_generated_data(generated):
    root, config = generated
    now, before = root / "now", root / "before"
    assert run("build", config, "--out", now, "--quiet").exit_code == 0
    assert run("build", config, "--out", before, "--as-of", "2026-06-01", "--allow-stale", "--quiet").exit_code == 0

    excluded = (now / "exclusions.csv").read_text(encoding="utf-8").splitlines()[1].split(",")
    explained = run("explain", config, excluded[0], "--json", "--quiet")
    assert explained.exit_code == 0, explained.stderr
    channel = next(c for c in json.loads(explained.stdout)["channels"] if c["channel"] == excluded[1])
    assert channel["reason_code"] == excluded[2]

    page = root / "report.html"
    report = run("report", now, "--html", page)
    assert report.exit_code == 0, report.stderr
    assert page.read_text(encoding="utf-8").count("<svg") >= 5

    diff = run("diff", before, now, "--json")
    assert diff.exit_code == 0, diff.stderr
    channels = json.loads(diff.stdout)["channels"]
    summary = json.loads((now / "summary.json").read_text(encoding="utf-8"))["channels"]
    for name, counts in channels.items():
        assert counts["stayed"] + counts["entered"] == summary[name]["sendable"]
