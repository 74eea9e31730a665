"""Who should be contacted, not only who may: under_age, address_protected, contact_pressure,
channel_arbitration, and every matched list in the suppression detail (contract sections 6, 10, 11).

Each rule is tested where it applies and where it must not, with tiny inline campaigns built
through the CLI (conftest.py): marketing on all five channels, as_of 2026-12-01, unless said.
"""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from conftest import build, consent, customer, outcome, sent

ALL = ("email", "sms", "phone", "post", "social")


def granted(*ids: str) -> list[dict]:
    return [consent(i) for i in ids]


# ---------------------------------------------------------------------------------------------
# under_age


def test_under_age_excludes_a_customer_younger_than_minimum_age_on_every_channel(campaign):
    campaign.customers = [customer("C1", birth_date="2011-12-02")]
    campaign.consents = granted("C1")
    run = build(campaign)
    for channel in ALL:
        assert outcome(run, "C1", channel) == "under_age"
    assert "birth_date 2011-12-02" in run.excluded("email")["C1"]["detail"]
    assert "age 14" in run.excluded("email")["C1"]["detail"]


def test_under_age_is_not_applied_on_the_birthday_itself(campaign):
    campaign.customers = [customer("C1", birth_date="2011-12-01")]
    campaign.consents = granted("C1")
    assert outcome(build(campaign), "C1", "email") == "consent"


def test_under_age_default_minimum_age_is_15(campaign):
    campaign.customers = [customer("C1", birth_date="2012-01-01"), customer("C2", birth_date="2010-06-30")]
    campaign.consents = granted("C1", "C2")
    run = build(campaign)
    assert outcome(run, "C1", "email") == "under_age"
    assert outcome(run, "C2", "email") == "consent"


def test_under_age_follows_minimum_age(campaign):
    campaign.campaign = {"minimum_age": 18}
    campaign.customers = [customer("C1", birth_date="2009-01-01"), customer("C2", birth_date="2008-12-01")]
    campaign.consents = granted("C1", "C2")
    run = build(campaign)
    assert outcome(run, "C1", "email") == "under_age"
    assert outcome(run, "C2", "email") == "consent"


def test_under_age_minimum_age_zero_turns_it_off(campaign):
    campaign.campaign = {"minimum_age": 0}
    campaign.customers = [customer("C1", birth_date="2020-01-01")]
    campaign.consents = granted("C1")
    assert outcome(build(campaign), "C1", "email") == "consent"


def test_under_age_without_birth_date_is_not_under_age(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = granted("C1")
    assert outcome(build(campaign), "C1", "email") == "consent"


@pytest.mark.parametrize("as_of, expected", [("2026-02-28", "under_age"), ("2026-03-01", "consent"),
                                             ("2028-02-28", "consent")])
def test_under_age_29_february_birthday_is_reached_on_1_march(campaign, as_of, expected):
    # Born 2008-02-29: 18 on 1 March 2026 (2026 has no 29 February); 2028's 28 February is past 18.
    campaign.campaign = {"minimum_age": 18, "as_of": as_of}
    campaign.customers = [customer("C1", birth_date="29.2.2008")]
    campaign.consents = granted("C1")
    assert outcome(build(campaign), "C1", "email") == expected


@pytest.mark.parametrize("purpose", ["service", "survey"])
def test_under_age_applies_to_service_and_survey(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1", birth_date="2015-05-05")]
    assert outcome(build(campaign), "C1", "post") == "under_age"


@pytest.mark.parametrize("purpose, basis", [("contract", "contract"), ("legal", "legal_obligation")])
def test_under_age_does_not_apply_to_contract_and_legal(campaign, purpose, basis):
    campaign.campaign = {"purpose": purpose, "product_group": "pension"}
    campaign.customers = [customer("C1", birth_date="2015-05-05")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    assert outcome(build(campaign), "C1", "post") == basis


def test_under_age_comes_after_deceased_and_both_are_in_all_reasons(campaign):
    campaign.customers = [customer("C1", birth_date="2015-05-05", deceased_date="2026-01-01")]
    run = build(campaign)
    row = run.excluded("phone")["C1"]
    assert (row["reason_code"], row["all_reasons"]) == ("deceased", "deceased;under_age")


def test_under_age_birth_date_after_as_of_counts_as_under_age(campaign):
    campaign.customers = [customer("C1", birth_date="2027-01-01")]
    campaign.consents = granted("C1")
    assert outcome(build(campaign), "C1", "email") == "under_age"


@pytest.mark.parametrize("value", [-1, 121, "15", True, 15.5])
def test_under_age_minimum_age_outside_0_to_120_is_a_config_error(campaign, value):
    campaign.campaign = {"minimum_age": value}
    campaign.customers = [customer("C1")]
    run = campaign.build()
    assert run.exit_code == 2 and "campaign.minimum_age" in run.stderr


# ---------------------------------------------------------------------------------------------
# address_protected


@pytest.mark.parametrize("purpose", ["marketing", "service", "survey", "contract", "legal"])
def test_address_protected_excludes_post_for_every_purpose(campaign, purpose):
    campaign.campaign = {"purpose": purpose, "product_group": "pension"}
    campaign.customers = [customer("C1", address_protected="true")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "address_protected"
    assert "protected process" in run.excluded("post")["C1"]["detail"]
    assert not any(r["customer_id"] == "C1" for r in run.rows("post"))


def test_address_protected_does_not_touch_other_channels(campaign):
    campaign.customers = [customer("C1", address_protected="kyllä")]
    campaign.consents = granted("C1")
    run = build(campaign)
    for channel in ("email", "sms", "phone", "social"):
        assert run.reason("C1", channel) is None


@pytest.mark.parametrize("value", ["", "false", "ei", "0"])
def test_address_protected_false_or_missing_sends_post(campaign, value):
    campaign.customers = [customer("C1", address_protected=value)]
    assert outcome(build(campaign), "C1", "post") == "legitimate_interest"


def test_address_protected_that_is_not_a_boolean_is_a_data_error(campaign):
    campaign.customers = [customer("C1", address_protected="secret")]
    run = campaign.build()
    assert run.exit_code == 3 and "customers.csv:2" in run.stderr and "address_protected" in run.stderr
    assert not run.dir.exists()


def test_address_protected_comes_after_paperless(campaign):
    campaign.campaign = {"purpose": "service"}
    campaign.customers = [customer("C1", paperless="true", address_protected="true")]
    row = build(campaign).excluded("post")["C1"]
    assert (row["reason_code"], row["all_reasons"]) == ("paperless", "paperless;address_protected")


# ---------------------------------------------------------------------------------------------
# suppression lists: every matched list in the detail


def test_suppression_detail_names_every_matched_list_of_every_kind(campaign):
    campaign.customers = [customer("C1")]
    campaign.lists = [
        {"name": "own", "kind": "internal", "rows": [{"customer_id": "C1"}]},
        {"name": "robinson-2026-11", "kind": "robinson", "rows": [{"phone": "+358400000001"}]},
        {"name": "complaints", "kind": "custom", "channels": ["phone"], "rows": [{"customer_id": "C1"}]},
    ]
    row = build(campaign).excluded("phone")["C1"]
    assert row["reason_code"] == "internal_prohibition"
    assert row["all_reasons"] == "internal_prohibition;robinson_register;suppression_list"
    assert row["detail"] == "matched own (customer_id); robinson-2026-11 (phone); complaints (customer_id)"


def test_suppression_detail_names_only_the_lists_of_the_channel(campaign):
    campaign.customers = [customer("C1")]
    campaign.lists = [
        {"name": "own", "kind": "internal", "rows": [{"customer_id": "C1"}]},
        {"name": "robinson-2026-11", "kind": "robinson", "rows": [{"phone": "+358400000001"}]},
    ]
    assert build(campaign).excluded("email")["C1"]["detail"] == "matched own (customer_id)"


# ---------------------------------------------------------------------------------------------
# contact_pressure

AS_OF = "2026-12-01T12:00:00+02:00"
MONTHLY = {"name": "monthly", "max_contacts": 2, "window_days": 30}


def pressured(campaign, history, caps=(MONTHLY,), **settings):
    campaign.campaign = {"as_of": AS_OF, **settings}
    campaign.customers = campaign.customers or [customer("C1")]
    campaign.consents = campaign.consents or granted(*(c["customer_id"] for c in campaign.customers))
    campaign.history = history
    campaign.pressure = list(caps)
    return build(campaign)


def test_contact_pressure_excludes_on_every_capped_channel_once_max_contacts_is_reached(campaign):
    run = pressured(campaign, [sent("C1", "2026-11-20T10:00:00+02:00"),
                               sent("C1", "2026-11-25T09:30:00+02:00", channel="sms")])
    for channel in ALL:
        assert outcome(run, "C1", channel) == "contact_pressure"
    detail = run.excluded("post")["C1"]["detail"]
    assert "monthly" in detail and "2 contacts within 30 days" in detail and "max_contacts 2" in detail
    assert "2026-11-25T09:30:00+02:00" in detail


def test_contact_pressure_below_max_contacts_is_sendable(campaign):
    run = pressured(campaign, [sent("C1", "2026-11-20T10:00:00+02:00")])
    assert outcome(run, "C1", "email") == "consent"


def test_contact_pressure_window_edge_is_outside_and_a_second_inside_counts(campaign):
    edge = "2026-11-01T12:00:00+02:00"  # exactly as_of − 30 × 24 h: not inside the window
    inside = "2026-11-01T12:00:01+02:00"
    campaign.customers = [customer("C1"), customer("C2")]
    run = pressured(campaign, [sent("C1", edge), sent("C1", "2026-11-30T10:00:00"),
                               sent("C2", inside), sent("C2", "2026-11-30T10:00:00")])
    assert outcome(run, "C1", "email") == "consent"
    assert outcome(run, "C2", "email") == "contact_pressure"


def test_contact_pressure_ignores_rows_sent_after_as_of(campaign):
    run = pressured(campaign, [sent("C1", "2026-11-30T10:00:00"), sent("C1", "2026-12-01T12:00:01+02:00")])
    assert outcome(run, "C1", "email") == "consent"


def test_contact_pressure_counts_only_the_caps_channels_and_applies_only_on_them(campaign):
    calls = {"name": "quarterly-call", "channels": ["phone"], "max_contacts": 1, "window_days": 90}
    run = pressured(campaign, [sent("C1", "2026-11-01T10:00:00", channel="email"),
                               sent("C1", "2026-11-02T10:00:00", channel="email")], caps=[calls])
    assert outcome(run, "C1", "phone") == "consent"
    run = pressured(campaign, [sent("C1", "2026-10-01T10:00:00", channel="phone")], caps=[calls])
    assert outcome(run, "C1", "phone") == "contact_pressure"
    assert outcome(run, "C1", "email") == "consent"


def test_contact_pressure_counts_cap_channels_the_campaign_does_not_use(campaign):
    electronic = {"name": "electronic", "channels": ["email", "sms"], "max_contacts": 2, "window_days": 30}
    run = pressured(campaign, [sent("C1", "2026-11-20T10:00:00", channel="email"),
                               sent("C1", "2026-11-21T10:00:00", channel="email")],
                    caps=[electronic], channels=["sms", "post"])
    assert outcome(run, "C1", "sms") == "contact_pressure"
    assert outcome(run, "C1", "post") == "consent"  # granted, and not capped


def test_contact_pressure_cap_of_another_purpose_does_not_apply(campaign):
    service = {**MONTHLY, "purposes": ["service"]}
    run = pressured(campaign, [sent("C1", "2026-11-20T10:00:00"), sent("C1", "2026-11-21T10:00:00")], caps=[service])
    assert outcome(run, "C1", "email") == "consent"


def test_contact_pressure_counts_only_history_rows_of_the_caps_purposes(campaign):
    run = pressured(campaign, [sent("C1", "2026-11-20T10:00:00", purpose="service"),
                               sent("C1", "2026-11-21T10:00:00", purpose="legal")])
    assert outcome(run, "C1", "email") == "consent"


def test_contact_pressure_same_campaign_counts_only_this_campaigns_rows(campaign):
    once = {"name": "once", "max_contacts": 1, "window_days": 3650, "same_campaign": True}
    campaign.customers = [customer("C1"), customer("C2")]
    run = pressured(campaign, [sent("C1", "2020-01-01T10:00:00", campaign="test-campaign"),
                               sent("C2", "2026-11-30T10:00:00", campaign="another")], caps=[once])
    assert outcome(run, "C1", "email") == "contact_pressure"
    assert outcome(run, "C2", "email") == "consent"


@pytest.mark.parametrize("purpose, basis", [("contract", "contract"), ("legal", "legal_obligation")])
def test_contact_pressure_never_caps_contract_and_legal(campaign, purpose, basis):
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    run = pressured(campaign, [sent("C1", "2026-11-20T10:00:00", purpose="marketing")] * 3,
                    purpose=purpose, product_group="pension")
    assert outcome(run, "C1", "email") == basis


def test_contact_pressure_detail_names_every_failing_cap(campaign):
    weekly = {"name": "weekly", "max_contacts": 1, "window_days": 7}
    run = pressured(campaign, [sent("C1", "2026-11-28T10:00:00"), sent("C1", "2026-11-29T10:00:00")],
                    caps=[MONTHLY, weekly])
    detail = run.excluded("email")["C1"]["detail"]
    assert detail.index("cap monthly") < detail.index("cap weekly")


def test_contact_pressure_follows_no_consent_in_all_reasons(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1", status="denied")]
    run = pressured(campaign, [sent("C1", "2026-11-20T10:00:00"), sent("C1", "2026-11-21T10:00:00")])
    assert run.excluded("email")["C1"]["all_reasons"] == "customer_denied;no_consent;contact_pressure"


def test_contact_pressure_summary_counts_history_rows_and_orphan_ids(campaign):
    run = pressured(campaign, [sent("C1", "2026-11-20T10:00:00"), sent("C9", "2026-11-21T10:00:00")])
    summary = run.summary()
    assert summary["inputs"]["contact_history"] == 2
    assert summary["orphan_history_ids"] == {"count": 1, "examples": ["C9"]}


def test_contact_pressure_build_warns_of_history_rows_dated_after_now_naming_the_file(campaign):
    run = pressured(campaign, [sent("C1", "2026-11-20T10:00:00"), sent("C1", "2999-01-01T10:00:00")])
    assert any(w.endswith("history.csv: 1 contact history row(s) dated after now") for w in run.summary()["warnings"])


def test_contact_pressure_orphan_ids_include_rows_no_cap_counts(campaign):
    # C9's only row is a service message, which the marketing cap never counts: still an orphan.
    run = pressured(campaign, [sent("C1", "2026-11-20T10:00:00"), sent("C9", "2026-11-21T10:00:00", purpose="service")])
    summary = run.summary()
    assert summary["inputs"]["contact_history"] == 2
    assert summary["orphan_history_ids"] == {"count": 1, "examples": ["C9"]}


def test_contact_pressure_counts_the_same_when_the_history_is_read_a_slice_at_a_time(campaign, monkeypatch):
    import audiencecli.sources.history as history

    campaign.customers = [customer("C1"), customer("C2"), customer("C3")]
    rows = [sent("C1", "2026-11-20T10:00:00"), sent("C2", "2026-11-20T10:00:00"), sent("C1", "2026-11-21T10:00:00"),
            sent("C3", "2026-11-21T10:00:00", purpose="service"), sent("C2", "2026-11-22T10:00:00", channel="sms"),
            sent("C9", "2026-11-23T10:00:00")]
    whole = pressured(campaign, rows)
    monkeypatch.setattr(history, "SLICE_ROWS", 2)
    sliced = pressured(campaign, rows)
    for channel in ALL:
        assert sliced.excluded(channel) == whole.excluded(channel)
    assert outcome(sliced, "C1", "email") == outcome(sliced, "C2", "email") == "contact_pressure"
    assert sliced.summary()["orphan_history_ids"]["examples"] == ["C9"]


def test_contact_pressure_bad_row_in_a_later_slice_is_reported_with_its_line(campaign, monkeypatch):
    import audiencecli.sources.history as history

    monkeypatch.setattr(history, "SLICE_ROWS", 2)
    campaign.customers = [customer("C1")]
    campaign.history = [sent("C1", "2026-11-19T10:00:00")] * 4 + [sent("C1", "2026-11-20T10:00:00", channel="fax")]
    campaign.pressure = [MONTHLY]
    campaign.campaign = {"as_of": AS_OF}
    run = campaign.build()
    assert run.exit_code == 3 and "history.csv:6" in run.stderr and "channel" in run.stderr, run.stderr


@pytest.mark.parametrize("cap, key", [
    ({"name": "x", "max_contacts": 0, "window_days": 30}, "max_contacts"),
    ({"name": "x", "max_contacts": 2, "window_days": 0}, "window_days"),
    ({"name": "x", "window_days": 30}, "max_contacts"),
    ({"name": "x", "max_contacts": 2, "window_days": 30, "purposes": ["contract"]}, "purposes"),
    ({"name": "x", "max_contacts": 2, "window_days": 30, "purposes": ["legal"]}, "purposes"),
    ({"name": "x", "max_contacts": 2, "window_days": 30, "channels": ["fax"]}, "channels"),
    ({"name": "x", "max_contacts": 2, "window_days": 30, "same_campaign": "yes"}, "same_campaign"),
])
def test_contact_pressure_bad_cap_is_a_config_error_naming_the_key(campaign, cap, key):
    campaign.customers = [customer("C1")]
    campaign.history = []
    campaign.pressure = [cap]
    run = campaign.build()
    assert run.exit_code == 2 and f"pressure[x].{key}" in run.stderr, run.stderr
    assert not run.dir.exists()


def test_contact_pressure_without_contact_history_is_a_config_error(campaign):
    campaign.customers = [customer("C1")]
    campaign.pressure = [MONTHLY]
    run = campaign.build()
    assert run.exit_code == 2 and "inputs.contact_history" in run.stderr


@pytest.mark.parametrize("row, column", [
    (sent("C1", "2026-11-20T10:00:00", channel="fax"), "channel"),
    (sent("C1", "2026-11-20T10:00:00", purpose="newsletter"), "purpose"),
    (sent("C1", "yesterday"), "sent_at"),
    (sent("", "2026-11-20T10:00:00"), "customer_id"),
])
def test_contact_pressure_bad_history_row_is_a_data_error_with_its_line(campaign, row, column):
    campaign.customers = [customer("C1")]
    campaign.history = [sent("C1", "2026-11-19T10:00:00"), row]
    campaign.pressure = [MONTHLY]
    campaign.campaign = {"as_of": AS_OF}
    run = campaign.build()
    assert run.exit_code == 3, run.stderr
    assert "history.csv:3" in run.stderr and column in run.stderr
    assert not run.dir.exists()


def test_contact_pressure_rows_before_the_widest_window_are_not_checked(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = granted("C1")
    campaign.history = [sent("C1", "2020-01-01T10:00:00", channel="fax")]
    campaign.pressure = [MONTHLY]
    assert outcome(build(campaign), "C1", "email") == "consent"


@pytest.mark.parametrize("slice_rows", [None, 1])
def test_contact_pressure_reads_parquet_history_with_timestamps(campaign, monkeypatch, slice_rows):
    import audiencecli.sources.history as history

    if slice_rows:
        monkeypatch.setattr(history, "SLICE_ROWS", slice_rows)
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.consents = granted("C1", "C2")
    campaign.pressure = [MONTHLY]
    campaign.campaign = {"as_of": AS_OF}
    campaign.history = []
    config = campaign.write()
    utc = dt.timezone.utc
    pl.DataFrame({
        "customer_id": ["C1", "C1", "C2", "C2"],
        "channel": ["email", "sms", "email", "fax"],  # the fax row is years before the window
        "purpose": ["marketing"] * 4,
        "sent_at": [dt.datetime(2026, 11, 20, tzinfo=utc), dt.datetime(2026, 11, 21, tzinfo=utc),
                    dt.datetime(2026, 11, 21, tzinfo=utc), dt.datetime(2019, 1, 1, tzinfo=utc)],
    }).write_parquet(campaign.root / "history.parquet")
    config.write_text(config.read_text().replace("history.csv", "history.parquet"))
    from typer.testing import CliRunner

    from audiencecli.cli import app
    from conftest import Run

    out = campaign.root / "run"
    result = CliRunner().invoke(app, ["build", str(config), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.stderr
    run = Run(result.exit_code, result.stdout, result.stderr, out)
    assert outcome(run, "C1", "email") == "contact_pressure"
    assert outcome(run, "C2", "email") == "consent"
    assert run.summary()["inputs"]["contact_history"] == 4  # the file's rows, the unread 2019 one too
    assert run.summary()["inputs"]["contact_history"] == 4


# ---------------------------------------------------------------------------------------------
# channel_arbitration


def test_channel_arbitration_keeps_the_first_sendable_channel_of_order(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = granted("C1")
    campaign.arbitration = ["email", "sms", "post", "phone"]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "consent"
    for channel in ("sms", "post", "phone"):
        assert outcome(run, "C1", channel) == "channel_arbitration"
        assert run.excluded(channel)["C1"]["detail"] == "chosen: email"
        assert run.excluded(channel)["C1"]["all_reasons"] == "channel_arbitration"
    assert outcome(run, "C1", "social") == "consent"  # not in order: kept beside the direct contact


def test_channel_arbitration_passes_over_channels_already_excluded(campaign):
    campaign.customers = [customer("C1", email="")]
    campaign.consents = granted("C1")
    campaign.arbitration = ["email", "sms", "post"]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "missing_contact"
    assert outcome(run, "C1", "sms") == "consent"
    assert run.excluded("post")["C1"]["detail"] == "chosen: sms"


def test_channel_arbitration_without_it_every_channel_stays(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = granted("C1")
    run = build(campaign)
    assert all(outcome(run, "C1", c) == "consent" for c in ALL)


def test_channel_arbitration_comes_after_control_group(campaign):
    # test-campaign:C1's bucket is below 100: held out everywhere, never arbitrated.
    campaign.campaign = {"holdout_percent": 100}
    campaign.customers = [customer("C1")]
    campaign.consents = granted("C1")
    campaign.arbitration = ["email", "sms"]
    run = build(campaign)
    assert outcome(run, "C1", "sms") == "control_group"


def test_duplicate_contact_runs_on_what_arbitration_left(campaign):
    # C1 and C2 share a household address; C1 is given e-mail, so C2 may still get the letter.
    home = {"street_address": "Kotikatu 1", "postal_code": "00100", "city": "Helsinki", "last_name": "Koti"}
    campaign.customers = [customer("C1", **home), customer("C2", email="", **home)]
    campaign.consents = granted("C1", "C2")
    campaign.arbitration = ["email", "post"]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "consent"
    assert outcome(run, "C1", "post") == "channel_arbitration"
    assert outcome(run, "C2", "post") == "consent"


def test_channel_arbitration_explain_names_the_channel_chosen_even_when_a_duplicate_took_it(campaign):
    """C2 is given the e-mail by arbitration and then loses it to C1's same address: the channel
    chosen is still the e-mail, as the SMS's exclusion says."""
    import json

    from typer.testing import CliRunner

    from audiencecli.cli import app

    campaign.customers = [customer("C1", email="shared@example.fi", phone=""),
                          customer("C2", email="shared@example.fi")]
    campaign.consents = granted("C1", "C2")
    campaign.campaign = {"channels": ["email", "sms"]}
    campaign.arbitration = ["email", "sms"]
    run = build(campaign)
    assert outcome(run, "C2", "email") == "duplicate_contact"
    assert run.excluded("sms")["C2"]["detail"] == "chosen: email"
    result = CliRunner().invoke(app, ["explain", str(campaign.write()), "C2", "--json"])
    assert result.exit_code == 0, result.stderr
    channels = {c["channel"]: c for c in json.loads(result.stdout)["channels"]}
    assert channels["sms"]["evidence"]["channel_chosen"] == "email"
    assert channels["email"]["evidence"]["channel_chosen"] == "email"


@pytest.mark.parametrize("order", [["email", "fax"], ["email", "email"], [], "email"])
def test_channel_arbitration_bad_order_is_a_config_error(campaign, order):
    campaign.campaign = {"channels": ["email", "sms"]}
    campaign.customers = [customer("C1")]
    campaign.arbitration = order
    run = campaign.build()
    assert run.exit_code == 2 and "arbitration.order" in run.stderr


def test_channel_arbitration_channel_not_of_the_campaign_is_a_config_error(campaign):
    campaign.campaign = {"channels": ["email", "sms"]}
    campaign.customers = [customer("C1")]
    campaign.arbitration = ["email", "post"]
    run = campaign.build()
    assert run.exit_code == 2 and "'post' not a campaign channel" in run.stderr


# ---------------------------------------------------------------------------------------------
# validate and explain know them


def test_validate_reports_history_rows_dated_after_now_and_orphan_history_ids(campaign):
    import json

    from typer.testing import CliRunner

    from audiencecli.cli import app

    campaign.customers = [customer("C1")]
    campaign.history = [sent("C1", "2026-11-20T10:00:00"), sent("C7", "2026-11-21T10:00:00"),
                        sent("C1", "2999-01-01T10:00:00")]
    campaign.pressure = [MONTHLY]
    config = campaign.write()
    result = CliRunner().invoke(app, ["validate", str(config), "--json"])
    data = json.loads(result.stdout)
    assert data["exit_code"] == 0
    warnings = " ".join(data["warnings"])
    assert "1 contact history row(s) dated after now" in warnings
    assert "history.csv: 1 contact history row(s) dated after now" in warnings  # the file is named
    assert "1 contact history customer_id(s) not in the customers file, e.g. C7" in warnings


def test_validate_reports_a_bad_history_row_as_build_would(campaign):
    import json

    from typer.testing import CliRunner

    from audiencecli.cli import app

    campaign.customers = [customer("C1")]
    campaign.history = [sent("C1", "2026-11-20T10:00:00", channel="fax")]
    campaign.pressure = [MONTHLY]
    config = campaign.write()
    result = CliRunner().invoke(app, ["validate", str(config), "--json"])
    data = json.loads(result.stdout)
    assert data["exit_code"] == 3 and "history.csv:2" in data["errors"][0]["problem"]


def test_explain_shows_age_protection_caps_and_the_channel_chosen(campaign):
    import json

    from typer.testing import CliRunner

    from audiencecli.cli import app

    campaign.customers = [customer("C1", birth_date="1990-05-05", address_protected="true")]
    campaign.consents = granted("C1")
    campaign.history = [sent("C1", "2026-11-20T10:00:00+02:00")]
    campaign.pressure = [MONTHLY]
    campaign.arbitration = ["email", "sms", "post"]
    config = campaign.write()
    result = CliRunner().invoke(app, ["explain", str(config), "C1", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    by_channel = {c["channel"]: c for c in data["channels"]}
    email = by_channel["email"]["evidence"]
    assert (email["birth_date"], email["age"], email["address_protected"]) == ("1990-05-05", 36, True)
    assert email["pressure"] == [{"cap": "monthly", "count": 1, "max_contacts": 2, "window_days": 30,
                                  "latest_sent_at": "2026-11-20T10:00:00+02:00"}]
    assert by_channel["sms"]["evidence"]["channel_chosen"] == "email"
    assert by_channel["sms"]["reason_code"] == "channel_arbitration"
    assert by_channel["post"]["reason_code"] == "address_protected"
    assert "channel_chosen" not in by_channel["social"]["evidence"]
    tree = CliRunner().invoke(app, ["explain", str(config), "C1"])
    assert "cap monthly: 1 contact(s) within 30 days" in tree.stdout
    assert "address_protected: yes" in tree.stdout


# ---------------------------------------------------------------------------------------------
# the contact history's clean-Parquet fast path reads what the checked text path reads


def _history_both_ways(path, monkeypatch, counted=True):
    import audiencecli.sources.history as history
    from audiencecli.config import FileSpec, PressureCap
    from audiencecli.errors import ProblemLog

    as_of = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)
    cap = PressureCap("monthly", 2, 30, ("email", "sms"), ("marketing",), False)
    rows = history.counted_by(cap, "this-campaign", as_of) if counted else None
    now = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)

    def load():
        problems = ProblemLog()
        loaded = history.load_history(FileSpec(path), problems, as_of - dt.timedelta(days=30), as_of, now, rows)
        return loaded, problems

    fast, fast_problems = load()
    monkeypatch.setattr(history, "_clean_parquet", lambda *args: None)
    slow, slow_problems = load()
    return fast, slow, fast_problems, slow_problems


@pytest.mark.parametrize("time_zone", [None, "UTC", "Europe/Helsinki"])
@pytest.mark.parametrize("campaign_column", [True, False])
def test_contact_history_clean_parquet_fast_path_reads_what_the_text_path_reads(tmp_path, monkeypatch, time_zone,
                                                                                 campaign_column):
    import audiencecli.sources.history as history

    monkeypatch.setattr(history, "SLICE_ROWS", 3)
    frame = pl.DataFrame({
        "customer_id": ["C1", "C1", "C2", "C2", "C3", "C9", "C1"],
        "channel": ["email", "sms", "email", "phone", "email", "email", "email"],
        "purpose": ["marketing", "marketing", "service", "marketing", "marketing", "marketing", "marketing"],
        "sent_at": [dt.datetime(2026, 11, 20), dt.datetime(2026, 11, 1, 12), dt.datetime(2026, 11, 21),
                    dt.datetime(2026, 11, 22), dt.datetime(2026, 12, 1, 13), dt.datetime(2026, 11, 30, 10),
                    dt.datetime(2025, 1, 1)],
        "campaign": ["this-campaign", "other", None, "other", "this-campaign", "x", "y"],
        "note": ["a"] * 7,
    }).with_columns(pl.col("sent_at").dt.replace_time_zone(time_zone))
    if not campaign_column:
        frame = frame.drop("campaign")
    frame.write_parquet(tmp_path / "h.parquet")
    fast, slow, fast_problems, slow_problems = _history_both_ways(tmp_path / "h.parquet", monkeypatch)
    assert not fast_problems.listed and not slow_problems.listed
    assert fast.loaded.frame.to_dicts() == slow.loaded.frame.to_dicts()
    assert fast.loaded.frame.schema == slow.loaded.frame.schema
    assert (fast.after_now, fast.loaded.rows, fast.loaded.unknown_columns, fast.loaded.sha256) == \
        (slow.after_now, slow.loaded.rows, slow.loaded.unknown_columns, slow.loaded.sha256)
    assert sorted(fast.customer_ids.unique()) == sorted(slow.customer_ids.unique())


LONG_ID, LONG_CAMPAIGN = "C" * 1001, "x" * 1001  # over the 1,000 characters of any value


@pytest.mark.parametrize("column, value", [("channel", "Email"), ("channel", " email"), ("customer_id", "C2 "),
                                           ("campaign", " this-campaign"), ("channel", None), ("channel", "fax"),
                                           ("customer_id", LONG_ID), ("campaign", LONG_CAMPAIGN)])
def test_contact_history_parquet_value_the_fast_path_cannot_settle_goes_through_the_checks(tmp_path, monkeypatch,
                                                                                           column, value):
    frame = pl.DataFrame({
        "customer_id": ["C1", "C2"], "channel": ["email", "email"], "purpose": ["marketing", "marketing"],
        "sent_at": [dt.datetime(2026, 11, 20), dt.datetime(2026, 11, 21)], "campaign": ["a", "b"],
    }).with_columns(pl.when(pl.col("customer_id") == "C2").then(pl.lit(value)).otherwise(pl.col(column)).alias(column))
    frame.write_parquet(tmp_path / "h.parquet")
    fast, slow, fast_problems, slow_problems = _history_both_ways(tmp_path / "h.parquet", monkeypatch)
    assert [p.message for p in fast_problems.listed] == [p.message for p in slow_problems.listed]
    if value in (None, "fax", LONG_ID, LONG_CAMPAIGN):
        assert fast_problems.listed and fast_problems.listed[0].line == 3
    else:
        assert not fast_problems.listed
        assert fast.loaded.frame.to_dicts() == slow.loaded.frame.to_dicts()
        assert fast.loaded.frame.height == 2
