"""`audience report RUN_DIR` (contract section 1): the terminal tables, --json, runs that are not
runs, and the self-contained HTML page, checked as text and, when Chromium is installed, in a
real headless browser over the DevTools protocol."""
from __future__ import annotations

import base64
import csv
import html
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiencecli.cli import app
from audiencecli.rules import REASON_CODES
from conftest import REPO

SAMPLE = REPO / "sample_data" / "campaign.toml"
CHROMIUM = Path("/usr/bin/chromium")
WIDE = {"COLUMNS": "200"}


def invoke(*args, env: dict | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def build_sample(out: Path, *args: str) -> Path:
    result = invoke("build", SAMPLE, "--out", out, "--quiet", *args)
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("report") / "run")


@pytest.fixture(scope="module")
def stale_run_dir(tmp_path_factory) -> Path:
    # Three months after the sample's as_of, the Robinson and telemarketing lists are stale.
    return build_sample(tmp_path_factory.mktemp("report") / "stale", "--as-of", "2027-03-01", "--allow-stale")


def summary_of(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page_path(run_dir, tmp_path_factory) -> Path:
    page = tmp_path_factory.mktemp("page") / "report.html"
    result = invoke("report", run_dir, "--html", page)
    assert result.exit_code == 0, result.stderr
    return page


@pytest.fixture(scope="module")
def page(page_path) -> str:
    return page_path.read_text(encoding="utf-8")


class Elements(HTMLParser):
    """Every start tag with its attributes, and the svg each one sits in."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict, dict | None]] = []
        self._svg: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if tag == "svg":
            self._svg = attributes
        self.tags.append((tag, attributes, self._svg))

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg = None

    def svgs(self, kind: str) -> dict[str, dict]:
        return {a["data-channel"]: a for t, a, _ in self.tags if t == "svg" and kind in a.get("class", "").split()}

    def inside(self, svg: dict, tag: str, css_class: str) -> list[dict]:
        return [a for t, a, s in self.tags if s is svg and t == tag and css_class in a.get("class", "").split()]


# --- terminal ------------------------------------------------------------------------------

def table_rows(stdout: str) -> dict[str, list[str]]:
    """The summary table's rows: label → one cell per channel."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("│┃").split("│")]
        if len(cells) > 1:
            rows[cells[0]] = cells[1:]
    return rows


def test_report_shows_every_channel_with_the_counts_of_summary_json(run_dir):
    result = invoke("report", run_dir, env=WIDE)
    assert result.exit_code == 0, result.stderr
    summary = summary_of(run_dir)
    header = next(line for line in result.stdout.splitlines() if "┃" in line and "email" in line)
    assert [c.strip() for c in header.strip("┃").split("┃")][1:] == list(summary["channels"])
    rows = table_rows(result.stdout)
    for index, counts in enumerate(summary["channels"].values()):
        assert rows["candidates"][index] == str(counts["candidates"])
        assert rows["sendable"][index] == str(counts["sendable"])
        assert rows["excluded"][index] == str(counts["excluded"])
        for reason, count in counts["excluded_by_reason"].items():
            assert rows[reason][index] == str(count)
        for basis, count in counts["sendable_by_legal_basis"].items():
            assert rows[basis][index] == str(count)


def test_report_shows_the_run_metadata_and_the_inputs_with_short_hashes(run_dir):
    result = invoke("report", run_dir, env=WIDE)
    summary = summary_of(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    out = result.stdout
    for text in (summary["campaign"], summary["purpose"], summary["as_of"]):
        assert text in out
    assert re.search(r"^stale +no: ", out, re.M)
    assert re.search(rf"^orphan consent ids +{summary['orphan_consent_ids']['count']} *$", out, re.M)
    for item in manifest["inputs"]:
        line = next(line for line in out.splitlines() if f"│ {item['role']} " in line)
        assert item["sha256"][:12] in line and item["sha256"] not in line
        assert f" {item['rows']} " in line and item["path"] in line
        if item["list_date"]:
            assert item["list_date"] in line
    for warning in summary["warnings"]:
        assert f"warning: {warning}" in out


def test_report_of_a_stale_run_says_stale_and_names_the_stale_lists(stale_run_dir):
    result = invoke("report", stale_run_dir, env=WIDE)
    assert result.exit_code == 0, result.stderr
    summary = summary_of(stale_run_dir)
    assert summary["stale"] and summary["stale_lists"]
    assert " STALE " in result.stdout
    for name in summary["stale_lists"]:
        assert name in result.stdout


def test_report_json_prints_summary_json(run_dir):
    result = invoke("report", run_dir, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == summary_of(run_dir)


# --- not a run: exit 2, one line, no traceback ---------------------------------------------

def assert_usage_error(result, *fragments: str) -> None:
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_a_missing_run_directory_exits_2_with_one_line(tmp_path):
    missing = tmp_path / "no-such-run"
    assert_usage_error(invoke("report", missing), str(missing), "no such run directory")


def test_a_file_instead_of_a_run_directory_exits_2(tmp_path):
    file = tmp_path / "summary.json"
    file.write_text("{}", encoding="utf-8")
    assert_usage_error(invoke("report", file), "not a directory")


@pytest.mark.parametrize("name", ["summary.json", "manifest.json"])
def test_a_folder_without_the_run_files_is_not_a_run(run_dir, tmp_path, name):
    copy = shutil.copytree(run_dir, tmp_path / "run")
    (copy / name).unlink()
    assert_usage_error(invoke("report", copy), "not a run directory", f"{name} is missing")


@pytest.mark.parametrize("name", ["summary.json", "manifest.json"])
def test_unparseable_json_exits_2_naming_the_file_and_line(run_dir, tmp_path, name):
    copy = shutil.copytree(run_dir, tmp_path / "run")
    (copy / name).write_text('{\n  "campaign": \n', encoding="utf-8")
    assert_usage_error(invoke("report", copy), f"{copy / name}:3: not valid JSON")


def test_a_summary_of_another_shape_exits_2(run_dir, tmp_path):
    copy = shutil.copytree(run_dir, tmp_path / "run")
    summary = summary_of(copy)
    summary["channels"]["email"]["sendable"] = "many"
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert_usage_error(invoke("report", copy), "summary.json", "channel 'email' has no counts")


def test_an_html_file_that_cannot_be_written_exits_5_and_leaves_nothing(run_dir, tmp_path):
    # Section 8: the output cannot be written is exit 5, the message naming the path and the cause.
    target = tmp_path / "no-such-folder" / "report.html"
    result = invoke("report", run_dir, "--html", target)
    assert (result.exit_code, result.stdout) == (5, "")
    assert result.stderr.strip().splitlines() == [f"{target}: cannot be written: No such file or directory; "
                                                  "nothing was written"]
    directory = tmp_path / "a-folder"
    directory.mkdir()
    result = invoke("report", run_dir, "--html", directory)
    assert result.exit_code == 5
    assert f"{directory}: cannot be written: Is a directory" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder"]
    assert list(directory.iterdir()) == []


# --- the HTML page -------------------------------------------------------------------------

def test_html_is_one_file_written_atomically_and_reported_on_stderr(run_dir, tmp_path):
    target = tmp_path / "report.html"
    target.write_text("an older report", encoding="utf-8")
    result = invoke("report", run_dir, "--html", target, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == summary_of(run_dir)
    assert f"wrote {target}" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left beside it
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_html_needs_no_network_and_no_other_file(page):
    lowered = page.lower()
    for forbidden in ("http://", "https://", "<script", "<link", "@import", "url(", "@font-face", "<img", "<iframe"):
        assert forbidden not in lowered
    for tag, attributes, _ in Elements(page).tags:
        assert "src" not in attributes, tag
        assert attributes.get("href", "#").startswith("#"), (tag, attributes)
    assert "<style>" in page and "<svg" in page


def test_html_has_a_waterfall_per_channel_from_candidates_through_each_reason_to_sendable(page, run_dir):
    channels = summary_of(run_dir)["channels"]
    elements = Elements(page)
    waterfalls = elements.svgs("waterfall")
    assert list(waterfalls) == list(channels)
    for channel, counts in channels.items():
        bars = elements.inside(waterfalls[channel], "rect", "bar")
        reasons = list(counts["excluded_by_reason"])
        assert [b["data-label"] for b in bars] == ["candidates", *reasons, "sendable"]
        assert [int(b["data-value"]) for b in bars] == [
            counts["candidates"], *counts["excluded_by_reason"].values(), counts["sendable"]]
        assert all(float(b["width"]) > 0 and float(b["height"]) > 0 for b in bars)


def test_html_waterfall_bars_step_down_from_candidates_to_sendable(page):
    elements = Elements(page)
    for svg in elements.svgs("waterfall").values():
        candidates, *excluded, sendable = elements.inside(svg, "rect", "bar")
        level = float(candidates["x"]) + float(candidates["width"])
        for bar in excluded:
            assert float(bar["x"]) + float(bar["width"]) == pytest.approx(level, abs=0.02)
            level = float(bar["x"])
        assert float(sendable["x"]) + float(sendable["width"]) == pytest.approx(level, abs=0.02)


def test_html_has_the_legal_basis_split_per_channel(page, run_dir):
    channels = summary_of(run_dir)["channels"]
    elements = Elements(page)
    splits = elements.svgs("legal-basis")
    assert list(splits) == list(channels)
    for channel, counts in channels.items():
        segments = elements.inside(splits[channel], "rect", "segment")
        assert {s["data-basis"]: int(s["data-value"]) for s in segments} == counts["sendable_by_legal_basis"]
        assert sum(float(s["width"]) for s in segments) == pytest.approx(float(
            elements.inside(elements.svgs("waterfall")[channel], "rect", "bar")[0]["width"]), abs=0.05)


def test_html_shows_the_numbers_and_the_metadata_of_the_run(page, run_dir):
    summary = summary_of(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    for counts in summary["channels"].values():
        kpis = f"{counts['candidates']} candidates</span> · <span>{counts['excluded']} excluded</span>"
        assert kpis in page and f"<strong>{counts['sendable']} sendable</strong>" in page
        for count in counts["excluded_by_reason"].values():
            assert f">−{count}</text>" in page
    for text in (summary["campaign"], summary["purpose"], summary["as_of"]):
        assert text in page
    for item in manifest["inputs"]:
        assert item["sha256"] in page and item["path"] in page and item["role"] in page
    assert f"<dt>orphan consent ids</dt><dd>{summary['orphan_consent_ids']['count']}</dd>" in page
    for warning in summary["warnings"]:
        assert warning.replace("'", "&#x27;") in page


def test_html_lists_every_file_of_the_run_with_its_rows_and_where_it_goes(page, run_dir):
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    files = [item["file"] for item in manifest["outputs"]]
    assert {"email.csv", "exclusions.csv", "audience-meta.csv", "audience-google.csv"} <= set(files)
    section = re.search(r'<section id="files">(.*?)</section>', page, re.S).group(1)
    for item in manifest["outputs"]:
        row = re.search(rf"<tr><td[^>]*><code>{re.escape(item['file'])}</code></td>(.*?)</tr>", section).group(1)
        assert item["sha256"] in row
        if "rows" in item:
            assert f'<td class="num">{item["rows"]}</td>' in row
    for goes_to in ("the e-mail sending system", "the SMS gateway", "the call centre", "the print house / letter shop",
                    "upload to Meta as the custom audience", "upload to Google as the custom audience",
                    "who was left out and why: the proof; keep it"):
        assert goes_to in section
    assert "<code>manifest.json</code>" in section


def test_html_says_how_many_customers_can_be_reached_on_at_least_one_channel(page, run_dir):
    summary = summary_of(run_dir)
    customers = summary["inputs"]["customers"]
    reached = summary["customers_sendable"]
    assert 0 < reached < customers
    assert (f'<p id="reach" class="reach">{reached} of {customers} customers ({reached / customers:.0%}) can be '
            "reached on at least one channel</p>") in page


def test_html_shows_the_settings_behind_the_exclusions(tmp_path):
    run = tmp_path / "multi"
    assert invoke("build", REPO / "sample_data" / "multichannel.toml", "--out", run, "--quiet").exit_code == 0
    page = tmp_path / "multi.html"
    assert invoke("report", run, "--html", page).exit_code == 0
    settings = re.search(r'<section id="settings">(.*?)</section>', page.read_text(encoding="utf-8"), re.S).group(1)
    text = re.sub(r"<[^>]+>", " ", settings)
    text = " ".join(html.unescape(text).split())
    for expected in ("minimum age 18 years under_age",
                     "cap marketing-monthly at most 2 marketing contacts in 30 days on any channel contact_pressure",
                     "cap quarterly-call at most 1 marketing contact in 90 days by phone contact_pressure",
                     "does not apply to a marketing campaign",
                     "one channel per person email → sms → post → phone",
                     "control group none (holdout_percent 0) control_group",
                     "list robinson-2026-11 robinson list on phone, post, dated 2026-11-15, at most 30 days old"):
        assert expected in text


def test_html_control_group_is_shown_with_the_holdout_percent(page):
    assert "5 % held out" in page


def test_html_draws_the_campaigns_own_choices_in_a_calmer_colour_than_what_must_not_be_contacted(page):
    from audiencecli.report import CHOICE_FILL, EXCLUDED_FILL

    assert CHOICE_FILL != EXCLUDED_FILL
    elements = Elements(page)
    fills = {}
    for svg in elements.svgs("waterfall").values():
        for bar in elements.inside(svg, "rect", "bar"):
            fills.setdefault(bar["data-label"], set()).add(bar["fill"])
    for choice in ("control_group", "duplicate_contact"):
        assert fills[choice] == {CHOICE_FILL}, choice
    for prohibition in ("customer_denied", "no_consent", "robinson_register", "missing_contact", "deceased"):
        assert fills[prohibition] == {EXCLUDED_FILL}, prohibition
    legend = re.search(r'<ul class="legend waterfall-legend">(.*?)</ul>', page).group(1)
    assert f"background:{EXCLUDED_FILL}" in legend and "must not be contacted" in legend
    assert f"background:{CHOICE_FILL}" in legend and "the campaign's own choice" in html.unescape(legend)


def test_html_and_terminal_show_the_runs_times_in_helsinki_time(run_dir, tmp_path):
    copy = shutil.copytree(run_dir, tmp_path / "run")
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["started_at"], manifest["finished_at"] = "2026-12-08T04:34:14+00:00", "2026-12-08T04:34:15+00:00"
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    target = tmp_path / "report.html"
    result = invoke("report", copy, "--html", target, env=WIDE)
    assert result.exit_code == 0, result.stderr
    page = target.read_text(encoding="utf-8")
    for text in (page, result.stdout):
        assert "2026-12-08 06:34:14 (Helsinki)" in text and "2026-12-08 06:34:15 (Helsinki)" in text
        assert "04:34" not in text
    assert "as of <strong>2026-12-01, end of day (Helsinki)</strong>" in page


def test_report_lists_the_files_and_how_many_customers_can_be_reached(run_dir):
    result = invoke("report", run_dir, env=WIDE)
    assert result.exit_code == 0, result.stderr
    summary = summary_of(run_dir)
    assert (f"{summary['customers_sendable']} of {summary['inputs']['customers']} customers") in result.stdout
    assert re.search(r"│ email\.csv +│ +24 │ the e-mail sending system", result.stdout)
    assert re.search(r"│ audience-meta\.csv +│ +\d+ │ upload to Meta as the custom audience", result.stdout)


def test_html_says_prominently_whether_the_run_is_stale(page, stale_run_dir, tmp_path):
    assert 'data-stale="false"' in page and "Not stale" in page and "STALE RUN" not in page
    target = tmp_path / "stale.html"
    assert invoke("report", stale_run_dir, "--html", target).exit_code == 0
    stale_page = target.read_text(encoding="utf-8")
    banner = next(a for t, a, _ in Elements(stale_page).tags if a.get("id") == "stale")
    assert banner["data-stale"] == "true" and "stale-yes" in banner["class"]
    assert "STALE RUN: " in stale_page
    for name in summary_of(stale_run_dir)["stale_lists"]:
        assert name in stale_page


def test_html_holds_no_personal_data(page, run_dir):
    summary = summary_of(run_dir)
    assert summary["orphan_consent_ids"]["examples"]
    for orphan in summary["orphan_consent_ids"]["examples"]:
        assert orphan not in page
    with (REPO / "sample_data" / "customers.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for column in ("customer_id", "email", "phone", "street_address"):
                if row[column]:
                    assert row[column] not in page, column


def test_html_escapes_every_text_it_shows(run_dir, tmp_path):
    copy = shutil.copytree(run_dir, tmp_path / "run")
    summary = summary_of(copy)
    summary["campaign"] = '<b id="x">Kampanja & "co"</b>'
    summary["warnings"] = ["<script>alert(1)</script>"]
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    target = tmp_path / "report.html"
    assert invoke("report", copy, "--html", target).exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert "<b id" not in text and "<script" not in text
    assert "&lt;b id=&quot;x&quot;&gt;Kampanja &amp; &quot;co&quot;&lt;/b&gt;" in text


def test_the_terminal_report_shows_text_from_the_run_literally(run_dir, tmp_path):
    copy = shutil.copytree(run_dir, tmp_path / "run")
    summary = summary_of(copy)
    summary["campaign"] = "[bold]kampanja[/bold]"
    summary["warnings"] = ["[red]a warning"]
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    result = invoke("report", copy, env=WIDE)
    assert result.exit_code == 0, result.stderr
    assert "[bold]kampanja[/bold] · marketing" in result.stdout
    assert "warning: [red]a warning" in result.stdout


def test_an_empty_run_renders_without_bars_to_draw(run_dir, tmp_path):
    copy = shutil.copytree(run_dir, tmp_path / "run")
    summary = summary_of(copy)
    for counts in summary["channels"].values():
        counts.update(candidates=0, sendable=0, excluded=0, excluded_by_reason={}, sendable_by_legal_basis={})
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    target = tmp_path / "report.html"
    result = invoke("report", copy, "--html", target)
    assert result.exit_code == 0, result.stderr
    elements = Elements(target.read_text(encoding="utf-8"))
    for svg in elements.svgs("waterfall").values():
        assert [b["data-label"] for b in elements.inside(svg, "rect", "bar")] == ["candidates", "sendable"]
    assert "no one is sendable on this channel" in target.read_text(encoding="utf-8")


def test_html_is_deterministic(run_dir, page, tmp_path):
    target = tmp_path / "again.html"
    assert invoke("report", run_dir, "--html", target).exit_code == 0
    assert target.read_text(encoding="utf-8") == page


# --- in a real browser ---------------------------------------------------------------------

# Puts the DevTools pipe on fds 3 and 4, where --remote-debugging-pipe expects it, then becomes
# Chromium. A separate single-threaded process, so no fd juggling happens after fork in pytest.
TRAMPOLINE = """
import fcntl, os, sys
read_end, write_end = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3])
os.dup2(read_end, 3)
os.dup2(write_end, 4)
os.execv(sys.argv[3], sys.argv[3:])
"""
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1200,2000", "--remote-debugging-pipe")
MEASURE = """JSON.stringify({
  charts: [...document.querySelectorAll('svg.chart')].map(e => {
    const r = e.getBoundingClientRect(); return {cls: e.getAttribute('class'), w: r.width, h: r.height}; }),
  bars: [...document.querySelectorAll('svg.waterfall rect.bar, svg.legal-basis rect.segment')].map(e => {
    const r = e.getBoundingClientRect(); return {w: r.width, h: r.height}; }),
  fonts: document.fonts.size,
})"""


class DevTools:
    """A tiny client for the Chrome DevTools protocol over --remote-debugging-pipe (NUL-separated JSON)."""

    def __init__(self, user_data_dir: Path):
        to_chrome, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", TRAMPOLINE, str(to_chrome), str(from_chrome), str(CHROMIUM),
             *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
            pass_fds=(to_chrome, from_chrome), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                assert "error" not in reply, (method, reply["error"])
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, event: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        seen = [e for e in self.events if e.get("method") == event]
        while not seen:
            message = self._receive(deadline)
            self.events.append(message)
            seen = [message] if message.get("method") == event else []
        return seen[0]

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_chrome], [], [], max(deadline - time.monotonic(), 0))
            assert ready, "Chromium did not answer in time"
            chunk = os.read(self._from_chrome, 1 << 20)
            assert chunk, "Chromium closed the DevTools pipe"
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self.call("Browser.close", timeout=10)
            self.process.wait(timeout=10)
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._to_chrome)
            os.close(self._from_chrome)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (Debian package chromium)")
def test_the_page_renders_in_headless_chromium_offline_without_errors(page_path, run_dir, tmp_path):
    with tempfile.TemporaryDirectory(prefix="audience-chromium-") as profile:
        browser = DevTools(Path(profile))
        try:
            page_target = next(t for t in browser.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
            session = browser.call("Target.attachToTarget", {"targetId": page_target["targetId"],
                                                             "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Network", "Page"):
                browser.call(f"{domain}.enable", session=session)
            browser.call("Page.navigate", {"url": page_path.as_uri()}, session=session)
            browser.wait_for("Page.loadEventFired")
            measured = json.loads(browser.call("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True},
                                               session=session)["result"]["value"])
            shot = browser.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                                session=session)
        finally:
            browser.close()
    events = browser.events
    requested = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    assert requested == [page_path.as_uri()]
    assert [e["params"] for e in events if e.get("method") == "Runtime.exceptionThrown"] == []
    assert [e["params"] for e in events if e.get("method") == "Runtime.consoleAPICalled"
            and e["params"]["type"] in ("error", "assert", "warning")] == []
    assert [e["params"]["entry"] for e in events if e.get("method") == "Log.entryAdded"
            and e["params"]["entry"]["level"] in ("error", "warning")] == []
    channels = summary_of(run_dir)["channels"]
    assert len(measured["charts"]) == 2 * len(channels)
    assert all(chart["w"] > 400 and chart["h"] > 30 for chart in measured["charts"]), measured["charts"]
    bar_count = sum(len(c["excluded_by_reason"]) + 2 + len(c["sendable_by_legal_basis"]) for c in channels.values())
    assert len(measured["bars"]) == bar_count
    assert all(bar["w"] > 0 and bar["h"] > 0 for bar in measured["bars"])
    assert measured["fonts"] == 0  # no web fonts
    picture = base64.b64decode(shot["data"])
    width, height = png_size(picture)
    assert 1100 <= width <= 1200 and height >= 2000  # the window, less a scroll bar; the whole page
    assert len(picture) > 50_000  # a page of charts, not a blank image
    (tmp_path / "report.png").write_bytes(picture)


def test_summary_table_lists_reasons_and_bases_in_the_rules_order():
    from rich.console import Console

    from audiencecli.report import summary_table

    summary = {"campaign": "c", "purpose": "marketing", "as_of": "2026-12-01", "stale": False, "channels": {
        "email": {"candidates": 3, "sendable": 1, "excluded": 2, "excluded_by_reason": {"no_consent": 1},
                  "sendable_by_legal_basis": {"existing_customer": 1}},
        "phone": {"candidates": 3, "sendable": 1, "excluded": 2, "excluded_by_reason": {"robinson_register": 2},
                  "sendable_by_legal_basis": {"consent": 1}},
    }}
    console = Console(width=120, record=True)
    console.print(summary_table(summary))
    text = console.export_text()
    assert text.index("robinson_register") < text.index("no_consent")
    assert text.index("consent ") < text.index("existing_customer")


def test_the_tables_title_shows_as_of_readably_on_one_line_of_an_80_column_terminal(run_dir):
    from rich.console import Console

    from audiencecli.report import summary_table

    summary = summary_of(run_dir)
    assert summary["as_of"] == "2026-12-01T23:59:59.999999+02:00"  # summary.json keeps the exact value
    console = Console(width=80, record=True)
    console.print(summary_table(summary))
    first_line = console.export_text().splitlines()[0].rstrip()
    assert first_line == "pension-webinar-2026-12 · marketing · as of 2026-12-01, end of day (Helsinki)"


@pytest.mark.parametrize(("as_of", "shown"), [
    ("2026-12-01T23:59:59.999999+02:00", "2026-12-01, end of day (Helsinki)"),
    ("2026-06-30T12:00:00+03:00", "2026-06-30 12:00 (Helsinki)"),
    ("2026-06-30T09:00:30+00:00", "2026-06-30 12:00:30 (Helsinki)"),
    ("2026-06-30T12:00:00.250000+03:00", "2026-06-30 12:00:00.25 (Helsinki)"),
    ("2026-12-01", "2026-12-01"),
    ("whenever", "whenever"),
])
def test_as_of_is_shown_in_helsinki_time_as_a_reader_says_it(as_of, shown):
    from audiencecli.datetimes import readable_time

    assert readable_time(as_of) == shown


def test_report_shows_the_reasons_of_who_should_be_contacted_in_rules_order(tmp_path):
    run = tmp_path / "multi"
    result = invoke("build", REPO / "sample_data" / "multichannel.toml", "--out", run, "--quiet")
    assert result.exit_code == 0, result.stderr
    result = invoke("report", run, env=WIDE)
    assert result.exit_code == 0, result.stderr
    rows = list(table_rows(result.stdout))
    new = ["under_age", "address_protected", "contact_pressure", "channel_arbitration"]
    assert all(code in rows for code in new)
    assert [r for r in rows if r in REASON_CODES] == [c for c in REASON_CODES if c in rows]
    assert re.search(r"^orphan history ids +1 *$", result.stdout, re.M)
    page = tmp_path / "multi.html"
    assert invoke("report", run, "--html", page).exit_code == 0
    elements = Elements(page.read_text(encoding="utf-8"))
    labels = {b["data-label"] for svg in elements.svgs("waterfall").values() for b in elements.inside(svg, "rect", "bar")}
    assert set(new) <= labels
