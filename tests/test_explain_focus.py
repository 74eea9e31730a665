"""`explain` reads only what a decision depends on (issue 19): the same explanation as from every row.

Generated campaigns whose customers share contact points spelled many ways (case, white space,
NFD, national and international phone forms, punctuation in postal codes and names), with lists
keyed by every key type: for every customer, the explanation from the rows `focus` reads equals
the one from all rows, verdicts, evidence and legal basis alike.
"""
from __future__ import annotations

import difflib
import json
import tempfile
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from audiencecli.cli import app
from audiencecli.config import load_config
from audiencecli.explain import explain
from audiencecli.focus import Keys, focused_inputs
from audiencecli.inputs import load_inputs
from conftest import REPO, Campaign, consent, customer, sent

SAMPLE_CONFIGS = sorted((REPO / "sample_data").glob("*.toml"))

NFD = unicodedata.normalize("NFD", "Mäki")
EMAILS = ["aino@example.fi", "AINO@Example.FI", " aino@example.fi ", "eero@example.fi", "Ääkkönen@example.fi",
          unicodedata.normalize("NFD", "ääkkönen@example.fi"), "not-an-email", None]
PHONES = ["040 1234567", "+358401234567", "00358 40 123 4567", "(040) 123-4567", "040-123 45 67", "0401234568",
          "+46 70 123 45 67", "040 12a 4567", "358401234567", None]
POSTAL_CODES = ["00100", "00 100", "00-100", "00100 ", "33100", None]
LAST_NAMES = ["Virtanen", "VIRTANEN", "virtanen", "Mäki", NFD, "Anna-Liisa", "anna liisa", None]
STREETS = ["Mannerheimintie 1", "MANNERHEIMINTIE 1", "Mannerheimintie 1 ", "Hämeenkatu 2"]
FIRST_NAMES = ["Aino", "aino", "Eero"]

customers = st.lists(
    st.fixed_dictionaries({
        "email": st.sampled_from(EMAILS), "phone": st.sampled_from(PHONES),
        "postal_code": st.sampled_from(POSTAL_CODES), "last_name": st.sampled_from(LAST_NAMES),
        "street_address": st.sampled_from(STREETS), "first_name": st.sampled_from(FIRST_NAMES),
        "customer_type": st.sampled_from(["private", "private", "business"]),
        "business_role": st.sampled_from(["ceo", None]),
        "padded": st.booleans(),
    }),
    min_size=2, max_size=9,
)
events = st.lists(st.tuples(st.integers(0, 8), st.sampled_from(["all", "email", "sms", "phone", "post", "social"]),
                            st.sampled_from(["granted", "denied"]), st.integers(1, 28), st.booleans()),
                  max_size=14)
list_rows = st.lists(st.tuples(
    st.sampled_from(["customer_id", "email", "phone", "name_address"]), st.integers(0, 8),
    st.sampled_from(EMAILS[:-1]), st.sampled_from(PHONES[:-1]), st.sampled_from(POSTAL_CODES[:-1]),
    st.sampled_from(LAST_NAMES[:-1]), st.sampled_from(STREETS), st.sampled_from(FIRST_NAMES)), max_size=8)
options = st.fixed_dictionaries({
    "dedupe": st.booleans(), "holdout_percent": st.sampled_from([0, 50]),
    "arbitration": st.sampled_from([None, ["email", "sms", "post", "phone"]]),
    "capped": st.booleans(), "parquet": st.booleans(), "holdings": st.booleans(),
})


def _campaign(root: Path, people: list[dict], consent_events, rows, opts) -> Path:
    campaign = Campaign(root=root)
    ids = [f"C{i:02d}" for i in range(len(people))]
    for customer_id, person in zip(ids, people):
        fields = {k: v for k, v in person.items() if k != "padded"}
        campaign.customers.append(customer(f" {customer_id} " if person["padded"] else customer_id, **fields))
    for who, channel, status, day, padded in consent_events:
        if who < len(ids):
            campaign.consents.append(consent(f" {ids[who]}" if padded else ids[who], channel, "all", status,
                                             at=f"2026-11-{day:02d}T10:00:00"))
    keyed: dict[str, list[dict]] = {"customer_id": [], "email": [], "phone": [], "name_address": []}
    for key, who, email, phone, postal, last, street, first in rows:
        keyed[key].append({"customer_id": ids[who % len(ids)]} if key == "customer_id" else
                          {"email": email} if key == "email" else {"phone": phone} if key == "phone" else
                          {"first_name": first, "last_name": last, "street_address": street, "postal_code": postal})
    headers = {"customer_id": ["customer_id"], "email": ["email"], "phone": ["phone"],
               "name_address": ["first_name", "last_name", "street_address", "postal_code"]}
    kinds = {"customer_id": "internal", "email": "custom", "phone": "telemarketing", "name_address": "robinson"}
    campaign.lists = [{"name": f"by-{key}", "kind": kinds[key], "rows": keyed[key], "header": headers[key],
                       **({"channels": ["email", "sms", "phone", "post", "social"]} if kinds[key] == "custom" else {})}
                      for key in keyed]
    if opts["holdings"]:
        campaign.holdings = [{"customer_id": ids[i], "product_group": "pension", "start_date": "2020-01-01"}
                             for i in range(0, len(ids), 2)]
        campaign.campaign["product_group"] = "pension"
    if opts["capped"]:
        campaign.history = [sent(ids[i], f"2026-11-{10 + i:02d}T09:00:00") for i in range(0, len(ids), 3)]
        campaign.pressure = [{"name": "monthly", "max_contacts": 1, "window_days": 30}]
    campaign.arbitration = opts["arbitration"]
    campaign.campaign.update(dedupe=opts["dedupe"], holdout_percent=opts["holdout_percent"],
                             business_roles=["ceo"])
    config = campaign.write()
    if opts["parquet"]:  # every file as Parquet of text columns, values exactly as in the CSV
        text = config.read_text(encoding="utf-8")
        for path in root.glob("*.csv"):
            pl.read_csv(path, infer_schema=False).write_parquet(path.with_suffix(".parquet"))
            text = text.replace(f'"{path.name}"', f'"{path.with_suffix(".parquet").name}"')
        config.write_text(text, encoding="utf-8")
    return config


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=customers, consent_events=events, rows=list_rows, opts=options)
def test_explain_from_the_rows_focus_reads_equals_explain_from_every_row(people, consent_events, rows, opts):
    with tempfile.TemporaryDirectory() as folder:
        config = load_config(_campaign(Path(folder), people, consent_events, rows, opts))
        everyone = explain(config, load_inputs(config))
        for customer_id, explanation in everyone.items():
            focused = explain(config, focused_inputs(config, [customer_id]), [customer_id])
            assert _text(focused[customer_id]) == _text(explanation), _difference(focused[customer_id], explanation)
        several = sorted(everyone)[:3]
        together = explain(config, focused_inputs(config, several), several)
        assert {c: e.as_dict() for c, e in together.items()} == {c: everyone[c].as_dict() for c in several}


def test_explain_from_the_rows_focus_reads_equals_explain_from_every_row_for_every_sample_customer():
    config = load_config(REPO / "sample_data" / "campaign.toml")
    everyone = explain(config, load_inputs(config))
    for customer_id, explanation in everyone.items():
        focused = explain(config, focused_inputs(config, [customer_id]), [customer_id])
        assert _text(focused[customer_id]) == _text(explanation), _difference(focused[customer_id], explanation)


@pytest.mark.parametrize("config_path", SAMPLE_CONFIGS, ids=lambda p: p.stem)
def test_explain_of_every_sample_customer_at_once_from_the_rows_focus_reads(config_path):
    config = load_config(config_path)
    everyone = explain(config, load_inputs(config))
    ids = sorted(everyone)
    focused = explain(config, focused_inputs(config, ids), ids)
    for customer_id in ids:
        assert _text(focused[customer_id]) == _text(everyone[customer_id]), customer_id


def _text(explanation) -> str:
    return json.dumps(explanation.as_dict(), indent=1, default=str)


def _difference(focused, everyone) -> str:
    return "\n".join(difflib.unified_diff(_text(everyone).splitlines(), _text(focused).splitlines(),
                                          "from every row", "from the rows focus reads", lineterm=""))


def _keys_filter_rows(frame: pl.DataFrame, keys: Keys) -> list[str]:
    return frame.filter(keys.of_contacts({c: pl.col(c) for c in frame.columns})).get_column("customer_id").to_list()


def test_focus_keeps_every_spelling_of_a_shared_contact_point():
    keys = Keys(customer_ids=frozenset({"C1"}), emails=frozenset({"aino@example.fi"}),
                phones=frozenset({"+358401234567"}), postal_parts=frozenset({"00100"}),
                last_name_parts=frozenset({"virtanen"}))
    frame = pl.DataFrame({
        "customer_id": [" C1 ", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"],
        "email": [None, " AINO@example.FI", "\u212aaino@example.fi", None, None, None, None, None, "eero@x.fi"],
        "phone": [None, None, None, "00358 40 123 4567", "(040) 123-4567", "040 CALL NOW", None, None, "050 999"],
        "postal_code": [None, None, None, None, None, None, "00-100", "00100", "33100"],
        "last_name": [None, None, None, None, None, None, "VIRTANEN", "Virta-nen", "Virtanen"],
    })
    # C3: a Kelvin sign, which NFC makes K; C6: a vanity number; C7, C8: punctuation in the parts.
    assert _keys_filter_rows(frame, keys) == [" C1 ", "C2", "C3", "C4", "C5", "C6", "C7", "C8"]


def test_explain_reads_only_the_rows_of_its_customer_and_who_shares_their_contact_points(campaign):
    campaign.customers = [customer("C1", email="shared@example.fi"), customer("C2", email="SHARED@example.fi"),
                          customer("C3"), customer("C4")]
    campaign.consents = [consent(c) for c in ("C1", "C2", "C3", "C4")]
    config = load_config(campaign.write())
    inputs = focused_inputs(config, ["C2"])
    assert sorted(inputs.customers.frame.get_column("customer_id").to_list()) == ["C1", "C2"]
    assert sorted(inputs.consents.frame.get_column("customer_id").to_list()) == ["C1", "C2"]
    email = next(c for c in explain(config, inputs, ["C2"])["C2"].channels if c.channel == "email")
    assert email.reason_code == "duplicate_contact"


def test_explain_without_dedupe_reads_no_one_else(campaign):
    campaign.customers = [customer("C1", email="shared@example.fi"), customer("C2", email="shared@example.fi")]
    campaign.campaign["dedupe"] = False
    config = load_config(campaign.write())
    assert focused_inputs(config, ["C2"]).customers.frame.get_column("customer_id").to_list() == ["C2"]


def test_explain_of_several_customers_prints_them_in_the_order_given(campaign):
    campaign.customers = [customer("C1"), customer("C2"), customer("C3")]
    config = campaign.write()
    result = CliRunner().invoke(app, ["explain", str(config), "C3", "C1", "C3", "--json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert [e["customer_id"] for e in json.loads(result.stdout)] == ["C3", "C1"]
    text = CliRunner().invoke(app, ["explain", str(config), "C2", "C1", "--quiet"])
    assert text.exit_code == 0 and text.stdout.index("C2 ·") < text.stdout.index("C1 ·")


def test_explain_of_one_customer_prints_one_object_as_before(campaign):
    campaign.customers = [customer("C1")]
    result = CliRunner().invoke(app, ["explain", str(campaign.write()), "C1", "--json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.lstrip().startswith("{")


@pytest.mark.parametrize("bad", ["customers", "consents"])
def test_explain_reports_a_data_error_in_the_rows_it_reads(campaign, bad):
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.consents = [consent("C1"), consent("C2")]
    if bad == "customers":
        campaign.customers[0]["birth_date"] = "not a date"
    else:
        campaign.consents[0]["status"] = "maybe"
    config = campaign.write()
    result = CliRunner().invoke(app, ["explain", str(config), "C1", "--quiet"])
    assert result.exit_code == 3, result.stderr
    assert "line 2" in result.stderr.lower() or ":2" in result.stderr


def test_explain_reports_a_data_error_in_the_row_of_someone_who_may_share_a_contact_point(campaign):
    campaign.customers = [customer("C1", email="shared@example.fi"),
                          customer("C2", email="shared@example.fi", street_address="x" * 1001)]
    campaign.consents = [consent("C1"), consent("C2")]
    result = CliRunner().invoke(app, ["explain", str(campaign.write()), "C1", "--quiet"])
    assert result.exit_code == 3, result.stderr
    assert result.stderr.rstrip().endswith("customers.csv:3: column street_address: longer than 1000 characters")


def test_explain_reports_a_line_of_its_customer_with_more_fields_than_the_header_as_build_does(campaign):
    campaign.customers = [customer("C1"), customer("C2")]
    config = campaign.write()
    path = campaign.root / "customers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], lines[1] + ",surplus", *lines[2:]]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", str(config), "C1", "--quiet"])
    assert result.exit_code == 3, result.stderr
    assert "customers.csv:2: has " in result.stderr and "fields but the header has" in result.stderr


@pytest.mark.parametrize("text", [
    "customer_id,email\nC1,a@x.fi\nC2,b@x.fi\n\nC3,c@x.fi\n C2 ,d@x.fi",              # no quotes: the lines alone
    "customer_id;email\r\nC1;a@x.fi\r\nC2;b@x.fi\r\n\r\nC3;c@x.fi\r\n C2 ;d@x.fi\r\n",  # CRLF, semicolons
    'customer_id,email\nC1,"a@x.fi"\nC2,"b\n@x.fi"\n\nC3,c@x.fi\n C2 ,d@x.fi\n',       # quotes: read whole
], ids=["plain", "crlf", "quoted"])
def test_a_csv_file_read_through_a_row_filter_keeps_the_rows_and_lines_of_a_whole_read(tmp_path, text):
    from audiencecli.config import FileSpec
    from audiencecli.errors import ProblemLog
    from audiencecli.sources.readers import read_table

    path = tmp_path / "rows.csv"
    path.write_bytes(text.encode("utf-8"))
    spec = FileSpec(path=path)
    whole = read_table(spec, ("customer_id", "email"), ProblemLog()).frame
    kept = read_table(spec, ("customer_id", "email"), ProblemLog(),
                      only=Keys(customer_ids=frozenset({"C2", "C3"})).of_customer_ids).frame
    assert kept.to_dicts() == whole.filter(pl.col("customer_id").is_in(["C2", "C3"])).to_dicts()
    assert kept.get_column("customer_id").to_list() == ["C2", "C3", "C2"]
