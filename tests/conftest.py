"""Shared helpers: tiny inline campaigns written to a temporary folder and built through the CLI."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiencecli.cli import app

REPO = Path(__file__).resolve().parents[1]
CHECK_RUN = REPO.parent / "shared" / "tools" / "check-run"

CUSTOMER_HEADER = [
    "customer_id", "customer_type", "first_name", "last_name", "company_name", "email", "phone",
    "street_address", "postal_code", "city", "country", "language", "birth_date", "deceased_date",
    "paperless", "business_role", "address_protected",
]
HISTORY_HEADER = ["customer_id", "channel", "purpose", "sent_at", "campaign"]


def customer(customer_id: str, **fields) -> dict:
    """A private customer reachable on every channel unless fields say otherwise."""
    number = int("".join(ch for ch in customer_id if ch.isdigit()) or "1")
    row = {
        "customer_id": customer_id,
        "customer_type": "private",
        "first_name": "Aino",
        "last_name": f"Virtanen{number}",
        "email": f"aino{number}@example.fi",
        "phone": f"040 {number:07d}",
        "street_address": f"Mannerheimintie {number}",
        "postal_code": "00100",
        "city": "Helsinki",
    }
    row.update({k: v for k, v in fields.items()})
    return {k: ("" if v is None else str(v)) for k, v in row.items()}


def write_csv(path: Path, rows: list[dict], header: list[str] | None = None, delimiter: str = ",") -> Path:
    header = header or (list(rows[0].keys()) if rows else [])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, delimiter=delimiter, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))


@dataclass
class Campaign:
    """A campaign in a temporary folder. Set rows and options, then `build()`."""

    root: Path
    customers: list[dict] = field(default_factory=list)
    consents: list[dict] = field(default_factory=list)
    holdings: list[dict] | None = None
    lists: list[dict] = field(default_factory=list)  # each: {"name", "kind", "rows", ...config keys}
    campaign: dict = field(default_factory=dict)
    output: dict = field(default_factory=dict)
    history: list[dict] | None = None  # contact_history rows (see `sent`)
    pressure: list[dict] = field(default_factory=list)  # each: the keys of one [[pressure]] cap
    arbitration: list[str] | None = None  # [arbitration].order

    def write(self) -> Path:
        write_csv(self.root / "customers.csv", self.customers, CUSTOMER_HEADER)
        write_csv(self.root / "consents.csv", self.consents,
                  ["customer_id", "channel", "purpose", "status", "recorded_at", "source"])
        settings = {
            "name": "test-campaign", "purpose": "marketing",
            "channels": ["email", "sms", "phone", "post", "social"], "as_of": "2026-12-01",
        }
        settings.update(self.campaign)
        lines = ["[campaign]"] + [f"{k} = {toml_value(v)}" for k, v in settings.items() if v is not None]
        lines += ["", "[inputs]", 'customers = "customers.csv"', 'consents = "consents.csv"']
        if self.holdings is not None:
            write_csv(self.root / "holdings.csv", self.holdings,
                      ["customer_id", "product_group", "start_date", "end_date"])
            lines.append('holdings = "holdings.csv"')
        if self.history is not None:
            write_csv(self.root / "history.csv", self.history, HISTORY_HEADER)
            lines.append('contact_history = "history.csv"')
        for cap in self.pressure:
            lines += ["", "[[pressure]]"] + [f"{k} = {toml_value(v)}" for k, v in cap.items()]
        if self.arbitration is not None:
            lines += ["", "[arbitration]", f"order = {toml_value(self.arbitration)}"]
        for spec in self.lists:
            spec = dict(spec)
            rows = spec.pop("rows", [])
            file_name = spec.pop("file", f"{spec['name']}.csv")
            if rows is not None:
                header = spec.pop("header", None) or sorted({k for r in rows for k in r}) or ["customer_id"]
                write_csv(self.root / file_name, rows, header)
            spec.setdefault("path", file_name)
            if spec.get("kind") in ("robinson", "telemarketing"):
                spec.setdefault("list_date", "2026-11-20")
            lines += ["", "[[suppressions]]"] + [f"{k} = {toml_value(v)}" for k, v in spec.items()]
        if self.output:
            lines += ["", "[output]"] + [f"{k} = {toml_value(v)}" for k, v in self.output.items()]
        config = self.root / "campaign.toml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return config

    def build(self, *args: str) -> "Run":
        config = self.write()
        out = self.root / "run"
        result = CliRunner().invoke(app, ["build", str(config), "--out", str(out), "--quiet", *args])
        return Run(result.exit_code, result.stdout, result.stderr, out)


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    dir: Path

    def rows(self, name: str) -> list[dict]:
        with (self.dir / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def sendable(self, channel: str) -> dict[str, str]:
        """customer_id → legal_basis on one channel."""
        return {r["customer_id"]: r["legal_basis"] for r in self.rows(channel)}

    def excluded(self, channel: str) -> dict[str, dict]:
        """customer_id → exclusion row on one channel."""
        return {r["customer_id"]: r for r in self.rows("exclusions") if r["channel"] == channel}

    def reason(self, customer_id: str, channel: str) -> str | None:
        row = self.excluded(channel).get(customer_id)
        return row["reason_code"] if row else None

    def summary(self) -> dict:
        return json.loads((self.dir / "summary.json").read_text(encoding="utf-8"))


def consent(customer_id: str, channel: str = "all", purpose: str = "all", status: str = "granted",
            at: str = "2026-01-01T10:00:00", source: str = "web") -> dict:
    """One consent event row."""
    return {"customer_id": customer_id, "channel": channel, "purpose": purpose, "status": status,
            "recorded_at": at, "source": source}


def sent(customer_id: str, at: str, channel: str = "email", purpose: str = "marketing",
         campaign: str = "earlier-campaign") -> dict:
    """One contact_history row."""
    return {"customer_id": customer_id, "channel": channel, "purpose": purpose, "sent_at": at, "campaign": campaign}


def build(campaign: Campaign, *args: str) -> Run:
    """Build and insist it succeeded."""
    run = campaign.build(*args)
    assert run.exit_code == 0, run.stderr
    return run


def outcome(run: Run, customer_id: str, channel: str) -> str:
    """The legal_basis when sendable, the reason_code when excluded (the two sets never overlap)."""
    sendable = run.sendable(channel)
    excluded = run.excluded(channel)
    assert (customer_id in sendable) != (customer_id in excluded), (customer_id, channel)
    return sendable[customer_id] if customer_id in sendable else excluded[customer_id]["reason_code"]


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    return Campaign(root=tmp_path)
