"""Render a finished run (summary.json and manifest.json): terminal tables and one HTML page.

It presents what the run recorded and decides nothing; the only arithmetic is layout (bar
lengths and positions). The page is self-contained (inline CSS and SVG, no script, no network)
and deterministic (the same run gives the same bytes). It holds counts, list names, paths and
hashes, never a customer id: orphan consent ids are shown as a count only.
"""
from __future__ import annotations

import html
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from . import __version__
from .config import CHANNELS
from .datetimes import readable_time
from .errors import Problem, UsageError
from .files import write_private_file
from .rules import LEGAL_BASES, LIST_KIND_CODES, REASON_CODES, RULES

SUMMARY_KEYS = ("campaign", "purpose", "as_of", "channels")
COUNT_KEYS = ("candidates", "sendable", "excluded")
BREAKDOWN_KEYS = ("excluded_by_reason", "sendable_by_legal_basis")
RULE_OF = {rule.code: rule for rule in RULES}

# Waterfall colours: where everyone starts; who must not be contacted (red); whom the campaign's
# own settings leave out (a calm blue: a choice, not a "no"); who is left.
CANDIDATES_FILL, EXCLUDED_FILL, CHOICE_FILL, SENDABLE_FILL = "#334155", "#d64545", "#7f9cc7", "#15803d"
BAR_FILL = {"candidates": CANDIDATES_FILL, "excluded": EXCLUDED_FILL, "choice": CHOICE_FILL, "sendable": SENDABLE_FILL}
# The exclusions that are the campaign's own choices: whom it targets, its control group, one
# channel per person, one message per contact point. Every other reason is the customer's no, a
# prohibition, the law, or contact data that cannot be used.
CAMPAIGN_CHOICES = frozenset({"segment_not_targeted", "control_group", "channel_arbitration", "duplicate_contact"})
BASIS_FILL = {
    "legal_obligation": "#9d174d",
    "contract": "#475569",
    "consent": "#2563eb",
    "existing_customer": "#0f766e",
    "b2b_legitimate_interest": "#b45309",
    "legitimate_interest": "#7c3aed",
}
OTHER_FILL = "#6b7280"

# SVG geometry, in viewBox units (CSS pixels at full width).
CHART_W, LABEL_W, VALUE_W = 880, 230, 110
BAR_W = CHART_W - LABEL_W - VALUE_W
ROW_H, BAR_H, PAD = 30, 20, 8
CHAR_W = 7.5  # an upper estimate of one character at 13px, to decide whether a label fits a bar


@dataclass(frozen=True)
class Run:
    """A finished run, as its summary.json and manifest.json recorded it."""

    dir: Path
    summary: dict
    manifest: dict


def read_run(run_dir: Path) -> Run:
    """Read a run directory; anything that is not one is a usage error (exit 2) in one line."""
    if not run_dir.exists():
        raise UsageError([Problem(str(run_dir), "no such run directory")])
    if not run_dir.is_dir():
        raise UsageError([Problem(str(run_dir), "not a directory; expected a run directory written by "
                                                "audience build")])
    summary = _read_json(run_dir, "summary.json")
    manifest = _read_json(run_dir, "manifest.json")
    problem = _summary_problem(summary) or _manifest_problem(manifest)
    if problem:
        raise UsageError([Problem(str(run_dir / problem[0]), f"not what audience build writes ({problem[1]})")])
    return Run(run_dir, summary, manifest)


def _read_json(run_dir: Path, name: str):
    path = run_dir / name
    if not path.is_file():
        raise UsageError([Problem(str(run_dir), f"not a run directory ({name} is missing)")])
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UsageError([Problem(str(path), f"not valid JSON: {error.msg}", line=error.lineno)]) from None
    except UnicodeDecodeError:
        raise UsageError([Problem(str(path), "not valid JSON: not UTF-8")]) from None
    except OSError as error:
        raise UsageError([Problem(str(path), f"cannot be read ({error.strerror})")]) from None


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _summary_problem(summary) -> tuple[str, str] | None:
    """The first way summary.json differs from the shape the report relies on, if any."""
    where = "summary.json"
    if not isinstance(summary, dict):
        return where, "not a JSON object"
    missing = [key for key in SUMMARY_KEYS if key not in summary]
    if missing:
        return where, f"no {missing[0]!r}"
    if not isinstance(summary["channels"], dict):
        return where, "'channels' is not an object"
    for channel, counts in summary["channels"].items():
        if not isinstance(counts, dict) or not all(_is_count(counts.get(key)) for key in COUNT_KEYS):
            return where, f"channel {channel!r} has no counts"
        for key in BREAKDOWN_KEYS:
            breakdown = counts.get(key)
            if not isinstance(breakdown, dict) or not all(_is_count(v) for v in breakdown.values()):
                return where, f"channel {channel!r} has no {key}"
    return None


def _manifest_problem(manifest) -> tuple[str, str] | None:
    where = "manifest.json"
    if not isinstance(manifest, dict):
        return where, "not a JSON object"
    inputs = manifest.get("inputs", [])
    if not isinstance(inputs, list) or not all(isinstance(item, dict) for item in inputs):
        return where, "'inputs' is not a list of objects"
    return None


# --- where each file of a run goes ---------------------------------------------------------

# In a marketer's words, by the file's name without its extension (CSV or Parquet alike).
DESTINATIONS = {
    "email": "the e-mail sending system",
    "sms": "the SMS gateway",
    "phone": "the call centre",
    "post": "the print house / letter shop",
    "exclusions": "who was left out and why: the proof; keep it",
    "summary": "the counts (audience report shows them)",
    "manifest": "what was read and written, with hashes: the audit trail; keep it",
}
SOCIAL_DESTINATION = "hashed e-mails and phones for custom audiences"
PLATFORM_NAMES = {"meta": "Meta", "google": "Google", "linkedin": "LinkedIn", "tiktok": "TikTok",
                  "snapchat": "Snapchat"}


@dataclass(frozen=True)
class RunFileFacts:
    """A file of a run directory: its name, its rows (None for JSON) and where it goes."""

    file: str
    rows: int | None
    goes_to: str
    sha256: str = ""


def run_files(run: Run) -> list[RunFileFacts]:
    """Every file the run wrote (the manifest's outputs, then the manifest), with where it goes."""
    outputs = [item for item in run.manifest.get("outputs") or [] if isinstance(item, dict)]
    names = [_text(item.get("file")) for item in outputs]
    with_platforms = any(name.startswith("audience-") for name in names)
    facts = [RunFileFacts(name, item.get("rows") if _is_count(item.get("rows")) else None,
                          _destination(name, with_platforms), _text(item.get("sha256")))
             for name, item in zip(names, outputs)]
    return facts + [RunFileFacts("manifest.json", None, DESTINATIONS["manifest"])]


def _destination(name: str, with_platforms: bool) -> str:
    stem = name.split(".", 1)[0]
    if stem == "social":
        return SOCIAL_DESTINATION + ("; upload the audience-<platform> files below" if with_platforms
                                     else " (for each platform's own upload file, set [output].audiences)")
    if stem.startswith("audience-"):
        platform = stem.removeprefix("audience-")
        if platform.endswith("-remove"):
            platform = platform.removesuffix("-remove")
            return f"remove these members from the custom audience on {PLATFORM_NAMES.get(platform, platform)}"
        return f"upload to {PLATFORM_NAMES.get(platform, platform)} as the custom audience"
    return DESTINATIONS.get(stem, "")


def run_file_lines(run: Run) -> list[str]:
    """One line per file: its name, its rows and where it goes (aligned, for a terminal or a log)."""
    files = run_files(run)
    name_width = max(len(f.file) for f in files)
    counts = [_rows(f.rows) if f.rows is not None else "" for f in files]
    rows_width = max(len(count) for count in counts)
    return [f"  {f.file:<{name_width}}  {count:>{rows_width}}  → {f.goes_to}" for f, count in zip(files, counts)]


def _rows(count: int) -> str:
    return f"{_count_text(count)} row" + ("" if count == 1 else "s")


# --- terminal ------------------------------------------------------------------------------

def summary_table(summary: dict) -> Group:
    """A title line and one table: a column per channel; candidates, sendable, each exclusion
    reason, each basis. The title stands above the table rather than in it, so that it may be as
    wide as the terminal, not only as wide as the table."""
    channels = summary["channels"]
    title = Text(f"{summary['campaign']} · {summary['purpose']} · as of {readable_time(_text(summary['as_of']))}",
                 style="italic")
    if summary.get("stale"):
        title.append(" · STALE", style="bold red")
    table = Table()
    table.add_column("")
    for channel in channels:
        table.add_column(escape(channel), justify="right")
    reasons = _in_order({r for c in channels.values() for r in c["excluded_by_reason"]}, REASON_CODES)
    bases = _in_order({b for c in channels.values() for b in c["sendable_by_legal_basis"]}, LEGAL_BASES)
    table.add_row("candidates", *[str(c["candidates"]) for c in channels.values()])
    table.add_row("[bold]sendable[/bold]", *[f"[bold]{c['sendable']}[/bold]" for c in channels.values()])
    for basis in bases:
        table.add_row(f"  {escape(basis)}", *[str(c["sendable_by_legal_basis"].get(basis, "")) for c in channels.values()])
    table.add_row("excluded", *[str(c["excluded"]) for c in channels.values()])
    for reason in reasons:
        table.add_row(f"  {escape(reason)}", *[str(c["excluded_by_reason"].get(reason, "")) for c in channels.values()])
    parts = [title, table]
    if (reach := _reach_text(summary, _count_text)) is not None:
        parts.append(Text(reach))
    return Group(*parts)


def _reach_text(summary: dict, number: Callable[[int], str]) -> str | None:
    """How many customers can be reached on at least one channel (None for a run that did not count it)."""
    reached = summary.get("customers_sendable")
    customers = max((c["candidates"] for c in summary["channels"].values()), default=0)
    if not _is_count(reached):
        return None
    return (f"{number(reached)} of {number(customers)} customers ({_percent(reached, customers)}) can be reached "
            "on at least one channel")


def _count_text(count: int) -> str:
    return f"{count:,}"


def report_tables(run: Run) -> Group:
    """The terminal report: the run's facts, the counts per channel, its inputs, its files and its warnings."""
    parts = [_facts_table(run), Text(""), summary_table(run.summary), Text(""), _inputs_table(run.manifest),
             Text(""), _files_table(run)]
    parts += [Text(f"warning: {warning}", style="yellow") for warning in _warnings(run.summary)]
    return Group(*parts)


def _facts_table(run: Run) -> Table:
    table = Table(title="Run", title_justify="left", show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in _facts(run):
        if label == "stale" and run.summary.get("stale"):
            table.add_row(label, Text.assemble((" STALE ", "bold white on red"), " ", _stale_text(run)))
        else:
            table.add_row(label, Text(value))
    return table


def _inputs_table(manifest: dict) -> Table:
    table = Table(title="Inputs (manifest.json)", title_justify="left")
    table.add_column("input", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    table.add_column("list date", no_wrap=True)
    table.add_column("sha256", no_wrap=True)
    table.add_column("path", overflow="fold")
    for item in manifest.get("inputs", []):
        table.add_row(*(Text(cell) for cell in (
            _text(item.get("role")), _text(item.get("rows")), _text(item.get("list_date")),
            _text(item.get("sha256"))[:12], _text(item.get("path") or item.get("query")))))
    return table


def _files_table(run: Run) -> Table:
    table = Table(title="Files (manifest.json)", title_justify="left")
    table.add_column("file", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    table.add_column("where it goes", overflow="fold")
    for f in run_files(run):
        table.add_row(Text(f.file), Text(_text(f.rows)), Text(f.goes_to))
    return table


# --- facts shared by the terminal and the page ---------------------------------------------

def _text(value) -> str:
    return "" if value is None else str(value)


def _warnings(summary: dict) -> list[str]:
    return [_text(w) for w in summary.get("warnings") or []]


def _list_dates(manifest: dict) -> dict[str, str]:
    """List name → list_date, from the manifest's inputs (roles `list:<name>`)."""
    return {_text(item.get("role")).removeprefix("list:"): _text(item.get("list_date"))
            for item in manifest.get("inputs", []) if _text(item.get("role")).startswith("list:")}


def _stale_text(run: Run) -> str:
    """What the stale flag means for this run, naming each stale list and its date."""
    if not run.summary.get("stale"):
        return "every suppression list that applies was within its max_age_days"
    dates = _list_dates(run.manifest)
    lists = [f"{name} (list_date {dates.get(name) or 'unknown'})" for name in run.summary.get("stale_lists") or []]
    return ("suppression lists older than their max_age_days were applied as they are (--allow-stale): "
            + (", ".join(lists) or "not named in summary.json"))


def _facts(run: Run) -> list[tuple[str, str]]:
    summary, manifest = run.summary, run.manifest
    orphans = summary.get("orphan_consent_ids") or {}
    history_orphans = summary.get("orphan_history_ids") or {}
    return [
        ("campaign", _text(summary["campaign"])),
        ("purpose", _text(summary["purpose"])),
        ("as of", _with_exact(_text(summary["as_of"]))),
        ("stale", ("yes: " if summary.get("stale") else "no: ") + _stale_text(run)),
        ("lists not applying", ", ".join(map(_text, summary.get("skipped_lists") or [])) or "none"),
        ("orphan consent ids", _text(orphans.get("count", 0) if isinstance(orphans, dict) else "")),
        ("orphan history ids", _text(history_orphans.get("count", 0) if isinstance(history_orphans, dict) else "")),
        ("warnings", str(len(_warnings(summary)))),
        ("run directory", str(run.dir)),
        ("command", shlex.join(map(_text, manifest.get("command") or []))),
        ("tool", f"{_text(manifest.get('tool', 'audiencecli'))} {_text(manifest.get('version'))}".strip()),
        ("started", readable_time(_text(manifest.get("started_at")))),
        ("finished", readable_time(_text(manifest.get("finished_at")))),
    ]


def _with_exact(time: str) -> str:
    """The readable time, and the exact value as the run's files hold it when they differ."""
    readable = readable_time(time)
    return readable if readable == time else f"{readable} · {time}"


# --- HTML ----------------------------------------------------------------------------------

def _e(value) -> str:
    return html.escape(_text(value), quote=True)


def _n(count: int) -> str:
    """A count with SI digit groups (narrow no-break spaces): readable at a million, in any locale."""
    return f"{count:,}".replace(",", "\u202f")


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def write_html(run: Run, path: Path) -> Path:
    """Write the page atomically and owner-only: a temporary file beside `path`, renamed into place.
    A write that fails raises OutputError (exit 5) naming `path` and the cause."""
    return write_private_file(path, html_page(run).encode("utf-8"))


def html_page(run: Run) -> str:
    """One self-contained page: stale banner, overview, a waterfall and a legal-basis bar per channel, facts."""
    summary = run.summary
    channels = summary["channels"]
    stale = bool(summary.get("stale"))
    banner = ("STALE RUN: " if stale else "Not stale: ") + _stale_text(run)
    sections = "\n".join(_channel_section(name, counts) for name, counts in channels.items())
    reach = _reach_text(summary, _n)
    reach = f'<p id="reach" class="reach">{_e(reach)}</p>\n' if reach else ""
    overview = "\n".join(
        f'<tr><th scope="row"><a href="#channel-{_e(name)}">{_e(name)}</a></th>'
        f'<td>{_n(c["candidates"])}</td><td>{_n(c["excluded"])}</td>'
        f'<td class="sendable">{_n(c["sendable"])}</td><td>{_percent(c["sendable"], c["candidates"])}</td></tr>'
        for name, c in channels.items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Audience report: {_e(summary["campaign"])}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Audience report: {_e(summary["campaign"])}</h1>
<p class="lead">purpose <strong>{_e(summary["purpose"])}</strong> · as of <strong>{_e(readable_time(_text(summary["as_of"])))}</strong></p>
<p id="stale" class="stale {"stale-yes" if stale else "stale-no"}" data-stale="{"true" if stale else "false"}">{_e(banner)}</p>
</header>
<main>
<section id="overview">
<h2>Channels</h2>
{reach}<table class="numbers">
<thead><tr><th scope="col">channel</th><th scope="col">candidates</th><th scope="col">excluded</th>
<th scope="col">sendable</th><th scope="col">share sendable</th></tr></thead>
<tbody>
{overview}
</tbody>
</table>
</section>
{_files_section(run)}
{_settings_section(run)}
{sections}
{_facts_section(run)}
</main>
<footer>Written by audience report (audiencecli {_e(__version__)}) from the run's summary.json and manifest.json.
Counts, list names, paths and hashes only: no customer data.</footer>
</body>
</html>
"""


def _channel_section(name: str, counts: dict) -> str:
    return f"""<section class="channel" id="channel-{_e(name)}" data-channel="{_e(name)}">
<h2>{_e(name)}</h2>
<p class="kpis"><span>{_n(counts["candidates"])} candidates</span> · <span>{_n(counts["excluded"])} excluded</span> ·
<strong>{_n(counts["sendable"])} sendable</strong> ({_percent(counts["sendable"], counts["candidates"])})</p>
<figure>
<figcaption>From candidates to sendable: each exclusion reason in rule order (the first rule a customer fails)</figcaption>
{_waterfall_svg(name, counts)}
{WATERFALL_LEGEND}
</figure>
<figure>
<figcaption>Legal basis of the {_n(counts["sendable"])} sendable</figcaption>
{_basis_svg(name, counts)}
{_basis_legend(counts)}
</figure>
</section>"""


def _waterfall_svg(channel: str, counts: dict) -> str:
    """Horizontal waterfall: candidates, one floating bar per reason (rules order), sendable."""
    candidates, sendable = counts["candidates"], counts["sendable"]
    scale = BAR_W / max(candidates, sendable, 1)
    rows = [("candidates", "", candidates, 0, candidates, "candidates", f"{_n(candidates)} candidates: "
             "every customer of the customers file")]
    remaining = candidates
    for reason, count in counts["excluded_by_reason"].items():
        rule = RULE_OF.get(reason)
        start = max(remaining - count, 0)
        style = "choice" if reason in CAMPAIGN_CHOICES else "excluded"
        rows.append((reason, rule.number if rule else "", count, start, remaining, style,
                     f"{_n(count)} excluded by {reason}" + (f": {rule.text}" if rule else "")))
        remaining = start
    rows.append(("sendable", "", sendable, 0, sendable, "sendable",
                 f"{_n(sendable)} sendable ({_percent(sendable, candidates)} of the candidates)"))
    height = 2 * PAD + ROW_H * len(rows)
    parts = [f'<svg class="chart waterfall" data-channel="{_e(channel)}" viewBox="0 0 {CHART_W} {height}" '
             f'width="{CHART_W}" height="{height}" role="img" '
             f'aria-label="{_e(f"Waterfall for {channel}: {candidates} candidates, {sendable} sendable")}">',
             f'<line class="axis" x1="{LABEL_W}" y1="{PAD / 2}" x2="{LABEL_W}" y2="{height - PAD / 2}"/>']
    for index, (label, number, value, start, end, style, tip) in enumerate(rows):
        top = PAD + index * ROW_H + (ROW_H - BAR_H) / 2
        x = LABEL_W + start * scale
        width = (end - start) * scale
        if value and width < 2:
            x, width = x + width - 2, 2.0  # a one-customer reason among millions stays visible
        kind = "candidates" if index == 0 else "sendable" if index == len(rows) - 1 else "excluded"
        baseline = top + BAR_H / 2 + 4.5
        number_span = f'<tspan class="rule">{_e(number)}</tspan> ' if number else ""
        shown = f"−{_n(value)}" if kind == "excluded" else _n(value)
        parts.append(
            f'<text class="label label-{kind}" x="{LABEL_W - 10}" y="{baseline:.1f}" text-anchor="end">'
            f'{number_span}{_e(label)}</text>'
            f'<rect class="bar bar-{style}" data-label="{_e(label)}" data-value="{value}" x="{x:.2f}" '
            f'y="{top:.1f}" width="{width:.2f}" height="{BAR_H}" rx="2" fill="{BAR_FILL[style]}"><title>{_e(tip)}</title></rect>'
            f'<text class="value value-{style}" x="{LABEL_W + end * scale + 6:.2f}" y="{baseline:.1f}">{shown}</text>')
        if index < len(rows) - 1:
            level = start if kind == "excluded" else end
            parts.append(f'<line class="connector" x1="{LABEL_W + level * scale:.2f}" y1="{top + BAR_H:.1f}" '
                         f'x2="{LABEL_W + level * scale:.2f}" y2="{top + ROW_H:.1f}"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def _basis_svg(channel: str, counts: dict) -> str:
    """One bar, the full width standing for everyone sendable, split by legal basis."""
    sendable = counts["sendable"]
    bases = counts["sendable_by_legal_basis"]
    height = 2 * PAD + BAR_H + 8
    top = PAD
    parts = [f'<svg class="chart legal-basis" data-channel="{_e(channel)}" viewBox="0 0 {CHART_W} {height}" '
             f'width="{CHART_W}" height="{height}" role="img" '
             f'aria-label="{_e(f"Legal basis split for {channel}")}">',
             f'<text class="label" x="{LABEL_W - 10}" y="{top + (BAR_H + 8) / 2 + 4.5:.1f}" '
             f'text-anchor="end">legal basis</text>']
    if not sendable or not bases:
        parts.append(f'<rect class="empty" x="{LABEL_W}" y="{top}" width="{BAR_W}" height="{BAR_H + 8}" rx="2"/>'
                     f'<text class="empty-text" x="{LABEL_W + BAR_W / 2}" y="{top + (BAR_H + 8) / 2 + 4.5:.1f}" '
                     f'text-anchor="middle">no one is sendable on this channel</text>')
    x = float(LABEL_W)
    for basis, count in bases.items() if sendable else ():
        width = count / sendable * BAR_W
        tip = f"{basis}: {_n(count)} ({_percent(count, sendable)} of the sendable)"
        parts.append(f'<rect class="segment" data-basis="{_e(basis)}" data-value="{count}" x="{x:.2f}" y="{top}" '
                     f'width="{width:.2f}" height="{BAR_H + 8}" fill="{BASIS_FILL.get(basis, OTHER_FILL)}">'
                     f'<title>{_e(tip)}</title></rect>')
        inside = f"{basis} {_n(count)}"
        if width >= len(inside) * CHAR_W + 12:
            parts.append(f'<text class="segment-label" x="{x + 8:.2f}" y="{top + (BAR_H + 8) / 2 + 4.5:.1f}">'
                         f'{_e(inside)}</text>')
        x += width
    parts.append("</svg>")
    return "\n".join(parts)


def _basis_legend(counts: dict) -> str:
    sendable = counts["sendable"]
    items = "".join(
        f'<li><span class="swatch" style="background:{BASIS_FILL.get(basis, OTHER_FILL)}"></span>'
        f'{_e(basis)} <strong>{_n(count)}</strong> ({_percent(count, sendable)})</li>'
        for basis, count in counts["sendable_by_legal_basis"].items())
    return f'<ul class="legend">{items}</ul>' if items else ""


WATERFALL_LEGEND = (
    '<ul class="legend waterfall-legend">'
    f'<li><span class="swatch" style="background:{EXCLUDED_FILL}"></span>must not be contacted (a no, a '
    "prohibition, the law, unusable contact data, too many contacts)</li>"
    f'<li><span class="swatch" style="background:{CHOICE_FILL}"></span>left out by the campaign\'s own '
    "choice (segments, control group, one channel per person, duplicates)</li></ul>")


def _settings_section(run: Run) -> str:
    """The settings of the run's config behind the exclusions, each beside the reason code it drives."""
    rows = _settings(run.manifest.get("config"))
    if not rows:
        return ""
    body = "\n".join(
        f'<tr><th scope="row">{_e(label)}</th><td>{_e(value)}</td><td class="nowrap">{_reason_chip(code)}</td></tr>'
        for label, value, code in rows)
    return f"""<section id="settings">
<h2>Settings behind the exclusions</h2>
<p class="note">From the campaign config as the build used it (manifest.json).</p>
<table class="settings">
<thead><tr><th scope="col">setting</th><th scope="col">value</th><th scope="col">reason code</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
</section>"""


def _reason_chip(code: str) -> str:
    """A reason code with the colour its bars have."""
    if not code:
        return ""
    fill = CHOICE_FILL if code in CAMPAIGN_CHOICES else EXCLUDED_FILL
    return f'<span class="swatch" style="background:{fill}"></span><code>{_e(code)}</code>'


def _settings(config) -> list[tuple[str, str, str]]:
    """(setting, its value in words, the reason code it drives) of a resolved config."""
    if not isinstance(config, dict) or not isinstance(config.get("campaign"), dict):
        return []
    campaign = config["campaign"]

    def words(values) -> str:
        return ", ".join(map(_text, values or [])) or "none"

    rows = [("segments", words(campaign.get("segments")), "segment_not_targeted"),
            ("minimum age", "off" if campaign.get("minimum_age") == 0 else f"{_text(campaign.get('minimum_age'))} years",
             "under_age")]
    if campaign.get("product_group"):
        letters = campaign.get("purpose") in ("contract", "legal")
        rows.append(("product group", f"{_text(campaign['product_group'])}: " + (
            "only its active holders are written to" if letters else "its active holders count as existing customers"),
            "no_active_contract" if letters else "no_consent"))
    if campaign.get("business_roles"):
        rows.append(("business roles", f"{words(campaign['business_roles'])}: work-related offers to these roles",
                     "no_consent"))
    lists = [item for item in config.get("suppressions") or [] if isinstance(item, dict)]
    rows += [(f"list {_text(item.get('name'))}", _list_words(item), LIST_KIND_CODES.get(item.get("kind"), ""))
             for item in lists] or [("suppression lists", "none", "")]
    caps = [cap for cap in config.get("pressure") or [] if isinstance(cap, dict)]
    rows += [(f"cap {_text(cap.get('name'))}", _cap_words(cap, campaign.get("purpose")), "contact_pressure")
             for cap in caps] \
        or [("contact-pressure caps", "none", "contact_pressure")]
    holdout = campaign.get("holdout_percent") or 0
    rows.append(("control group", "none (holdout_percent 0)" if not holdout else f"{holdout:g} % held out"
                 if isinstance(holdout, (int, float)) else _text(holdout), "control_group"))
    arbitration = config.get("arbitration")
    order = arbitration.get("order") if isinstance(arbitration, dict) else None
    rows.append(("one channel per person", " → ".join(map(_text, order)) + " (the first one sendable)" if order
                 else "no: every sendable channel", "channel_arbitration"))
    rows.append(("duplicates", "one message per e-mail, phone and postal address" if campaign.get("dedupe")
                 else "kept (dedupe off)", "duplicate_contact"))
    return rows


def _list_words(item: dict) -> str:
    text = f"{_text(item.get('kind'))} list on {', '.join(map(_text, item.get('channels') or []))}"
    if item.get("list_date"):
        text += f", dated {_text(item['list_date'])}"
    if item.get("max_age_days") is not None:
        text += f", at most {_text(item['max_age_days'])} days old"
    if item.get("applies") is False:
        text += "; does not apply to this campaign"
    return text


def _cap_words(cap: dict, purpose) -> str:
    channels, purposes = cap.get("channels") or [], cap.get("purposes") or []
    most = cap.get("max_contacts")
    text = (f"at most {_text(most)} {' or '.join(map(_text, purposes))} contact{'' if most == 1 else 's'} "
            f"in {_text(cap.get('window_days'))} days")
    text += " on any channel" if len(channels) == len(CHANNELS) else f" by {', '.join(map(_text, channels))}"
    if cap.get("same_campaign"):
        text += ", of this campaign"
    if purpose not in purposes:
        text += f"; does not apply to a {_text(purpose)} campaign"
    return text


def _files_section(run: Run) -> str:
    rows = "\n".join(
        f'<tr><td class="nowrap"><code>{_e(f.file)}</code></td><td class="num">{_e(_n(f.rows) if f.rows is not None else "")}</td>'
        f'<td>{_e(f.goes_to)}</td><td class="hash"><code>{_e(f.sha256)}</code></td></tr>'
        for f in run_files(run))
    return f"""<section id="files">
<h2>Files of the run</h2>
<p class="note">In the run directory <code>{_e(run.dir)}</code>: where each file goes.</p>
<table class="files">
<thead><tr><th scope="col">file</th><th scope="col" class="num">rows</th><th scope="col">where it goes</th>
<th scope="col">sha256</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</section>"""


def _facts_section(run: Run) -> str:
    facts = "\n".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in _facts(run))
    inputs = "\n".join(
        f'<tr><td class="nowrap">{_e(item.get("role"))}</td><td class="num">{_e(item.get("rows"))}</td>'
        f'<td class="nowrap">{_e(item.get("list_date"))}</td><td class="hash"><code>{_e(item.get("sha256"))}</code></td>'
        f'<td class="path">{_e(item.get("path") or item.get("query"))}</td></tr>'
        for item in run.manifest.get("inputs", []))
    warnings = "".join(f"<li>{_e(w)}</li>" for w in _warnings(run.summary)) or "<li>none</li>"
    return f"""<section id="run">
<h2>Run</h2>
<dl class="facts">
{facts}
</dl>
<h3>Inputs</h3>
<table class="inputs">
<thead><tr><th scope="col">input</th><th scope="col" class="num">rows</th><th scope="col">list date</th>
<th scope="col">sha256</th><th scope="col">path</th></tr></thead>
<tbody>
{inputs}
</tbody>
</table>
<h3>Warnings</h3>
<ul class="warnings">{warnings}</ul>
</section>"""


CSS = """
:root { color-scheme: light; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; color: var(--ink); background: #f8fafc;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; }
header, main, footer { max-width: 1000px; margin: 0 auto; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0 0 8px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.lead { margin: 0 0 14px; color: var(--muted); }
.lead strong { color: var(--ink); }
.stale { margin: 0 0 20px; padding: 12px 16px; border-radius: 6px; font-weight: 600; }
.stale-yes { background: #b91c1c; color: #fff; font-size: 18px; border: 3px solid #7f1d1d; }
.stale-no { background: #ecfdf5; color: #065f46; border: 1px solid #6ee7b7; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 0 0 18px; }
figure { margin: 12px 0 0; }
figcaption { font-size: 13px; color: var(--muted); margin: 0 0 4px; }
svg.chart { display: block; width: 100%; max-width: 880px; height: auto; }
svg text { font: 13px system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; fill: var(--ink); }
svg .rule { fill: var(--muted); font-size: 11px; }
svg .value-excluded { fill: #b42318; }
svg .value-choice { fill: #3b5b8c; }
svg .value-sendable, svg .label-sendable, svg .label-candidates { font-weight: 700; }
svg .value-sendable { fill: #15803d; }
svg .axis { stroke: #9ca3af; stroke-width: 1; }
svg .connector { stroke: #9ca3af; stroke-width: 1; stroke-dasharray: 3 2; }
svg .segment { stroke: #fff; stroke-width: 1; }
svg .segment-label { fill: #fff; font-weight: 600; }
svg .empty { fill: #f3f4f6; stroke: #d1d5db; stroke-dasharray: 4 3; }
svg .empty-text { fill: var(--muted); }
.kpis { margin: 0; }
.reach { margin: 0 0 10px; font-size: 17px; }
.note { margin: 0 0 8px; color: var(--muted); font-size: 13px; }
table.settings th[scope="row"] { font-weight: 600; white-space: nowrap; }
.waterfall-legend { font-size: 13px; color: var(--muted); }
.legend { list-style: none; padding: 0; margin: 6px 0 0; display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 14px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.numbers td, table.numbers th + th, .num { text-align: right; font-variant-numeric: tabular-nums; }
.nowrap { white-space: nowrap; }
td.hash code { display: inline-block; width: 32ch; word-break: break-all; }
table.numbers td.sendable { font-weight: 700; color: #15803d; }
a { color: #1d4ed8; }
td.path, code { overflow-wrap: anywhere; }
code { font: 12px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: 12px; padding: 8px 0 24px; }
@media print { body { background: #fff; padding: 0; } section { break-inside: avoid; border: none; } }
"""


def _in_order(found: set[str], order: tuple[str, ...]) -> list[str]:
    """The codes present, in the rules table's order (unknown ones last, sorted)."""
    return [c for c in order if c in found] + sorted(found - set(order))
