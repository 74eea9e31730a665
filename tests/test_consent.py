"""Consent resolution (contract section 3, "Resolution") as a build observes it.

The consent state for (channel C, purpose P) is the status of the latest event with
channel ∈ {C, all}, purpose ∈ {P, all} and recorded_at ≤ as_of; at equal recorded_at `denied`
wins; no such event: `none`. A date as_of is the end of that day in Europe/Helsinki.

Observed through outcomes: on a marketing email row, `granted` → sendable with basis `consent`,
`denied` → `customer_denied`, `none` → `no_consent`. On phone/post/social (and for service or
survey) `none` → sendable on `legitimate_interest`.
"""
from __future__ import annotations

import pytest

from conftest import customer
from conftest import build, outcome

CHANNELS = ("email", "sms", "phone", "post", "social")
CONSENT_PURPOSES = ("marketing", "service", "survey")


def event(status: str, at: str, channel: str = "email", purpose: str = "marketing", source: str = "web",
          customer_id: str = "C1") -> dict:
    return {"customer_id": customer_id, "channel": channel, "purpose": purpose, "status": status,
            "recorded_at": at, "source": source}


# state on a marketing email row
GRANTED, DENIED, NONE = "consent", "customer_denied", "no_consent"


def email_state(campaign, events, *args) -> str:
    campaign.customers = [customer("C1")]
    campaign.consents = events
    return outcome(build(campaign, *args), "C1", "email")


# ---------------------------------------------------------------------------------------------
# Latest event wins


def test_no_event_is_state_none(campaign):
    campaign.customers = [customer("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == NONE
    assert outcome(run, "C1", "sms") == NONE
    for channel in ("phone", "post", "social"):
        assert outcome(run, "C1", channel) == "legitimate_interest"


def test_latest_denial_after_a_grant_wins(campaign):
    events = [event("granted", "2026-01-01T10:00:00"), event("denied", "2026-06-01T10:00:00")]
    assert email_state(campaign, events) == DENIED


def test_grant_after_a_denial_re_allows(campaign):
    events = [event("denied", "2026-01-01T10:00:00"), event("granted", "2026-06-01T10:00:00")]
    assert email_state(campaign, events) == GRANTED


def test_latest_wins_regardless_of_file_order(campaign):
    events = [event("denied", "2026-06-01T10:00:00"), event("granted", "2026-01-01T10:00:00"),
              event("granted", "2025-01-01T10:00:00")]
    assert email_state(campaign, events) == DENIED


def test_latest_wins_by_the_second(campaign):
    events = [event("denied", "2026-06-01T10:00:00"), event("granted", "2026-06-01T10:00:01")]
    assert email_state(campaign, events) == GRANTED


@pytest.mark.parametrize("order", ["granted-first", "denied-first"])
def test_denied_wins_a_tie_at_equal_recorded_at(campaign, order):
    events = [event("granted", "2026-06-01T10:00:00"), event("denied", "2026-06-01T10:00:00")]
    if order == "denied-first":
        events.reverse()
    assert email_state(campaign, events) == DENIED


def test_denied_wins_a_tie_written_in_different_formats(campaign):
    # The same instant: Finnish local time, ISO local time and ISO with a UTC offset.
    events = [event("granted", "1.6.2026 10.00"), event("denied", "2026-06-01T07:00:00Z")]
    assert email_state(campaign, events) == DENIED


def test_denied_wins_a_tie_between_a_wildcard_and_a_specific_event(campaign):
    events = [event("granted", "2026-06-01T10:00:00", channel="email", purpose="marketing"),
              event("denied", "2026-06-01T10:00:00", channel="all", purpose="all")]
    assert email_state(campaign, events) == DENIED


def test_denied_events_of_other_customers_do_not_count(campaign):
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.consents = [event("granted", "2026-01-01T10:00:00"),
                         event("denied", "2026-06-01T10:00:00", customer_id="C2")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == GRANTED
    assert outcome(run, "C2", "email") == DENIED


# ---------------------------------------------------------------------------------------------
# Point in time: events after as_of are ignored


def test_events_after_as_of_are_ignored(campaign):
    events = [event("granted", "2026-01-01T10:00:00"), event("denied", "2026-12-05T10:00:00")]
    assert email_state(campaign, events) == GRANTED


def test_a_grant_after_as_of_does_not_allow(campaign):
    events = [event("granted", "2026-12-02T00:00:00")]
    assert email_state(campaign, events) == NONE


@pytest.mark.parametrize("as_of, expected", [
    ("2026-02-01", NONE),        # before the grant
    ("2026-03-01", GRANTED),     # the day of the grant
    ("2026-05-31", GRANTED),
    ("2026-06-01", DENIED),      # the day of the denial
    ("2026-12-01", DENIED),
])
def test_an_earlier_as_of_reproduces_what_was_allowed_then(campaign, as_of, expected):
    events = [event("granted", "2026-03-01T09:00:00"), event("denied", "2026-06-01T18:00:00")]
    assert email_state(campaign, events, "--as-of", as_of) == expected


def test_as_of_option_overrides_the_config(campaign):
    campaign.campaign = {"as_of": "2026-12-01"}
    events = [event("granted", "2026-03-01T09:00:00"), event("denied", "2026-06-01T18:00:00")]
    assert email_state(campaign, events, "--as-of", "2026-04-01") == GRANTED
    assert email_state(campaign, events) == DENIED


@pytest.mark.parametrize("recorded_at, counts", [
    ("2026-12-01T23:59:00", True),          # Helsinki local time, last minute of the day
    ("2026-12-01T23:59:59.999", True),
    ("1.12.2026 23.59", True),
    ("2026-12-01T21:59:00Z", True),         # 23:59 in Helsinki (UTC+2 in December)
    ("2026-12-01T23:59:00+02:00", True),
    ("2026-12-02T00:00:00", False),         # the next day in Helsinki
    ("2026-12-01T22:00:00Z", False),        # 00:00 on 2 December in Helsinki
    ("2026-12-01T23:30:00+00:00", False),   # 01:30 on 2 December in Helsinki
    ("2026-12-02", False),                  # a date alone is the start of that day
    ("2026-12-01", True),
], ids=["local-23:59", "local-fraction", "finnish", "utc-21:59", "offset-+02", "next-midnight", "utc-22:00",
        "utc-late", "date-next-day", "date-same-day"])
def test_a_date_as_of_means_the_end_of_that_day_in_helsinki(campaign, recorded_at, counts):
    campaign.campaign = {"as_of": "2026-12-01"}
    events = [event("granted", "2026-01-01T10:00:00"), event("denied", recorded_at)]
    assert email_state(campaign, events) == (DENIED if counts else GRANTED)


def test_a_date_as_of_on_the_command_line_is_also_the_end_of_that_day(campaign):
    events = [event("granted", "2026-01-01T10:00:00"), event("denied", "2026-11-15T23:59:00")]
    assert email_state(campaign, events, "--as-of", "2026-11-15") == DENIED
    assert email_state(campaign, events, "--as-of", "2026-11-14") == GRANTED


@pytest.mark.parametrize("as_of, expected", [
    ("2026-12-01T12:00:00", DENIED),      # recorded_at = as_of counts (≤)
    ("2026-12-01T11:59:59", GRANTED),
    ("2026-12-01T10:00:00Z", DENIED),     # 12:00 Helsinki
    ("2026-12-01T09:59:00Z", GRANTED),
])
def test_a_datetime_as_of_is_that_instant(campaign, as_of, expected):
    events = [event("granted", "2026-01-01T10:00:00"), event("denied", "2026-12-01T12:00:00")]
    assert email_state(campaign, events, "--as-of", as_of) == expected


def test_summer_time_is_helsinki_utc_plus_three(campaign):
    # In June Helsinki is UTC+3: 20:59Z is 23:59 local on 15 June, 21:00Z is 00:00 on 16 June.
    campaign.campaign = {"as_of": "2026-06-15"}
    events = [event("granted", "2026-01-01T10:00:00"), event("denied", "2026-06-15T20:59:00Z")]
    assert email_state(campaign, events) == DENIED
    events = [event("granted", "2026-01-01T10:00:00"), event("denied", "2026-06-15T21:00:00Z")]
    assert email_state(campaign, events) == GRANTED


# ---------------------------------------------------------------------------------------------
# Wildcards, and events that do not count


@pytest.mark.parametrize("channel", CHANNELS)
def test_channel_all_denial_applies_to_every_channel(campaign, channel):
    campaign.customers = [customer("C1")]
    campaign.consents = [event("denied", "2026-06-01T10:00:00", channel="all")]
    run = build(campaign)
    assert outcome(run, "C1", channel) == DENIED


@pytest.mark.parametrize("channel", CHANNELS)
def test_channel_all_grant_applies_to_every_channel(campaign, channel):
    campaign.customers = [customer("C1")]
    campaign.consents = [event("granted", "2026-06-01T10:00:00", channel="all")]
    run = build(campaign)
    assert outcome(run, "C1", channel) == "consent"


@pytest.mark.parametrize("purpose", CONSENT_PURPOSES)
def test_purpose_all_denial_applies_to_every_consent_purpose(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1")]
    campaign.consents = [event("denied", "2026-06-01T10:00:00", channel="phone", purpose="all")]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == DENIED
    assert outcome(run, "C1", "post") != DENIED


@pytest.mark.parametrize("purpose", CONSENT_PURPOSES)
def test_purpose_all_grant_applies_to_every_consent_purpose(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1")]
    campaign.consents = [event("granted", "2026-06-01T10:00:00", channel="email", purpose="all")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "consent"


def test_a_later_specific_grant_overrides_an_earlier_wildcard_denial(campaign):
    events = [event("denied", "2026-01-01T10:00:00", channel="all", purpose="all"),
              event("granted", "2026-06-01T10:00:00", channel="email", purpose="marketing")]
    campaign.customers = [customer("C1")]
    campaign.consents = events
    run = build(campaign)
    assert outcome(run, "C1", "email") == GRANTED
    assert outcome(run, "C1", "sms") == DENIED
    assert outcome(run, "C1", "phone") == DENIED


def test_a_later_wildcard_denial_overrides_an_earlier_specific_grant(campaign):
    events = [event("granted", "2026-01-01T10:00:00", channel="email", purpose="marketing"),
              event("denied", "2026-06-01T10:00:00", channel="all", purpose="marketing")]
    assert email_state(campaign, events) == DENIED


def test_an_event_for_another_channel_does_not_count(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [event("denied", "2026-06-01T10:00:00", channel="sms"),
                         event("granted", "2026-06-01T10:00:00", channel="phone")]
    run = build(campaign)
    assert outcome(run, "C1", "sms") == DENIED
    assert outcome(run, "C1", "email") == NONE
    assert outcome(run, "C1", "phone") == "consent"
    assert outcome(run, "C1", "post") == "legitimate_interest"


def test_an_event_for_another_purpose_does_not_count(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [event("granted", "2026-06-01T10:00:00", channel="email", purpose="service"),
                         event("denied", "2026-06-01T10:00:00", channel="phone", purpose="survey")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == NONE
    assert outcome(run, "C1", "phone") == "legitimate_interest"


def test_a_service_denial_does_not_block_marketing(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [event("granted", "2026-01-01T10:00:00", channel="all", purpose="marketing"),
                         event("denied", "2026-06-01T10:00:00", channel="all", purpose="service")]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "consent"


def test_a_marketing_denial_does_not_block_service(campaign):
    campaign.campaign = {"purpose": "service"}
    campaign.customers = [customer("C1")]
    campaign.consents = [event("denied", "2026-06-01T10:00:00", channel="all", purpose="marketing")]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "legitimate_interest"


def test_a_survey_denial_blocks_survey_only(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [event("denied", "2026-06-01T10:00:00", channel="all", purpose="survey")]
    campaign.campaign = {"purpose": "survey"}
    assert outcome(build(campaign), "C1", "email") == DENIED
    campaign.campaign = {"purpose": "service"}
    assert outcome(build(campaign), "C1", "email") == "legitimate_interest"


@pytest.mark.parametrize("purpose", ["contract", "legal"])
def test_contract_and_legal_are_not_resolved_against_consents(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1")]
    campaign.consents = [event("denied", "2026-06-01T10:00:00", channel="all", purpose="all")]
    run = build(campaign)
    basis = "contract" if purpose == "contract" else "legal_obligation"
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == basis


# ---------------------------------------------------------------------------------------------
# Values and evidence


def test_consent_values_are_compared_case_insensitively(campaign):
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.consents = [
        event(" Granted ", "2026-01-01T10:00:00", channel="EMAIL", purpose="Marketing"),
        event("DENIED", "2026-01-01T10:00:00", channel="All", purpose="ALL", customer_id="C2"),
    ]
    run = build(campaign)
    assert outcome(run, "C1", "email") == GRANTED
    assert outcome(run, "C2", "email") == DENIED


def test_denial_detail_names_the_deciding_event(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [event("denied", "2026-03-01T08:00:00", source="web"),
                         event("granted", "2026-04-01T08:00:00", source="web"),
                         event("denied", "2026-10-20T16:45:00", channel="all", purpose="marketing",
                               source="sms_reply")]
    run = build(campaign)
    detail = run.excluded("email")["C1"]["detail"]
    assert "2026-10-20T16:45" in detail
    assert "sms_reply" in detail
    assert "2026-03-01" not in detail


def test_of_two_equal_deciding_events_the_detail_names_the_one_nearer_the_top(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [event("denied", "2026-10-20T16:45:00", source="web"),
                         event("denied", "2026-10-20T16:45:00", channel="all", source="sms_reply"),
                         event("denied", "2026-10-20T16:45:00", source="letter")]
    run = build(campaign)
    detail = run.excluded("email")["C1"]["detail"]
    assert "source web" in detail and "consents line 2" in detail


def test_consent_events_of_unknown_customers_are_orphans_not_errors(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [event("granted", "2026-01-01T10:00:00"),
                         event("denied", "2026-01-01T10:00:00", customer_id="C999")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == GRANTED
    summary = run.summary()
    assert summary["orphan_consent_ids"]["count"] == 1
    assert summary["orphan_consent_ids"]["examples"] == ["C999"]
    assert "C999" not in run.sendable("email") and "C999" not in run.excluded("email")


def test_each_event_counts_for_the_customer_with_exactly_its_id(campaign):
    # Ids that sort before, between and after the customers' (and prefixes of them), in a log
    # that is not in id order, some in runs of one id: each event is its own customer's or an orphan's.
    campaign.customers = [customer("C10"), customer("C2"), customer("C3")]
    campaign.consents = [event("denied", "2026-01-01T09:00:00", customer_id="C3"),
                         event("granted", "2026-01-01T10:00:00", customer_id="C3"),
                         event("granted", "2026-01-01T10:00:00", customer_id="C25"),
                         event("granted", "2026-01-01T10:00:00", customer_id="C25"),
                         event("granted", "2026-01-01T10:00:00", customer_id="C1"),
                         event("granted", "2026-01-01T10:00:00", customer_id="C100"),
                         event("granted", "2026-01-01T10:00:00", customer_id="C10"),
                         event("granted", "2026-01-01T10:00:00", customer_id="C25"),
                         event("granted", "2026-01-01T10:00:00", customer_id="B1"),
                         event("granted", "2026-01-01T10:00:00", customer_id="D1")]
    run = build(campaign)
    assert {c: outcome(run, c, "email") for c in ("C10", "C2", "C3")} == {"C10": GRANTED, "C2": NONE, "C3": GRANTED}
    assert run.summary()["orphan_consent_ids"] == {"count": 5, "examples": ["B1", "C1", "C100", "C25", "D1"]}

def test_an_empty_consents_file_means_state_none_for_everyone(campaign):
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.consents = []
    run = build(campaign)
    assert run.sendable("email") == {}
    assert {c: r["reason_code"] for c, r in run.excluded("email").items()} == {"C1": NONE, "C2": NONE}
