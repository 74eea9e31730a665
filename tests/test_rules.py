"""The rules of contract section 6, R1–R11, their precedence and the legal basis of a sendable row.

Each rule is tested where it applies and where it must not. Every test builds a tiny inline
campaign through the CLI (see conftest.py): marketing, all five channels, as_of 2026-12-01,
campaign name `test-campaign`, unless the test says otherwise.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiencecli.datetimes import HELSINKI_TIME_FORMAT, helsinki_time_text
from conftest import customer
from conftest import consent, build, outcome

CHANNELS = ("email", "sms", "phone", "post", "social")
PURPOSES = ("marketing", "service", "survey", "contract", "legal")
CONSENT_PURPOSES = ("marketing", "service", "survey")
# The legal basis of a fully reachable customer with a granted channel=all purpose=all consent.
BASIS_WITH_CONSENT = {"marketing": "consent", "service": "consent", "survey": "consent",
                      "contract": "contract", "legal": "legal_obligation"}
NAME = "test-campaign"


def all_reasons(run, customer_id: str, channel: str) -> str:
    return run.excluded(channel)[customer_id]["all_reasons"]


def detail(run, customer_id: str, channel: str) -> str:
    return run.excluded(channel)[customer_id]["detail"]


def bucket(customer_id: str, name: str = NAME) -> float:
    digest = hashlib.sha256((name + ":" + customer_id).encode("utf-8")).hexdigest()
    return int(digest[:16], 16) / 2**64 * 100


# ---------------------------------------------------------------------------------------------
# R1 segment_not_targeted


def test_segments_default_to_private_and_business(campaign):
    campaign.customers = [customer("C1"), customer("C2", customer_type="business")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    for channel in CHANNELS:
        assert run.sendable(channel) == {"C1": "consent", "C2": "consent"}


@pytest.mark.parametrize("purpose", PURPOSES)
def test_private_customer_is_not_targeted_by_a_business_only_campaign(campaign, purpose):
    campaign.campaign = {"purpose": purpose, "segments": ["business"]}
    campaign.customers = [customer("C1"), customer("C2", customer_type="business")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "segment_not_targeted"
        assert outcome(run, "C2", channel) == BASIS_WITH_CONSENT[purpose]


@pytest.mark.parametrize("purpose", PURPOSES)
def test_business_contact_is_not_targeted_by_a_private_only_campaign(campaign, purpose):
    campaign.campaign = {"purpose": purpose, "segments": ["private"]}
    campaign.customers = [customer("C1"), customer("C2", customer_type="business")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == BASIS_WITH_CONSENT[purpose]
        assert outcome(run, "C2", channel) == "segment_not_targeted"


def test_customer_type_is_compared_case_insensitively(campaign):
    campaign.campaign = {"segments": ["business"]}
    campaign.customers = [customer("C1", customer_type=" Business ")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "consent"


# ---------------------------------------------------------------------------------------------
# R2 deceased


@pytest.mark.parametrize("purpose", PURPOSES)
def test_customer_deceased_on_the_as_of_date_is_excluded(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1", deceased_date="2026-12-01")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "deceased"


@pytest.mark.parametrize("purpose", PURPOSES)
def test_customer_deceased_the_day_after_as_of_is_not_excluded(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1", deceased_date="2026-12-02")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == BASIS_WITH_CONSENT[purpose]


def test_customer_deceased_before_as_of_in_finnish_date_format_is_excluded(campaign):
    campaign.customers = [customer("C1", deceased_date="5.3.2025"), customer("C2", deceased_date="05.03.2027")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "deceased"
    assert outcome(run, "C2", "phone") == "consent"


def test_deceased_compares_the_helsinki_calendar_date_of_as_of(campaign):
    # 2026-11-30T22:30Z is 2026-12-01 00:30 in Helsinki: the date of as_of is 2026-12-01.
    campaign.campaign = {"as_of": "2026-11-30T22:30:00+00:00"}
    campaign.customers = [customer("C1", deceased_date="2026-12-01")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "deceased"


def test_deceased_detail_is_written(campaign):
    campaign.customers = [customer("C1", deceased_date="2026-11-02")]
    run = build(campaign)
    assert detail(run, "C1", "phone")


# ---------------------------------------------------------------------------------------------
# R3 no_active_contract


@pytest.mark.parametrize("purpose", ["contract", "legal"])
def test_contract_and_legal_exclude_customers_without_an_active_holding(campaign, purpose):
    campaign.campaign = {"purpose": purpose, "product_group": "pension"}
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.holdings = [{"customer_id": "C2", "product_group": "pension", "start_date": "2020-01-01"}]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "no_active_contract"
        assert outcome(run, "C2", channel) == BASIS_WITH_CONSENT[purpose]


@pytest.mark.parametrize("purpose", CONSENT_PURPOSES)
def test_no_active_contract_does_not_apply_to_marketing_service_survey(campaign, purpose):
    campaign.campaign = {"purpose": purpose, "product_group": "pension"}
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1")]
    campaign.holdings = []
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "consent"


@pytest.mark.parametrize("purpose", ["contract", "legal"])
def test_contract_without_product_group_excludes_no_one_for_lack_of_holdings(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1")]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == BASIS_WITH_CONSENT[purpose]


@pytest.mark.parametrize("start, end, active", [
    ("2026-12-01", "", True),            # start = as_of
    ("2020-01-01", "2026-12-01", True),  # end = as_of: still active
    ("2020-01-01", "2026-11-30", False),  # ended before as_of
    ("2026-12-02", "", False),           # starts after as_of
    ("2020-01-01", "2027-06-30", True),
    ("1.1.2020", "31.12.2027", True),    # Finnish dates
    ("01.01.2020", "30.11.2026", False),
], ids=["start-is-as_of", "end-is-as_of", "ended-before", "starts-after", "open-window", "finnish-dates",
        "finnish-ended"])
def test_holding_is_active_by_its_dates(campaign, start, end, active):
    campaign.campaign = {"purpose": "contract", "product_group": "pension"}
    campaign.customers = [customer("C1")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": start, "end_date": end}]
    run = build(campaign)
    assert outcome(run, "C1", "post") == ("contract" if active else "no_active_contract")


def test_one_active_holding_among_ended_ones_is_enough(campaign):
    campaign.campaign = {"purpose": "contract", "product_group": "pension"}
    campaign.customers = [customer("C1")]
    campaign.holdings = [
        {"customer_id": "C1", "product_group": "pension", "start_date": "2010-01-01", "end_date": "2015-01-01"},
        {"customer_id": "C1", "product_group": "pension", "start_date": "2016-01-01"},
        {"customer_id": "C1", "product_group": "pension", "start_date": "2030-01-01"},
    ]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "contract"


def test_holding_of_another_product_group_is_not_an_active_contract(campaign):
    campaign.campaign = {"purpose": "contract", "product_group": "pension"}
    campaign.customers = [customer("C1")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "loan", "start_date": "2020-01-01"}]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "no_active_contract"


@pytest.mark.parametrize("campaign_group, holding_group", [
    ("pension", "PENSION"), ("Pension", "pension"), ("pension", " Pension "),
])
def test_product_group_is_compared_case_insensitively(campaign, campaign_group, holding_group):
    campaign.campaign = {"purpose": "contract", "product_group": campaign_group}
    campaign.customers = [customer("C1")]
    campaign.holdings = [{"customer_id": "C1", "product_group": holding_group, "start_date": "2020-01-01"}]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "contract"


def test_holding_dates_compare_the_helsinki_calendar_date_of_as_of(campaign):
    # 2026-11-30T22:30Z is 2026-12-01 in Helsinki, so a holding starting 2026-12-01 is active.
    campaign.campaign = {"purpose": "contract", "product_group": "pension", "as_of": "2026-11-30T22:30:00Z"}
    campaign.customers = [customer("C1")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2026-12-01"}]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "contract"


# ---------------------------------------------------------------------------------------------
# R4 paperless


@pytest.mark.parametrize("purpose", ["service", "contract", "legal"])
def test_paperless_customer_gets_no_post_for_service_contract_legal(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1", paperless="true")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "paperless"
    for channel in ("email", "sms", "phone", "social"):
        assert outcome(run, "C1", channel) == BASIS_WITH_CONSENT[purpose]


@pytest.mark.parametrize("purpose", ["marketing", "survey"])
def test_paperless_does_not_stop_marketing_or_survey_post(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1", paperless="true")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "consent"


def test_marketing_post_to_paperless_customer_without_consent_is_sendable(campaign):
    campaign.customers = [customer("C1", paperless="yes")]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "legitimate_interest"


@pytest.mark.parametrize("value, paperless", [
    ("true", True), ("1", True), ("yes", True), ("Y", True), ("kyllä", True), ("JA", True),
    ("false", False), ("0", False), ("no", False), ("ei", False), ("nej", False), ("", False),
])
def test_paperless_boolean_words(campaign, value, paperless):
    campaign.campaign = {"purpose": "service"}
    campaign.customers = [customer("C1", paperless=value)]
    run = build(campaign)
    assert outcome(run, "C1", "post") == ("paperless" if paperless else "legitimate_interest")


# ---------------------------------------------------------------------------------------------
# R5 missing_contact / R6 invalid_contact: email

EMAIL_CASES = [
    ("aino@example.fi", "valid"),
    ("Aino.Virtanen@Example.FI", "valid"),
    ("first.last+tag@sub.example.fi", "valid"),
    ("ä@öö.fi", "valid"),                      # Unicode letters in local part and domain
    ("a@o\u0308o\u0308.fi", "valid"),          # decomposed ö: valid after NFC
    ("a@123.fi", "valid"),                     # a label of ASCII digits
    ("a@my-host.example.fi", "valid"),
    ("a@example.suomi", "valid"),
    ("a@b", "invalid"),                        # one label only
    ("a@example.f1", "invalid"),               # TLD with a digit
    ("a@example.123", "invalid"),
    ("a@example.f", "invalid"),                # TLD of one letter
    ("a@-example.fi", "invalid"),              # label starts with a hyphen
    ("a@example-.fi", "invalid"),              # label ends with a hyphen
    ("a@exa_mple.fi", "invalid"),
    ("a@example..fi", "invalid"),              # empty label
    ("a@example.fi.", "invalid"),
    ("a@\u0663\u0664.fi", "invalid"),          # non-ASCII digits are not letters nor ASCII digits
    ("a@@example.fi", "invalid"),
    ("a@b@example.fi", "invalid"),             # two @
    ("@example.fi", "invalid"),                # empty local part
    ("aino virtanen@example.fi", "invalid"),   # white space in the local part
    ("aino\u00a0virtanen@example.fi", "invalid"),  # no-break space is white space too
    ("aino\tv@example.fi", "invalid"),
    ("aino.example.fi", "invalid"),            # no @
    ("", "missing"),
    ("   ", "missing"),
]


@pytest.mark.parametrize("email, verdict", EMAIL_CASES, ids=[repr(e) for e, _ in EMAIL_CASES])
def test_email_contact_point(campaign, email, verdict):
    campaign.customers = [customer("C1", email=email)]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    expected = {"valid": "consent", "invalid": "invalid_contact", "missing": "missing_contact"}[verdict]
    assert outcome(run, "C1", "email") == expected


def test_sendable_email_is_written_normalized(campaign):
    campaign.customers = [customer("C1", email="Aino.Virtanen@EXAMPLE.fi"),
                          customer("C2", email="a@o\u0308o\u0308.fi")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    emails = {r["customer_id"]: r["email"] for r in run.rows("email")}
    assert emails == {"C1": "aino.virtanen@example.fi", "C2": "a@\u00f6\u00f6.fi"}


def test_invalid_email_detail_says_why(campaign):
    campaign.customers = [customer("C1", email="a@b")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert detail(run, "C1", "email").strip()


def test_missing_email_does_not_touch_other_channels(campaign):
    campaign.customers = [customer("C1", email="")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "missing_contact"
    for channel in ("sms", "phone", "post", "social"):
        assert outcome(run, "C1", channel) == "consent"


# ---------------------------------------------------------------------------------------------
# R5/R6: sms and phone


@pytest.mark.parametrize("phone, country, sms, phone_channel", [
    ("040 123 4567", "", "consent", "consent"),
    ("+358 40 1234567", "", "consent", "consent"),
    ("00358401234567", "", "consent", "consent"),
    ("050 1234567", "", "consent", "consent"),
    ("(09) 123 4567", "", "invalid_contact", "consent"),     # landline: fine for phone, not for sms
    ("070 123 45 67", "SE", "consent", "consent"),         # Swedish mobile, region from country
    ("040 12", "", "invalid_contact", "invalid_contact"),   # not a valid number
    ("abc", "", "invalid_contact", "invalid_contact"),      # unparseable
    ("", "", "missing_contact", "missing_contact"),
], ids=["fi-mobile", "intl", "00-prefix", "050", "landline", "se-mobile", "too-short", "garbage", "missing"])
def test_phone_contact_point_for_sms_and_phone(campaign, phone, country, sms, phone_channel):
    campaign.customers = [customer("C1", phone=phone, country=country)]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "sms") == sms
    assert outcome(run, "C1", "phone") == phone_channel


def test_landline_on_sms_is_invalid_contact_not_a_mobile(campaign):
    campaign.customers = [customer("C1", phone="(09) 123 4567")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "sms") == "invalid_contact"
    assert "mobile" in detail(run, "C1", "sms").lower()
    assert run.sendable("phone") == {"C1": "consent"}


def test_sendable_phone_is_written_in_e164(campaign):
    campaign.customers = [customer("C1", phone="040 123 4567"), customer("C2", phone="(09) 123 4567")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    assert {r["customer_id"]: r["phone"] for r in run.rows("sms")} == {"C1": "+358401234567"}
    assert {r["customer_id"]: r["phone"] for r in run.rows("phone")} == {"C1": "+358401234567",
                                                                         "C2": "+35891234567"}


# ---------------------------------------------------------------------------------------------
# R5/R6: post


@pytest.mark.parametrize("street, postal, city, country, expected", [
    ("Mannerheimintie 1", "00100", "Helsinki", "", "consent"),
    ("", "", "", "", "missing_contact"),                      # all three missing
    ("Mannerheimintie 1", "00100", "", "", "invalid_contact"),  # one missing
    ("", "00100", "Helsinki", "", "invalid_contact"),
    ("Mannerheimintie 1", "", "Helsinki", "", "invalid_contact"),
    ("Mannerheimintie 1", "", "", "", "invalid_contact"),      # two missing
    ("Mannerheimintie 1", "0010", "Helsinki", "", "invalid_contact"),   # FI: not 5 digits
    ("Mannerheimintie 1", "001000", "Helsinki", "FI", "invalid_contact"),
    ("Mannerheimintie 1", "FI-00100", "Helsinki", "FI", "invalid_contact"),
    ("Mannerheimintie 1", "1234", "Helsinki", "fi", "invalid_contact"),  # country compared case-insensitively
    ("Drottninggatan 1", "111 51", "Stockholm", "SE", "consent"),        # other countries: other formats
    ("Baker Street 221B", "NW1 6XE", "London", "GB", "consent"),
], ids=["complete", "all-missing", "no-city", "no-street", "no-postal", "two-missing", "fi-4-digits",
        "fi-6-digits", "fi-prefix", "fi-lowercase-country", "se-format", "gb-format"])
def test_postal_address_contact_point(campaign, street, postal, city, country, expected):
    campaign.customers = [customer("C1", street_address=street, postal_code=postal, city=city, country=country,
                                   phone="+358401234567")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "post") == expected


# ---------------------------------------------------------------------------------------------
# R5/R6: social


@pytest.mark.parametrize("email, phone, expected", [
    ("", "", "missing_contact"),
    ("a@b", "abc", "invalid_contact"),
    ("a@b", "", "invalid_contact"),
    ("", "040 12", "invalid_contact"),
    ("aino@example.fi", "", "consent"),
    ("", "040 123 4567", "consent"),
    ("a@b", "040 123 4567", "consent"),
    ("aino@example.fi", "abc", "consent"),
    ("", "(09) 123 4567", "consent"),  # social needs a valid phone, not a mobile
], ids=["both-missing", "both-invalid", "invalid-email-only", "invalid-phone-only", "email-only", "phone-only",
        "valid-phone-invalid-email", "valid-email-invalid-phone", "landline"])
def test_social_contact_point(campaign, email, phone, expected):
    campaign.customers = [customer("C1", email=email, phone=phone)]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "social") == expected


def test_social_row_hashes_only_the_valid_contact_point(campaign):
    campaign.customers = [
        customer("C1", email="John_Smith@Gmail.com", phone=""),
        customer("C2", email="not-an-email", phone="+1 650 555 1212"),
        customer("C3", email="aino3@example.fi", phone="040 123 4567"),
        customer("C4", email="aino4@example.fi", phone="abc"),
    ]
    campaign.consents = [consent(c) for c in ("C1", "C2", "C3", "C4")]
    run = build(campaign)
    rows = {r["customer_id"]: r for r in run.rows("social")}
    assert set(rows) == {"C1", "C2", "C3", "C4"}
    assert rows["C1"]["email_sha256"] == "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    assert rows["C1"]["phone_sha256"] == ""
    assert rows["C2"]["email_sha256"] == ""
    assert rows["C2"]["phone_sha256"] == "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
    assert rows["C3"]["email_sha256"] == hashlib.sha256(b"aino3@example.fi").hexdigest()
    assert rows["C3"]["phone_sha256"] == hashlib.sha256(b"358401234567").hexdigest()
    assert rows["C4"]["phone_sha256"] == ""


def test_missing_and_invalid_contact_are_never_together(campaign):
    campaign.customers = [
        customer("C1", email="", phone="", street_address="", postal_code="", city=""),
        customer("C2", email="a@b", phone="abc", street_address="Katu 1", postal_code="", city=""),
        customer("C3", email="", phone="(09) 123 4567", postal_code="123"),
        customer("C4", email="a@b", phone=""),
    ]
    run = build(campaign)
    rows = run.rows("exclusions")
    assert rows
    for row in rows:
        reasons = row["all_reasons"].split(";")
        assert not {"missing_contact", "invalid_contact"} <= set(reasons), row


# ---------------------------------------------------------------------------------------------
# R7 customer_denied


@pytest.mark.parametrize("purpose", CONSENT_PURPOSES)
def test_denied_consent_excludes_on_that_channel_for_that_purpose(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1", channel="all", purpose=purpose, status="granted"),
                         consent("C1", channel="phone", purpose=purpose, status="denied", at="2026-06-01T10:00:00")]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "customer_denied"
    for channel in ("email", "sms", "post", "social"):
        assert outcome(run, "C1", channel) == "consent"


@pytest.mark.parametrize("purpose", ["contract", "legal"])
def test_contract_and_legal_ignore_denied_consent(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1", status="denied"),
                         consent("C1", channel="email", purpose="marketing", status="denied")]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == BASIS_WITH_CONSENT[purpose]


def test_customer_denied_detail_has_recorded_at_iso_and_source(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1", channel="phone", purpose="marketing", status="denied",
                                 at="2026-11-05T14:30:00", source="customer_service")]
    run = build(campaign)
    text = detail(run, "C1", "phone")
    assert "2026-11-05T14:30" in text
    assert "customer_service" in text


def test_customer_denied_detail_cuts_a_source_over_200_characters_to_199_and_an_ellipsis(campaign):
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.consents = [consent("C1", channel="phone", purpose="marketing", status="denied", source="ö" * 201),
                         consent("C2", channel="phone", purpose="marketing", status="denied", source="x" * 200)]
    run = build(campaign)
    assert f"source {'ö' * 199}… " in detail(run, "C1", "phone") and "ö" * 200 not in detail(run, "C1", "phone")
    assert f"source {'x' * 200} " in detail(run, "C2", "phone")


def test_suppression_detail_cuts_a_list_name_over_200_characters(campaign):
    name = "r" * 250
    campaign.customers = [customer("C1")]
    campaign.lists = [{"name": name, "kind": "robinson", "rows": [{"customer_id": "C1"}]}]
    run = build(campaign)
    assert detail(run, "C1", "phone") == f"matched {'r' * 199}… (customer_id)"


def test_customer_denied_detail_gives_recorded_at_in_iso_8601_for_finnish_input(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1", channel="phone", purpose="marketing", status="denied",
                                 at="5.11.2026 9.07", source="unsubscribe_link")]
    run = build(campaign)
    text = detail(run, "C1", "phone")
    assert "2026-11-05T09:07" in text
    assert "unsubscribe_link" in text


def test_customer_denied_detail_gives_recorded_at_in_helsinki_time_with_its_offset(campaign):
    campaign.customers = [customer("C1"), customer("C2", email="c2@example.fi"), customer("C3", email="c3@example.fi")]
    campaign.consents = [consent("C1", channel="email", status="denied", at="2026-07-01T10:00:00Z"),
                         consent("C2", channel="email", status="denied", at="2026-01-15T10:00:00+00:00"),
                         consent("C3", channel="email", status="denied", at="2026-10-25T03:30:00.25+03:00")]
    run = build(campaign)
    assert detail(run, "C1", "email").startswith("consent denied at 2026-07-01T13:00:00+03:00 source ")
    assert detail(run, "C2", "email").startswith("consent denied at 2026-01-15T12:00:00+02:00 source ")
    assert detail(run, "C3", "email").startswith("consent denied at 2026-10-25T03:30:00.250+03:00 source ")


def one_by_one_helsinki_text(values: list) -> list:
    series = pl.Series(values, dtype=pl.Datetime("us", "UTC"))
    return series.dt.convert_time_zone("Europe/Helsinki").dt.to_string(HELSINKI_TIME_FORMAT).to_list()


# Both clock changes of 2026 (UTC), a fraction of a second, a missing value: within a few
# years, so that the texts are put together from the tables of hours.
CLOCK_CHANGES = [dt.datetime(2026, 3, 29, 0, 59, 59), dt.datetime(2026, 3, 29, 1), dt.datetime(2026, 10, 25, 0, 59, 59),
                 dt.datetime(2026, 10, 25, 1), dt.datetime(2026, 10, 25, 0, 30, 0, 250000), dt.datetime(2024, 12, 31, 23),
                 None]


@pytest.mark.parametrize("values", [
    CLOCK_CHANGES,
    [dt.datetime(1965, 6, 1, 12, 0, 7), dt.datetime(1969, 12, 31, 22, 59, 59), dt.datetime(1970, 1, 1, 0, 0, 1)],
    [dt.datetime(1910, 1, 1, 12), dt.datetime(1910, 1, 2)],  # Helsinki's offset before 1921 was not whole hours
    [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59)],  # more hours than values
    [None, None],
    [],
])
def test_helsinki_time_text_is_each_value_formatted(values):
    values = [v and v.replace(tzinfo=dt.timezone.utc) for v in values]
    made = helsinki_time_text(pl.Series(values, dtype=pl.Datetime("us", "UTC")))
    assert made.to_list() == one_by_one_helsinki_text(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2029, 12, 31))),
                max_size=40))  # within 100,000 hours: put together from the tables
def test_helsinki_time_text_equals_formatting_each_value(values):
    values = [v and v.replace(tzinfo=dt.timezone.utc) for v in values]
    made = helsinki_time_text(pl.Series(values, dtype=pl.Datetime("us", "UTC")))
    assert made.to_list() == one_by_one_helsinki_text(values)


# ---------------------------------------------------------------------------------------------
# R9 no_consent


def test_marketing_email_and_sms_without_consent_are_excluded_for_no_consent(campaign):
    campaign.customers = [customer("C1")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "no_consent"
    assert outcome(run, "C1", "sms") == "no_consent"


@pytest.mark.parametrize("channel", ["phone", "post", "social"])
def test_no_consent_does_not_apply_to_phone_post_social(campaign, channel):
    campaign.customers = [customer("C1")]
    run = build(campaign)
    assert outcome(run, "C1", channel) == "legitimate_interest"


@pytest.mark.parametrize("purpose", ["service", "survey"])
@pytest.mark.parametrize("channel", ["email", "sms"])
def test_no_consent_does_not_apply_to_service_or_survey(campaign, purpose, channel):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1")]
    run = build(campaign)
    assert outcome(run, "C1", channel) == "legitimate_interest"


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_existing_customer_exception_with_active_holding_of_the_product_group(campaign, channel):
    campaign.campaign = {"product_group": "pension"}
    campaign.customers = [customer("C1"), customer("C2"), customer("C3"), customer("C4")]
    campaign.holdings = [
        {"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"},
        {"customer_id": "C2", "product_group": "loan", "start_date": "2020-01-01"},
        {"customer_id": "C3", "product_group": "pension", "start_date": "2020-01-01", "end_date": "2026-11-30"},
        {"customer_id": "C4", "product_group": "pension", "start_date": "2026-12-02"},
    ]
    run = build(campaign)
    assert outcome(run, "C1", channel) == "existing_customer"
    assert outcome(run, "C2", channel) == "no_consent"   # another product group
    assert outcome(run, "C3", channel) == "no_consent"   # holding ended
    assert outcome(run, "C4", channel) == "no_consent"   # holding not started


def test_existing_customer_exception_compares_product_group_case_insensitively(campaign):
    campaign.campaign = {"product_group": "Pension"}
    campaign.customers = [customer("C1")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "PENSION", "start_date": "2020-01-01"}]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "existing_customer"


def test_no_holding_gives_the_existing_customer_exception_without_a_campaign_product_group(campaign):
    campaign.customers = [customer("C1")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "no_consent"
    assert outcome(run, "C1", "sms") == "no_consent"


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_b2b_exception_for_business_contact_in_a_targeted_role(campaign, channel):
    campaign.campaign = {"business_roles": ["ceo", "CFO"]}
    campaign.customers = [
        customer("C1", customer_type="business", business_role="ceo"),
        customer("C2", customer_type="business", business_role="Cfo"),
        customer("C3", customer_type="business", business_role="hr"),
        customer("C4", customer_type="business"),
        customer("C5", customer_type="private", business_role="ceo"),
    ]
    run = build(campaign)
    assert outcome(run, "C1", channel) == "b2b_legitimate_interest"
    assert outcome(run, "C2", channel) == "b2b_legitimate_interest"  # role compared case-insensitively
    assert outcome(run, "C3", channel) == "no_consent"   # role not targeted
    assert outcome(run, "C4", channel) == "no_consent"   # no role
    assert outcome(run, "C5", channel) == "no_consent"   # private customer: no b2b exception


def test_without_business_roles_no_one_gets_the_b2b_exception(campaign):
    campaign.customers = [customer("C1", customer_type="business", business_role="ceo")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "no_consent"
    assert outcome(run, "C1", "sms") == "no_consent"


def test_denied_without_exception_fails_both_customer_denied_and_no_consent(campaign):
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1", purpose="marketing", status="denied")]
    run = build(campaign)
    for channel in ("email", "sms"):
        assert outcome(run, "C1", channel) == "customer_denied"
        assert all_reasons(run, "C1", channel) == "customer_denied;no_consent"
    assert all_reasons(run, "C1", "phone") == "customer_denied"


def test_denied_with_active_holding_is_customer_denied_alone(campaign):
    campaign.campaign = {"product_group": "pension"}
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1", purpose="marketing", status="denied")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    run = build(campaign)
    for channel in ("email", "sms"):
        assert outcome(run, "C1", channel) == "customer_denied"
        assert all_reasons(run, "C1", channel) == "customer_denied"


def test_denied_b2b_contact_is_customer_denied_alone(campaign):
    campaign.campaign = {"business_roles": ["ceo"]}
    campaign.customers = [customer("C1", customer_type="business", business_role="ceo")]
    campaign.consents = [consent("C1", channel="email", purpose="marketing", status="denied")]
    run = build(campaign)
    assert all_reasons(run, "C1", "email") == "customer_denied"
    assert outcome(run, "C1", "sms") == "b2b_legitimate_interest"


# ---------------------------------------------------------------------------------------------
# legal_basis


@pytest.mark.parametrize("purpose, basis", [("legal", "legal_obligation"), ("contract", "contract")])
def test_legal_and_contract_purposes_have_their_own_basis_on_every_channel(campaign, purpose, basis):
    campaign.campaign = {"purpose": purpose, "business_roles": ["ceo"]}
    campaign.customers = [customer("C1"), customer("C2", customer_type="business", business_role="ceo")]
    campaign.consents = [consent("C1", status="granted")]
    run = build(campaign)
    for channel in CHANNELS:
        assert run.sendable(channel) == {"C1": basis, "C2": basis}


def test_granted_consent_beats_existing_customer_and_b2b(campaign):
    campaign.campaign = {"product_group": "pension", "business_roles": ["ceo"]}
    campaign.customers = [customer("C1", customer_type="business", business_role="ceo")]
    campaign.consents = [consent("C1", channel="email", purpose="marketing")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "consent"
    assert outcome(run, "C1", "sms") == "existing_customer"


def test_existing_customer_beats_b2b(campaign):
    campaign.campaign = {"product_group": "pension", "business_roles": ["ceo"]}
    campaign.customers = [customer("C1", customer_type="business", business_role="ceo")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "existing_customer"
    assert outcome(run, "C1", "sms") == "existing_customer"


@pytest.mark.parametrize("channel", ["phone", "post", "social"])
def test_marketing_phone_post_social_without_consent_is_legitimate_interest_even_for_holders(campaign, channel):
    campaign.campaign = {"product_group": "pension", "business_roles": ["ceo"]}
    campaign.customers = [customer("C1"), customer("C2", customer_type="business", business_role="ceo")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    run = build(campaign)
    assert run.sendable(channel) == {"C1": "legitimate_interest", "C2": "legitimate_interest"}


@pytest.mark.parametrize("channel", CHANNELS)
def test_granted_marketing_consent_is_the_basis_on_every_channel(campaign, channel):
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1", channel=channel, purpose="marketing")]
    run = build(campaign)
    assert outcome(run, "C1", channel) == "consent"


@pytest.mark.parametrize("purpose", ["service", "survey"])
def test_service_and_survey_without_consent_event_are_legitimate_interest(campaign, purpose):
    campaign.campaign = {"purpose": purpose, "product_group": "pension", "business_roles": ["ceo"]}
    campaign.customers = [customer("C1", customer_type="business", business_role="ceo"), customer("C2")]
    campaign.holdings = [{"customer_id": "C1", "product_group": "pension", "start_date": "2020-01-01"}]
    campaign.consents = [consent("C2", channel="all", purpose=purpose)]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "legitimate_interest"
        assert outcome(run, "C2", channel) == "consent"


def test_summary_counts_sendable_by_legal_basis(campaign):
    campaign.campaign = {"product_group": "pension", "business_roles": ["ceo"]}
    campaign.customers = [customer("C1"), customer("C2"),
                          customer("C3", customer_type="business", business_role="ceo"), customer("C4")]
    campaign.consents = [consent("C1", channel="email", purpose="marketing")]
    campaign.holdings = [{"customer_id": "C2", "product_group": "pension", "start_date": "2020-01-01"}]
    run = build(campaign)
    email = run.summary()["channels"]["email"]
    assert email["sendable_by_legal_basis"] == {"consent": 1, "existing_customer": 1, "b2b_legitimate_interest": 1}
    assert email["excluded_by_reason"] == {"no_consent": 1}
    assert email["candidates"] == 4 and email["sendable"] == 3 and email["excluded"] == 1


def test_summary_counts_are_in_the_contract_order_of_legal_bases_and_omit_zeros(campaign):
    campaign.campaign = {"product_group": "pension", "business_roles": ["ceo"]}
    campaign.customers = [customer("C1", customer_type="business", business_role="ceo"), customer("C2"),
                          customer("C3")]
    campaign.consents = [consent("C3", channel="email", purpose="marketing")]
    campaign.holdings = [{"customer_id": "C2", "product_group": "pension", "start_date": "2020-01-01"}]
    run = build(campaign)
    counts = run.summary()["channels"]["email"]["sendable_by_legal_basis"]
    assert list(counts.items()) == [("consent", 1), ("existing_customer", 1), ("b2b_legitimate_interest", 1)]


# ---------------------------------------------------------------------------------------------
# Precedence: reason_code, all_reasons, detail


def test_first_failing_rule_is_the_reason_and_all_reasons_lists_every_failure_in_order(campaign):
    campaign.campaign = {"segments": ["private"]}
    campaign.customers = [customer("C1", customer_type="business", deceased_date="2026-01-01", email="")]
    campaign.consents = [consent("C1", purpose="marketing", status="denied")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "segment_not_targeted"
    assert all_reasons(run, "C1", "email") == "segment_not_targeted;deceased;missing_contact;customer_denied;no_consent"
    assert all_reasons(run, "C1", "phone") == "segment_not_targeted;deceased;customer_denied"


def test_no_active_contract_comes_before_paperless(campaign):
    campaign.campaign = {"purpose": "contract", "product_group": "pension"}
    campaign.customers = [customer("C1", paperless="true", city="")]
    campaign.holdings = []
    run = build(campaign)
    assert outcome(run, "C1", "post") == "no_active_contract"
    assert all_reasons(run, "C1", "post") == "no_active_contract;paperless;invalid_contact"
    assert all_reasons(run, "C1", "email") == "no_active_contract"


def test_invalid_contact_denial_list_and_no_consent_are_all_listed(campaign):
    campaign.customers = [customer("C1", phone="(09) 123 4567")]
    campaign.consents = [consent("C1", channel="sms", purpose="marketing", status="denied")]
    campaign.lists = [{"name": "own-prohibitions", "kind": "internal", "rows": [{"customer_id": "C1"}]}]
    run = build(campaign)
    assert outcome(run, "C1", "sms") == "invalid_contact"
    assert all_reasons(run, "C1", "sms") == "invalid_contact;customer_denied;internal_prohibition;no_consent"
    assert all_reasons(run, "C1", "phone") == "internal_prohibition"


def test_all_reasons_always_starts_with_reason_code(campaign):
    campaign.campaign = {"segments": ["private"], "product_group": "pension"}
    campaign.customers = [
        customer("C1", customer_type="business", email=""),
        customer("C2", deceased_date="2026-11-01", phone="abc"),
        customer("C3", email="a@b", paperless="true"),
        customer("C4", street_address=""),
        customer("C5"),
    ]
    campaign.consents = [consent("C3", status="denied"), consent("C4", channel="email", purpose="marketing")]
    run = build(campaign)
    rows = run.rows("exclusions")
    assert len(rows) > 10
    for row in rows:
        assert row["all_reasons"].split(";")[0] == row["reason_code"], row
        assert row["detail"].strip(), row


def test_every_customer_is_decided_exactly_once_per_channel(campaign):
    campaign.customers = [customer("C1"), customer("C2", email=""), customer("C3", deceased_date="2020-01-01")]
    campaign.consents = [consent("C1")]
    run = build(campaign)
    for channel in CHANNELS:
        sendable, excluded = set(run.sendable(channel)), set(run.excluded(channel))
        assert sendable | excluded == {"C1", "C2", "C3"}
        assert not sendable & excluded
    exclusion_keys = [(r["customer_id"], r["channel"]) for r in run.rows("exclusions")]
    assert len(exclusion_keys) == len(set(exclusion_keys))


# ---------------------------------------------------------------------------------------------
# R10 duplicate_contact


def test_shared_email_keeps_the_smallest_customer_id(campaign):
    campaign.customers = [customer("C1", email="shared@example.fi"), customer("C2", email="Shared@Example.fi")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "consent"
    assert outcome(run, "C2", "email") == "duplicate_contact"
    assert all_reasons(run, "C2", "email") == "duplicate_contact"
    assert "C1" in detail(run, "C2", "email")
    for channel in ("sms", "phone", "post", "social"):
        assert outcome(run, "C2", channel) == "consent"


def test_every_duplicate_of_a_contact_point_names_the_one_kept(campaign):
    campaign.customers = [customer(c, email="shared@example.fi") for c in ("C4", "C2", "C3", "C1")] \
        + [customer("C5", email="other@example.fi"), customer("C6", email="OTHER@example.fi")]
    campaign.consents = [consent(c) for c in ("C2", "C3", "C4", "C5", "C6")]  # C1 has none: not sendable
    run = build(campaign)
    assert outcome(run, "C1", "email") == "no_consent"
    assert outcome(run, "C2", "email") == "consent"
    for duplicate in ("C3", "C4"):
        assert outcome(run, duplicate, "email") == "duplicate_contact"
        assert detail(run, duplicate, "email") == "same contact as kept customer_id C2"
    assert outcome(run, "C5", "email") == "consent"
    assert detail(run, "C6", "email") == "same contact as kept customer_id C5"


@pytest.mark.parametrize("hashes", ["as made", "all colliding", "colliding in pairs"])
def test_duplicates_are_found_by_their_contact_point_whatever_its_hash(campaign, monkeypatch, hashes):
    """Hashes only narrow down which rows are compared; colliding ones must not make duplicates."""
    import audiencecli.stages

    if hashes != "as made":
        def colliding(keys):
            return (keys.hash() % 2) if hashes == "colliding in pairs" else keys.hash() * 0
        monkeypatch.setattr(audiencecli.stages, "key_hashes", colliding)
    emails = {"C1": "a@example.fi", "C2": "b@example.fi", "C3": "a@example.fi", "C4": "c@example.fi",
              "C5": "b@example.fi", "C6": "A@example.fi", "C7": "d@example.fi"}
    campaign.customers = [customer(c, email=e) for c, e in emails.items()]
    campaign.consents = [consent(c) for c in emails]
    run = build(campaign)
    assert {c: outcome(run, c, "email") for c in emails} == {
        "C1": "consent", "C2": "consent", "C3": "duplicate_contact", "C4": "consent",
        "C5": "duplicate_contact", "C6": "duplicate_contact", "C7": "consent"}
    assert [detail(run, c, "email") for c in ("C3", "C5", "C6")] == [
        "same contact as kept customer_id C1", "same contact as kept customer_id C2",
        "same contact as kept customer_id C1"]

def test_customer_ids_are_compared_as_strings(campaign):
    campaign.customers = [customer("C9", email="shared@example.fi"), customer("C10", email="shared@example.fi")]
    campaign.consents = [consent("C9"), consent("C10")]
    run = build(campaign)
    assert outcome(run, "C10", "email") == "consent"
    assert outcome(run, "C9", "email") == "duplicate_contact"
    assert "C10" in detail(run, "C9", "email")


def test_dedupe_false_keeps_every_duplicate(campaign):
    campaign.campaign = {"dedupe": False}
    campaign.customers = [customer("C1", email="shared@example.fi", phone="040 123 4567"),
                          customer("C2", email="shared@example.fi", phone="+358401234567")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    for channel in CHANNELS:
        assert run.sendable(channel) == {"C1": "consent", "C2": "consent"}


def test_shared_phone_in_any_format_is_a_duplicate_on_sms_and_phone(campaign):
    campaign.customers = [customer("C1", phone="040 123 4567"), customer("C2", phone="00358 40 1234567")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    for channel in ("sms", "phone"):
        assert outcome(run, "C2", channel) == "duplicate_contact"
        assert "C1" in detail(run, "C2", channel)
    assert outcome(run, "C2", "email") == "consent"


def test_social_is_never_deduplicated(campaign):
    campaign.customers = [customer("C1", email="shared@example.fi", phone="040 123 4567"),
                          customer("C2", email="shared@example.fi", phone="040 123 4567")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    assert run.sendable("social") == {"C1": "consent", "C2": "consent"}


def test_shared_postal_address_and_last_name_is_a_duplicate_on_post(campaign):
    campaign.customers = [
        customer("C1", first_name="Aino", last_name="Virtanen", street_address="Mannerheimintie 5 A",
                 postal_code="00100"),
        customer("C2", first_name="Matti", last_name="VIRTANEN", street_address="mannerheimintie 5-a",
                 postal_code="00100", city="HELSINKI"),
        customer("C3", first_name="Aino", last_name="Korhonen", street_address="Mannerheimintie 5 A",
                 postal_code="00100"),
    ]
    campaign.consents = [consent("C1"), consent("C2"), consent("C3")]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "consent"
    assert outcome(run, "C2", "post") == "duplicate_contact"
    assert "C1" in detail(run, "C2", "post")
    assert outcome(run, "C3", "post") == "consent"   # another last name: another household member


def test_post_key_is_street_postal_code_and_last_name_only(campaign):
    # The city and first name are not part of the key: same street, postal code and last name.
    campaign.customers = [
        customer("C1", first_name="Aino", last_name="Virtanen", street_address="Katu 1", postal_code="00100",
                 city="Helsinki"),
        customer("C2", first_name="Eino", last_name="Virtanen", street_address="Katu 1", postal_code="00100",
                 city="Helsingfors"),
    ]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    assert outcome(run, "C2", "post") == "duplicate_contact"


def test_post_key_treats_a_missing_last_name_as_empty(campaign):
    campaign.customers = [
        customer("C1", last_name="", street_address="Katu 1", postal_code="00100"),
        customer("C2", last_name="", street_address="Katu 1", postal_code="00100"),
    ]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "consent"
    assert outcome(run, "C2", "post") == "duplicate_contact"


def test_duplicate_of_an_excluded_customer_stays_sendable(campaign):
    campaign.customers = [customer("C1", email="shared@example.fi", phone="040 123 4567"),
                          customer("C2", email="shared@example.fi", phone="040 123 4567"),
                          customer("C3", deceased_date="2026-01-01", street_address="Katu 1"),
                          customer("C4", street_address="Katu 1", last_name="Virtanen3")]
    # C1 has no consent: not sendable on email or sms, so C2 is not a duplicate there.
    campaign.consents = [consent("C2"), consent("C3"), consent("C4")]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "no_consent"
    assert outcome(run, "C2", "email") == "consent"
    assert outcome(run, "C2", "sms") == "consent"
    assert outcome(run, "C2", "phone") == "duplicate_contact"   # C1 is sendable on phone
    assert outcome(run, "C3", "post") == "deceased"
    assert outcome(run, "C4", "post") == "consent"


@pytest.mark.parametrize("purpose", PURPOSES)
def test_duplicate_contact_applies_to_every_purpose(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    campaign.customers = [customer("C1", phone="040 123 4567"), customer("C2", phone="040 123 4567")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    assert outcome(run, "C2", "phone") == "duplicate_contact"
    assert outcome(run, "C1", "phone") == BASIS_WITH_CONSENT[purpose]


def test_three_customers_sharing_an_email_keep_only_the_smallest(campaign):
    campaign.customers = [customer(c, email="shared@example.fi") for c in ("C3", "C1", "C2")]
    campaign.consents = [consent(c) for c in ("C1", "C2", "C3")]
    run = build(campaign)
    assert run.sendable("email") == {"C1": "consent"}
    for c in ("C2", "C3"):
        assert outcome(run, c, "email") == "duplicate_contact"
        assert "C1" in detail(run, c, "email")


# ---------------------------------------------------------------------------------------------
# R11 control_group


def test_control_group_follows_the_bucket_formula(campaign):
    name = "pension-webinar-2026-12"
    ids = [f"C{i}" for i in range(1, 41)]
    held = {c for c in ids if bucket(c, name) < 30}
    assert held and held != set(ids)
    campaign.campaign = {"name": name, "holdout_percent": 30}
    campaign.customers = [customer(c) for c in ids]
    campaign.consents = [consent(c) for c in ids]
    run = build(campaign)
    for channel in CHANNELS:
        assert set(run.sendable(channel)) == set(ids) - held, channel
        excluded = run.excluded(channel)
        assert set(excluded) == held
        for c in held:
            assert excluded[c]["reason_code"] == "control_group"
            assert excluded[c]["all_reasons"] == "control_group"


def test_control_group_hashed_a_slice_of_customers_at_a_time_follows_the_same_formula(campaign, monkeypatch):
    from audiencecli import stages

    monkeypatch.setattr(stages, "BUCKET_SLICE", 7)  # 40 customers: six slices, the last one short
    name = "pension-webinar-2026-12"
    ids = [f"C{i}" for i in range(1, 41)]
    held = {c for c in ids if bucket(c, name) < 30}
    campaign.campaign = {"name": name, "holdout_percent": 30}
    campaign.customers = [customer(c) for c in ids]
    campaign.consents = [consent(c) for c in ids]
    run = build(campaign)
    assert set(run.excluded("email")) == held
    assert set(run.sendable("email")) == set(ids) - held


def test_holdout_boundary_is_strictly_below(campaign):
    b = bucket("C1")
    campaign.customers = [customer("C1")]
    campaign.consents = [consent("C1")]
    campaign.campaign = {"holdout_percent": b}
    assert outcome(build(campaign), "C1", "phone") == "consent"
    campaign.campaign = {"holdout_percent": math.nextafter(b, 100.0)}
    assert outcome(build(campaign), "C1", "phone") == "control_group"


def test_holdout_zero_holds_out_no_one(campaign):
    ids = [f"C{i}" for i in range(1, 21)]
    campaign.campaign = {"holdout_percent": 0}
    campaign.customers = [customer(c) for c in ids]
    campaign.consents = [consent(c) for c in ids]
    run = build(campaign)
    for channel in CHANNELS:
        assert set(run.sendable(channel)) == set(ids)


def test_holdout_hundred_holds_out_everyone_sendable(campaign):
    campaign.campaign = {"holdout_percent": 100}
    campaign.customers = [customer("C1"), customer("C2", email="")]
    campaign.consents = [consent("C1"), consent("C2")]
    run = build(campaign)
    for channel in CHANNELS:
        assert run.sendable(channel) == {}
    assert outcome(run, "C2", "email") == "missing_contact"
    assert outcome(run, "C2", "phone") == "control_group"


def test_held_out_customer_keeps_its_other_exclusion_reasons(campaign):
    ids = [f"C{i}" for i in range(1, 200)]
    target = next(c for c in ids if bucket(c) < 50)
    campaign.campaign = {"holdout_percent": 50}
    campaign.customers = [customer(target)]
    run = build(campaign)   # no consent: email/sms fail R9
    assert outcome(run, target, "email") == "no_consent"
    assert all_reasons(run, target, "email") == "no_consent"
    assert outcome(run, target, "sms") == "no_consent"
    for channel in ("phone", "post", "social"):
        assert outcome(run, target, channel) == "control_group"


def test_control_group_is_decided_before_dedupe(campaign):
    ids = sorted(f"C{i}" for i in range(1, 200))
    buckets = {c: bucket(c) for c in ids}
    small, large = next((a, b) for a in ids for b in ids if a < b and buckets[a] < 50 <= buckets[b])
    campaign.campaign = {"holdout_percent": 50}
    campaign.customers = [customer(small, email="shared@example.fi"), customer(large, email="shared@example.fi")]
    campaign.consents = [consent(small), consent(large)]
    run = build(campaign)
    assert outcome(run, small, "email") == "control_group"
    assert outcome(run, large, "email") == "consent"   # the held-out smaller id does not knock it out


@pytest.mark.parametrize("purpose", PURPOSES)
def test_control_group_applies_to_every_purpose(campaign, purpose):
    ids = [f"C{i}" for i in range(1, 200)]
    target = next(c for c in ids if bucket(c) < 50)
    keep = next(c for c in ids if bucket(c) >= 50)
    campaign.campaign = {"purpose": purpose, "holdout_percent": 50}
    campaign.customers = [customer(target), customer(keep)]
    campaign.consents = [consent(target), consent(keep)]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, target, channel) == "control_group"
        assert outcome(run, keep, channel) == BASIS_WITH_CONSENT[purpose]


@pytest.mark.parametrize("purpose", ["marketing", "service", "survey", "contract", "legal"])
def test_rules_scoped_to_a_frames_one_channel_decide_as_the_rules_scoped_per_row(purpose):
    """The build settles each rule's channels once per channel frame; explain and the rules
    table read the scope per row. Both must decide the same on the sample campaign's frames."""
    from dataclasses import replace as replaced
    from pathlib import Path

    from audiencecli import facts
    from audiencecli.config import load_config
    from audiencecli.inputs import load_inputs
    from audiencecli.stages import evaluate

    config = load_config(Path(__file__).parents[1] / "sample_data" / "campaign.toml")
    inputs = load_inputs(config)
    contacts = facts.contact_frame(inputs.customers.frame)
    campaign = replaced(facts.campaign_of(config), purpose=purpose)
    for channel, frame in facts.decision_frames(config, inputs, contacts).items():
        scoped = evaluate(frame, campaign, channel).collect()
        per_row = evaluate(frame, campaign).collect()
        assert scoped.equals(per_row), channel
        assert scoped.get_column("reason_code").is_not_null().any() or purpose in ("contract", "legal")


def test_all_reasons_texts_are_the_codes_of_a_mask_in_table_order_as_text_or_enumeration():
    import polars as pl

    from audiencecli.rules import REASON_BITS, reasons_text, reasons_type

    bits = list(REASON_BITS.values())
    masks = pl.Series([bits[0] | bits[3], bits[2], bits[0] | bits[3], bits[1] | bits[2] | bits[4]], dtype=pl.UInt32)
    codes = list(REASON_BITS)
    expected = [f"{codes[0]};{codes[3]}", codes[2], f"{codes[0]};{codes[3]}", f"{codes[1]};{codes[2]};{codes[4]}"]
    assert reasons_text(masks).to_list() == expected
    enumeration = reasons_type(masks)
    assert sorted(enumeration.categories.to_list()) == sorted(set(expected))
    as_enum = reasons_text(masks, enumeration)
    assert as_enum.dtype == enumeration and as_enum.cast(pl.String).to_list() == expected


def test_all_reasons_texts_are_found_for_masks_with_the_highest_bit_of_the_32():
    from audiencecli.rules import REASON_BITS, REASONS_MASK, reasons_text

    codes, bits = list(REASON_BITS), list(REASON_BITS.values())
    high = 1 << 31  # no code has it today; a mask this large must still find its text
    masks = pl.Series([bits[-1] | high, bits[0], bits[0] | bits[-1] | high, None], dtype=REASONS_MASK)
    assert reasons_text(masks).to_list() == [codes[-1], codes[0], f"{codes[0]};{codes[-1]}", None]


def test_every_column_a_rule_reads_is_a_fact_of_the_registry():
    from audiencecli.facts import FACTS, _ANY_CAMPAIGN
    from audiencecli.rules import RULES, legal_basis

    known = {fact.name for fact in FACTS}
    for rule in RULES:
        for expression in (rule.excludes(_ANY_CAMPAIGN), rule.detail(_ANY_CAMPAIGN), rule.fails(_ANY_CAMPAIGN)):
            assert set(expression.meta.root_names()) <= known, rule.code
    assert set(legal_basis(_ANY_CAMPAIGN).meta.root_names()) <= known
