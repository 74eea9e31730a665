"""Suppression lists (contract sections 3 and 5, rule R8): scope, keys, codes, evidence, staleness.

Every customer here has a granted channel=all purpose=all consent unless the test says otherwise,
so a customer a list does not touch is sendable on `consent` (`contract`/`legal_obligation` for
those purposes). Campaign defaults: marketing, all five channels, as_of 2026-12-01; conftest gives
robinson and telemarketing lists list_date 2026-11-20 unless a test sets one.
"""
from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from audiencecli.cli import app
from conftest import Run, customer
from conftest import consent, build, outcome

CHANNELS = ("email", "sms", "phone", "post", "social")
KIND_CODE = {"internal": "internal_prohibition", "robinson": "robinson_register",
             "telemarketing": "telemarketing_prohibition", "custom": "suppression_list"}
BASIS = {"marketing": "consent", "service": "consent", "survey": "consent", "contract": "contract",
         "legal": "legal_obligation"}


def suppression(name: str, kind: str, rows: list[dict] | None, **options) -> dict:
    return {"name": name, "kind": kind, "rows": rows, **options}


def people(campaign, *customers):
    campaign.customers = list(customers)
    campaign.consents = [consent(c["customer_id"]) for c in customers]


def row(run, customer_id: str, channel: str) -> dict:
    return run.excluded(channel)[customer_id]


def messages(run) -> str:
    """Everything the terminal showed, white space collapsed (terminal output may wrap lines)."""
    return " ".join(f"{run.stderr}\n{run.stdout}".split())


def build_loud(campaign, *args) -> Run:
    """A build without --quiet, as a user at a terminal runs it (notes are for them)."""
    config = campaign.write()
    out = campaign.root / "run"
    result = CliRunner().invoke(app, ["build", str(config), "--out", str(out), *args])
    assert result.exit_code == 0, result.stdout + result.stderr
    return Run(result.exit_code, result.stdout, result.stderr, out)


def assert_nothing_written(campaign, run):
    assert not run.dir.exists()
    assert [p.name for p in campaign.root.iterdir() if p.is_dir()] == []


# ---------------------------------------------------------------------------------------------
# Kind defaults: channels


@pytest.mark.parametrize("kind", ["robinson", "telemarketing"])
@pytest.mark.parametrize("channel", ["phone", "post"])
def test_robinson_and_telemarketing_suppress_phone_and_post(campaign, kind, channel):
    people(campaign, customer("C1"), customer("C2"))
    campaign.lists = [suppression("list-1", kind, [{"customer_id": "C1"}])]
    run = build(campaign)
    assert outcome(run, "C1", channel) == KIND_CODE[kind]
    assert outcome(run, "C2", channel) == "consent"


@pytest.mark.parametrize("kind", ["robinson", "telemarketing"])
@pytest.mark.parametrize("channel", ["email", "sms", "social"])
def test_robinson_and_telemarketing_do_not_touch_email_sms_social(campaign, kind, channel):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("list-1", kind, [{"customer_id": "C1"}])]
    run = build(campaign)
    assert outcome(run, "C1", channel) == "consent"


@pytest.mark.parametrize("channel", CHANNELS)
def test_internal_list_suppresses_every_channel(campaign, channel):
    people(campaign, customer("C1"), customer("C2"))
    campaign.lists = [suppression("own-prohibitions", "internal", [{"customer_id": "C1"}])]
    run = build(campaign)
    assert outcome(run, "C1", channel) == "internal_prohibition"
    assert outcome(run, "C2", channel) == "consent"


@pytest.mark.parametrize("channel", CHANNELS)
def test_custom_list_suppresses_only_its_given_channels(campaign, channel):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("bounced", "custom", [{"customer_id": "C1"}], channels=["email", "sms"])]
    run = build(campaign)
    expected = "suppression_list" if channel in ("email", "sms") else "consent"
    assert outcome(run, "C1", channel) == expected


def test_custom_list_without_channels_is_a_config_error(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("bounced", "custom", [{"customer_id": "C1"}])]
    run = campaign.build()
    assert run.exit_code == 2
    assert "channels" in messages(run)
    assert_nothing_written(campaign, run)


@pytest.mark.parametrize("channel", CHANNELS)
def test_given_channels_override_the_kind_default(campaign, channel):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-phone-only", "robinson", [{"customer_id": "C1"}], channels=["phone"])]
    run = build(campaign)
    assert outcome(run, "C1", channel) == ("robinson_register" if channel == "phone" else "consent")


# ---------------------------------------------------------------------------------------------
# Purposes


@pytest.mark.parametrize("purpose", ["service", "survey"])
def test_lists_default_to_marketing_only(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    people(campaign, customer("C1"))
    campaign.lists = [suppression("own-prohibitions", "internal", [{"customer_id": "C1"}]),
                      suppression("robinson-2026-11", "robinson", [{"customer_id": "C1"}])]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "consent"


def test_list_for_service_does_not_touch_a_marketing_campaign(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("service-optout", "internal", [{"customer_id": "C1"}], purposes=["service"])]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "consent"


def test_list_for_service_suppresses_a_service_campaign(campaign):
    campaign.campaign = {"purpose": "service"}
    people(campaign, customer("C1"))
    campaign.lists = [suppression("service-optout", "internal", [{"customer_id": "C1"}], purposes=["service"])]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "internal_prohibition"


@pytest.mark.parametrize("purpose", ["marketing", "survey"])
def test_list_with_several_purposes_applies_to_each(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    people(campaign, customer("C1"))
    campaign.lists = [suppression("no-contact", "internal", [{"customer_id": "C1"}],
                                  purposes=["marketing", "survey"])]
    run = build(campaign)
    assert outcome(run, "C1", "email") == "internal_prohibition"


@pytest.mark.parametrize("purpose", ["contract", "legal"])
def test_contract_and_legal_ignore_suppression_lists(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    people(campaign, customer("C1"))
    campaign.lists = [
        suppression("own-prohibitions", "internal", [{"customer_id": "C1"}],
                    purposes=["marketing", "service", "survey"]),
        suppression("robinson-2026-11", "robinson", [{"customer_id": "C1"}]),
        suppression("tm-2026-11", "telemarketing", [{"customer_id": "C1"}]),
        suppression("bounced", "custom", [{"customer_id": "C1"}], channels=list(CHANNELS),
                    purposes=["marketing", "service", "survey"]),
    ]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == BASIS[purpose]


# ---------------------------------------------------------------------------------------------
# A row's own channel


def test_row_channel_limits_the_row_to_that_channel(campaign):
    people(campaign, customer("C1"), customer("C2"))
    campaign.lists = [suppression("own-prohibitions", "internal", [
        {"customer_id": "C1", "channel": "email"},
        {"customer_id": "C2", "channel": ""},
    ])]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == ("internal_prohibition" if channel == "email" else "consent")
        assert outcome(run, "C2", channel) == "internal_prohibition"


def test_row_channel_is_compared_case_insensitively(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("own-prohibitions", "internal", [{"customer_id": "C1", "channel": " SMS "}])]
    run = build(campaign)
    assert outcome(run, "C1", "sms") == "internal_prohibition"
    assert outcome(run, "C1", "email") == "consent"


def test_row_channel_outside_the_lists_channels_is_a_data_error(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{"customer_id": "C1", "channel": "email"}])]
    run = campaign.build()
    assert run.exit_code == 3
    assert "robinson-2026-11" in messages(run)
    assert_nothing_written(campaign, run)


def test_row_channel_of_the_list_that_the_campaign_does_not_use_suppresses_nothing(campaign):
    campaign.campaign = {"channels": ["phone"]}
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{"customer_id": "C1", "channel": "post"}])]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "consent"


# ---------------------------------------------------------------------------------------------
# Keys


def test_customer_id_key_matches(campaign):
    people(campaign, customer("C1"), customer("C2"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{"customer_id": "C2"}])]
    run = build(campaign)
    assert outcome(run, "C2", "phone") == "robinson_register"
    assert "customer_id" in row(run, "C2", "phone")["detail"]
    assert outcome(run, "C1", "phone") == "consent"


@pytest.mark.parametrize("listed", ["aino1@example.fi", "AINO1@Example.FI", "  Aino1@EXAMPLE.fi  "])
def test_email_key_is_compared_trimmed_and_lower_cased(campaign, listed):
    people(campaign, customer("C1", email="Aino1@example.fi"), customer("C2"))
    campaign.lists = [suppression("own-prohibitions", "internal", [{"email": listed}])]
    run = build(campaign)
    for channel in CHANNELS:
        assert outcome(run, "C1", channel) == "internal_prohibition"
        assert outcome(run, "C2", channel) == "consent"
    assert "email" in row(run, "C1", "phone")["detail"]


def test_email_key_matches_even_when_the_email_is_not_valid(campaign):
    people(campaign, customer("C1", email="Aino at Example"))
    campaign.lists = [suppression("own-prohibitions", "internal", [{"email": "  AINO AT EXAMPLE "}])]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "internal_prohibition"
    assert outcome(run, "C1", "email") == "invalid_contact"
    assert row(run, "C1", "email")["all_reasons"] == "invalid_contact;internal_prohibition"


@pytest.mark.parametrize("listed", ["+358401234567", "0401234567", "040-123 4567", "00358 40 123 4567",
                                    "+358 40 123 4567", "(040) 123 4567"])
def test_phone_key_matches_in_any_format(campaign, listed):
    people(campaign, customer("C1", phone="040 123 4567"), customer("C2"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{"phone": listed}])]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "robinson_register"
    assert outcome(run, "C1", "post") == "robinson_register"
    assert "phone" in row(run, "C1", "phone")["detail"]
    assert outcome(run, "C2", "phone") == "consent"


def test_list_phone_without_country_code_is_read_as_finnish(campaign):
    # The customer is Swedish: 070 123 45 67 is +46701234567 for them, +358701234567 on a list.
    people(campaign, customer("C1", phone="070 123 45 67", country="SE"),
           customer("C2", phone="070 123 45 67", country="SE"))
    campaign.lists = [suppression("tm-2026-11", "telemarketing", [{"customer_id": "", "phone": "070 123 45 67"},
                                                                   {"customer_id": "C2", "phone": ""}]),
                      suppression("robinson-2026-11", "robinson", [{"phone": "+46 70 123 45 67"}])]
    run = build(campaign)
    assert row(run, "C1", "phone")["all_reasons"] == "robinson_register"
    assert row(run, "C2", "phone")["all_reasons"] == "robinson_register;telemarketing_prohibition"


NAME_ADDRESS_HEADER = ["first_name", "last_name", "street_address", "postal_code"]


@pytest.mark.parametrize("first, last, street, postal, matches", [
    ("Anna-Liisa", "Virtanen", "Mannerheimintie 12 A,5", "00100", True),
    ("ANNA LIISA", "VIRTANEN", "mannerheimintie 12 a 5", "00100", True),
    ("anna  liisa", "virtanen", "Mannerheimintie 12  A, 5", "00100", True),
    ("Anna–Liisa", "Virtanen.", "Mannerheimintie 12 A/5", "00100", True),   # en dash, '.' and '/' are P*
    ("Anna", "Virtanen", "Mannerheimintie 12 A,5", "00100", False),         # another first name
    ("Anna-Liisa", "Virtanen", "Mannerheimintie 12 A,5", "00101", False),   # another postal code
    ("Anna-Liisa", "Virtanen", "Mannerheimintie 12 A,5", "", False),        # three of four parts
    ("", "Virtanen", "Mannerheimintie 12 A,5", "00100", False),
], ids=["exact", "case-punctuation", "white-space", "dash-dot-slash", "other-first-name", "other-postal",
        "no-postal", "no-first-name"])
def test_name_and_address_key_needs_all_four_parts_after_normalization(campaign, first, last, street, postal,
                                                                       matches):
    people(campaign, customer("C1", first_name="Anna-Liisa", last_name="Virtanen",
                              street_address="Mannerheimintie 12 A,5", postal_code="00100"))
    campaign.lists = [suppression("robinson-2026-11", "robinson",
                                  [{"first_name": first, "last_name": last, "street_address": street,
                                    "postal_code": postal}], header=NAME_ADDRESS_HEADER)]
    run = build(campaign)
    assert outcome(run, "C1", "post") == ("robinson_register" if matches else "consent")
    if matches:
        assert "name_address" in row(run, "C1", "post")["detail"]


@pytest.mark.parametrize("missing", ["first_name", "last_name", "street_address", "postal_code"])
def test_customer_missing_a_name_and_address_part_is_not_matched_by_that_key(campaign, missing):
    people(campaign, customer("C1", **{"first_name": "Aino", "last_name": "Virtanen", "street_address": "Katu 1",
                                       "postal_code": "00100", missing: ""}))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{
        "first_name": "Aino", "last_name": "Virtanen", "street_address": "Katu 1", "postal_code": "00100"}],
        header=NAME_ADDRESS_HEADER)]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "consent"  # post needs the whole address anyway


def test_name_and_address_key_uses_full_case_folding_and_nfc(campaign):
    people(campaign,
           customer("C1", first_name="Jürgen", last_name="Mäkinen", street_address="Große Straße 1",
                    postal_code="00100"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{
        "first_name": "JU\u0308RGEN", "last_name": "Ma\u0308kinen", "street_address": "GROSSE STRASSE 1",
        "postal_code": "00100"}], header=NAME_ADDRESS_HEADER)]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "robinson_register"


@pytest.mark.parametrize("customer_street, listed_street, matches", [
    ("Mannerheimintie\u00a012", "Mannerheimintie 12", True),      # no-break space is white space
    ("Rue de l\u2019Église 3", "RUE DE L EGLISE 3", False),          # É is a letter, not punctuation
    ("Rue de l\u2019Église 3", "rue de l'église 3", True),           # ’ and ' are both punctuation
    ("«Katu» 3", "katu 3", True),                                    # quotation marks are punctuation
    ("Katu 1+2", "Katu 1 2", False),                                 # '+' is a symbol (Sm), not punctuation
])
def test_name_and_address_key_replaces_only_punctuation(campaign, customer_street, listed_street, matches):
    people(campaign, customer("C1", first_name="Aino", last_name="Virtanen", street_address=customer_street,
                              postal_code="00100"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{
        "first_name": "Aino", "last_name": "Virtanen", "street_address": listed_street, "postal_code": "00100"}],
        header=NAME_ADDRESS_HEADER)]
    run = build(campaign)
    assert outcome(run, "C1", "post") == ("robinson_register" if matches else "consent")


def test_any_key_of_a_row_is_enough(campaign):
    people(campaign, customer("C1"), customer("C2"), customer("C3"))
    campaign.lists = [suppression("own-prohibitions", "internal", [
        {"customer_id": "C1", "email": "nobody@example.fi", "phone": ""},
        {"customer_id": "C999", "email": "aino2@example.fi", "phone": ""},
        {"customer_id": "", "email": "", "phone": "040 0000003"},
    ])]
    run = build(campaign)
    for c in ("C1", "C2", "C3"):
        assert outcome(run, c, "post") == "internal_prohibition"


# ---------------------------------------------------------------------------------------------
# Codes and evidence


def test_one_code_per_kind_in_the_order_internal_robinson_telemarketing_custom(campaign):
    people(campaign, customer("C1"))
    matching = [{"customer_id": "C1"}]
    campaign.lists = [  # written in the reverse order on purpose
        suppression("bounced", "custom", matching, channels=["phone", "email"]),
        suppression("tm-2026-11", "telemarketing", matching),
        suppression("robinson-2026-11", "robinson", matching),
        suppression("own-prohibitions", "internal", matching),
    ]
    run = build(campaign)
    phone = row(run, "C1", "phone")
    assert phone["reason_code"] == "internal_prohibition"
    assert phone["all_reasons"] == ("internal_prohibition;robinson_register;telemarketing_prohibition;"
                                    "suppression_list")
    assert row(run, "C1", "email")["all_reasons"] == "internal_prohibition;suppression_list"
    assert row(run, "C1", "post")["all_reasons"] == ("internal_prohibition;robinson_register;"
                                                     "telemarketing_prohibition")


def test_two_lists_of_one_kind_give_one_code_and_the_detail_names_both(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-a", "robinson", [{"customer_id": "C1"}]),
                      suppression("robinson-b", "robinson", [{"phone": "+358400000001"}])]
    run = build(campaign)
    phone = row(run, "C1", "phone")
    assert phone["all_reasons"] == "robinson_register"
    assert "robinson-a" in phone["detail"] and "robinson-b" in phone["detail"]
    assert "customer_id" in phone["detail"] and "phone" in phone["detail"]


@pytest.mark.parametrize("key, list_row, customer_fields", [
    ("customer_id", {"customer_id": "C1"}, {}),
    ("email", {"email": "x@example.fi"}, {"email": "x@example.fi"}),
    ("phone", {"phone": "+358401234567"}, {"phone": "040 123 4567"}),
    ("name_address", {"first_name": "Aino", "last_name": "Virtanen", "street_address": "Katu 1",
                      "postal_code": "00100"},
     {"first_name": "Aino", "last_name": "Virtanen", "street_address": "Katu 1", "postal_code": "00100"}),
])
def test_detail_names_the_list_and_the_key_type(campaign, key, list_row, customer_fields):
    people(campaign, customer("C1", **customer_fields))
    campaign.lists = [suppression("own-prohibitions-2026", "internal", [list_row])]
    run = build(campaign)
    text = row(run, "C1", "phone")["detail"]
    assert "own-prohibitions-2026" in text
    assert key in text


def test_denial_comes_before_list_and_list_before_no_consent(campaign):
    campaign.customers = [customer("C1"), customer("C2")]
    campaign.consents = [consent("C1", purpose="marketing", status="denied")]
    campaign.lists = [suppression("own-prohibitions", "internal", [{"customer_id": "C1"}, {"customer_id": "C2"}])]
    run = build(campaign)
    assert row(run, "C1", "phone")["all_reasons"] == "customer_denied;internal_prohibition"
    assert row(run, "C1", "email")["all_reasons"] == "customer_denied;internal_prohibition;no_consent"
    assert row(run, "C2", "email")["all_reasons"] == "internal_prohibition;no_consent"


def test_a_listed_customer_is_not_a_duplicate_keeper(campaign):
    people(campaign, customer("C1", phone="040 123 4567"), customer("C2", phone="040 123 4567"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{"customer_id": "C1"}])]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "robinson_register"
    assert outcome(run, "C2", "phone") == "consent"


def test_summary_counts_list_rows(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("own-prohibitions", "internal", [{"customer_id": "C1"}, {"customer_id": "C7"}])]
    run = build(campaign)
    assert run.summary()["inputs"]["lists"] == {"own-prohibitions": 2}


# ---------------------------------------------------------------------------------------------
# Unusable list phones: a warning, not an error


@pytest.mark.parametrize("bad_phone", ["not a phone", "040 12", "123"])
def test_unusable_list_phone_is_a_warning_and_the_rows_other_keys_still_match(campaign, bad_phone):
    people(campaign, customer("C1"), customer("C2"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [
        {"customer_id": "C1", "phone": bad_phone},
        {"customer_id": "", "phone": "+358400000002"},
    ])]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "robinson_register"
    assert outcome(run, "C2", "phone") == "robinson_register"
    warnings = run.summary()["warnings"]
    assert warnings
    assert any("robinson-2026-11" in w for w in warnings)


def test_unusable_list_phone_matches_no_one(campaign):
    # The customer's own phone is just as unusable; an invalid number must not match anything.
    people(campaign, customer("C1", phone="abc"), customer("C2"))
    campaign.lists = [suppression("own-prohibitions", "internal", [{"phone": "abc"}])]
    run = build(campaign)
    assert outcome(run, "C1", "post") == "consent"
    assert outcome(run, "C2", "post") == "consent"
    assert run.summary()["warnings"]


def test_unusable_list_phones_are_warned_of_once_per_list_in_the_configs_order(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("own-prohibitions", "internal", [{"phone": "abc"}, {"phone": "123"}]),
                      suppression("robinson-2026-11", "robinson", [{"phone": "not a phone"}]),
                      suppression("telemarketing-2026-11", "telemarketing", [{"phone": "040 12"}])]
    for _ in range(3):  # lists are keyed two at a time: the order must not depend on which is done first
        warnings = build(campaign).summary()["warnings"]
        assert [w.split(":")[0] for w in warnings] == \
            ["list own-prohibitions", "list robinson-2026-11", "list telemarketing-2026-11"]
        assert warnings[0].startswith("list own-prohibitions: 2 phone values")


BAD_PHONES = ["abc", "040 12", "123", "not a phone", "99", "0", "x1"]


def test_unusable_list_phones_warning_names_the_file_and_the_first_lines_never_the_values(campaign):
    people(campaign, customer("C1"))
    rows = [{"phone": "040 123 4567"}] + [{"phone": phone} for phone in BAD_PHONES]  # lines 3 to 9
    campaign.lists = [suppression("own-prohibitions", "internal", rows)]
    [warning] = build(campaign).summary()["warnings"]
    assert warning.startswith("list own-prohibitions: 7 phone values cannot be parsed")
    assert "own-prohibitions.csv lines 3, 4, 5, 6, 7 and 2 more;" in warning
    assert not [phone for phone in BAD_PHONES if f" {phone}" in warning.replace("lines 3, 4, 5, 6, 7", "")]


def test_one_unusable_list_phone_is_named_by_its_line(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("own-prohibitions", "internal", [{"phone": "040 123 4567"}, {"phone": "abc"}])]
    [warning] = build(campaign).summary()["warnings"]
    assert "1 phone value cannot be parsed or is not a valid number, so it matches no one" in warning
    assert "own-prohibitions.csv line 3;" in warning and "abc" not in warning


def test_clean_run_has_no_warnings(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{"phone": "040 123 4567"}])]
    run = build(campaign)
    assert run.summary()["warnings"] == []


def test_validate_reports_an_unusable_list_phone_as_a_warning(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{"customer_id": "C1", "phone": "not a phone"}])]
    config = campaign.write()
    result = CliRunner().invoke(app, ["validate", str(config)])
    assert result.exit_code == 0, result.stdout + result.stderr
    text = " ".join((result.stdout + result.stderr).split())
    assert "robinson-2026-11" in text
    assert "warning" in text.lower()
    assert "robinson-2026-11.csv line 2;" in text and "not a phone" not in text


# ---------------------------------------------------------------------------------------------
# Staleness (section 5): fail closed


@pytest.mark.parametrize("kind", ["robinson", "telemarketing"])
def test_list_31_days_old_fails_closed_naming_list_date_and_age(campaign, kind):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("list-2026-10", kind, [{"customer_id": "C1"}], list_date="2026-10-31")]
    run = campaign.build()
    assert run.exit_code == 4
    text = messages(run)
    assert "list-2026-10" in text
    assert "2026-10-31" in text
    assert re.search(r"\b31\b", text)
    assert_nothing_written(campaign, run)


def test_stale_message_cuts_a_list_name_over_200_characters(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("r" * 240, "robinson", [{"customer_id": "C1"}], list_date="2026-10-31", file="long.csv")]
    run = campaign.build()
    assert run.exit_code == 4
    assert "r" * 199 + "…" in messages(run) and "r" * 200 not in messages(run)


@pytest.mark.parametrize("kind", ["robinson", "telemarketing"])
def test_list_30_days_old_is_fresh_enough(campaign, kind):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("list-2026-11", kind, [{"customer_id": "C1"}], list_date="2026-11-01")]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == KIND_CODE[kind]
    assert run.summary()["stale"] is False


def test_list_dated_after_as_of_is_not_stale(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-12", "robinson", [{"customer_id": "C1"}], list_date="2026-12-15")]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "robinson_register"
    assert run.summary()["stale"] is False


FUTURE_LIST_WARNING = "list robinson-2026-12: list_date 2026-12-15 is after as_of 2026-12-01; applied as it is"


def test_list_dated_after_as_of_is_applied_with_a_warning_in_the_summary_and_on_stderr(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-12", "robinson", [{"customer_id": "C1"}], list_date="2026-12-15")]
    run = build(campaign)
    assert run.summary()["warnings"] == [FUTURE_LIST_WARNING]
    assert f"warning: {FUTURE_LIST_WARNING}" in run.stderr


def test_list_dated_on_the_day_of_as_of_gives_no_warning(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-12", "robinson", [{"customer_id": "C1"}], list_date="2026-12-01")]
    assert build(campaign).summary()["warnings"] == []


def test_validate_warns_of_a_list_dated_after_as_of_and_would_build(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-12", "robinson", [{"customer_id": "C1"}], list_date="2026-12-15")]
    result = CliRunner().invoke(app, ["validate", str(campaign.write()), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["warnings"] == [FUTURE_LIST_WARNING]


def test_list_age_uses_the_helsinki_date_of_as_of(campaign):
    # 2026-11-30T22:30Z is 2026-12-01 in Helsinki: the list is 31 days old there (30 by the UTC date).
    campaign.campaign = {"as_of": "2026-11-30T22:30:00Z"}
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-10", "robinson", [{"customer_id": "C1"}], list_date="2026-10-31")]
    run = campaign.build()
    assert run.exit_code == 4


def test_as_of_option_is_used_for_the_list_age(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{"customer_id": "C1"}], list_date="2026-11-20")]
    assert campaign.build("--as-of", "2026-12-20").exit_code == 0   # 30 days
    run = campaign.build("--as-of", "2026-12-21")                    # 31 days
    assert run.exit_code == 4
    assert "robinson-2026-11" in messages(run)


def test_allow_stale_proceeds_marks_the_run_stale_and_applies_the_list(campaign):
    people(campaign, customer("C1"), customer("C2"))
    campaign.lists = [suppression("robinson-2026-09", "robinson", [{"customer_id": "C1"}], list_date="2026-09-01")]
    run = campaign.build("--allow-stale")
    assert run.exit_code == 0, run.stderr
    assert outcome(run, "C1", "phone") == "robinson_register"
    assert outcome(run, "C2", "phone") == "consent"
    assert run.summary()["stale"] is True
    manifest = json.loads((run.dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["stale"] is True
    text = messages(run)
    assert "robinson-2026-09" in text
    assert "stale" in text.lower()


def test_fresh_run_is_not_marked_stale(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{"customer_id": "C1"}])]
    run = build(campaign, "--allow-stale")
    assert run.summary()["stale"] is False
    manifest = json.loads((run.dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["stale"] is False


def test_stale_failure_leaves_a_previous_run_untouched(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", [{"customer_id": "C1"}])]
    first = build(campaign)
    before = {p.name: p.read_bytes() for p in first.dir.iterdir()}
    campaign.lists = [suppression("robinson-2026-10", "robinson", [{"customer_id": "C1"}], list_date="2026-10-01")]
    run = campaign.build()
    assert run.exit_code == 4
    assert {p.name: p.read_bytes() for p in run.dir.iterdir()} == before


# ---------------------------------------------------------------------------------------------
# Lists that do not apply are not read


@pytest.mark.parametrize("file_state", ["present", "missing", "broken"])
def test_stale_list_that_does_not_apply_neither_blocks_nor_is_read(campaign, file_state):
    campaign.campaign = {"channels": ["email"]}
    people(campaign, customer("C1"))
    rows = [{"customer_id": "C1"}] if file_state == "present" else None
    campaign.lists = [suppression("robinson-2020-01", "robinson", rows, list_date="2020-01-01")]
    if file_state == "broken":
        (campaign.root / "robinson-2020-01.csv").write_bytes(b"\xff\xfe\x00garbage\x00\n\x01\x02")
    run = build_loud(campaign)
    assert outcome(run, "C1", "email") == "consent"
    assert run.summary()["stale"] is False
    assert "robinson-2020-01" not in run.summary()["inputs"]["lists"]
    assert "robinson-2020-01" in messages(run)   # a note names the list


@pytest.mark.parametrize("purpose", ["service", "contract"])
def test_list_for_another_purpose_is_not_read(campaign, purpose):
    campaign.campaign = {"purpose": purpose}
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2020-01", "robinson", None, list_date="2020-01-01"),
                      suppression("own-prohibitions", "internal", None)]
    run = build_loud(campaign)
    assert outcome(run, "C1", "phone") == BASIS[purpose]
    text = messages(run)
    assert "robinson-2020-01" in text and "own-prohibitions" in text


# ---------------------------------------------------------------------------------------------
# Missing lists


@pytest.mark.parametrize("args", [(), ("--allow-stale",)], ids=["plain", "allow-stale"])
@pytest.mark.parametrize("kind", ["robinson", "internal"])
def test_applying_list_whose_file_is_missing_fails_closed(campaign, kind, args):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("gone-list", kind, None)]
    run = campaign.build(*args)
    assert run.exit_code == 4
    assert "gone-list" in messages(run)
    assert_nothing_written(campaign, run)


def test_applying_list_that_cannot_be_decoded_is_a_data_error(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-11", "robinson", None)]
    (campaign.root / "robinson-2026-11.csv").write_bytes(b"customer_id\n\xff\xfe\x00\x81\n")
    run = campaign.build()
    assert run.exit_code == 3
    assert "robinson-2026-11" in messages(run)
    assert_nothing_written(campaign, run)


def test_applying_list_without_a_key_column_is_a_data_error(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("own-prohibitions", "internal", [{"note": "C1"}]),
                      suppression("half-address", "internal", [{"first_name": "Aino", "last_name": "Virtanen1",
                                                                "street_address": "Mannerheimintie 1"}])]
    run = campaign.build()
    assert run.exit_code == 3
    assert "own-prohibitions" in messages(run)
    assert "half-address" in messages(run)


def test_applying_list_that_is_a_folder_cannot_be_opened_and_fails_closed(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("odd-list", "internal", None, path="folder.csv")]
    (campaign.root / "folder.csv").mkdir()
    run = campaign.build()
    assert run.exit_code == 4
    assert "odd-list" in messages(run)
    assert not run.dir.exists()


def test_data_error_outranks_a_stale_list(campaign):
    campaign.customers = [customer("C1"), customer("C1")]
    campaign.lists = [suppression("robinson-2020-01", "robinson", [{"customer_id": "C1"}], list_date="2020-01-01")]
    run = campaign.build()
    assert run.exit_code == 3


# ---------------------------------------------------------------------------------------------
# max_age_days


@pytest.mark.parametrize("kind, extra", [("internal", {}), ("custom", {"channels": ["email"]})])
def test_internal_and_custom_lists_have_no_default_max_age(campaign, kind, extra):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("old-list", kind, [{"customer_id": "C1"}], list_date="2015-01-01", **extra)]
    run = build(campaign)
    assert outcome(run, "C1", "email") == KIND_CODE[kind]
    assert run.summary()["stale"] is False


@pytest.mark.parametrize("kind, extra", [("internal", {}), ("custom", {"channels": ["email"]})])
def test_internal_and_custom_lists_need_no_list_date(campaign, kind, extra):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("undated", kind, [{"customer_id": "C1"}], **extra)]
    run = build(campaign)
    assert outcome(run, "C1", "email") == KIND_CODE[kind]


@pytest.mark.parametrize("kind, extra", [("internal", {}), ("custom", {"channels": ["email"]}),
                                         ("robinson", {}), ("telemarketing", {})])
@pytest.mark.parametrize("list_date, stale", [("2026-11-21", False), ("2026-11-20", True)])
def test_explicit_max_age_days_is_honoured(campaign, kind, extra, list_date, stale):
    # as_of 2026-12-01: 2026-11-21 is 10 days old, 2026-11-20 is 11.
    people(campaign, customer("C1"))
    campaign.lists = [suppression("aged", kind, [{"customer_id": "C1"}], list_date=list_date, max_age_days=10,
                                  **extra)]
    run = campaign.build()
    assert run.exit_code == (4 if stale else 0), run.stderr
    if stale:
        text = messages(run)
        assert "aged" in text and list_date in text and re.search(r"\b11\b", text)


def test_max_age_days_can_loosen_the_robinson_default(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("robinson-2026-10", "robinson", [{"customer_id": "C1"}], list_date="2026-10-02",
                                  max_age_days=60)]
    run = build(campaign)
    assert outcome(run, "C1", "phone") == "robinson_register"


def test_max_age_days_zero_allows_only_a_list_of_the_as_of_date(campaign):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("today", "internal", [{"customer_id": "C1"}], list_date="2026-12-01",
                                  max_age_days=0)]
    assert campaign.build().exit_code == 0
    campaign.lists = [suppression("yesterday", "internal", [{"customer_id": "C1"}], list_date="2026-11-30",
                                  max_age_days=0)]
    assert campaign.build().exit_code == 4


@pytest.mark.parametrize("kind", ["robinson", "telemarketing"])
def test_robinson_and_telemarketing_without_list_date_are_a_config_error(campaign, kind):
    people(campaign, customer("C1"))
    campaign.lists = [suppression("undated", kind, [{"customer_id": "C1"}])]
    config = campaign.write()
    text = config.read_text(encoding="utf-8")
    config.write_text("\n".join(line for line in text.splitlines() if not line.startswith("list_date")) + "\n",
                      encoding="utf-8")
    out = campaign.root / "run"
    result = CliRunner().invoke(app, ["build", str(config), "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    assert "list_date" in " ".join((result.stdout + result.stderr).split())
    assert not out.exists()


def test_detail_of_a_customer_on_several_lists_of_a_kind_names_each_list_and_key_sorted(campaign):
    people(campaign, customer("C1"), customer("C2"))
    campaign.lists = [
        suppression("zeta-own", "internal", [{"email": "AINO1@example.fi"}, {"customer_id": "C1"}]),
        suppression("alpha-own", "internal", [{"customer_id": "C1"}]),
    ]
    run = build(campaign)
    assert row(run, "C1", "email")["detail"].endswith(
        "alpha-own (customer_id), zeta-own (customer_id), zeta-own (email)")
    assert row(run, "C1", "email")["reason_code"] == "internal_prohibition"
    assert outcome(run, "C2", "email") == "consent"


def test_a_list_row_given_twice_is_named_once_in_the_detail(campaign):
    people(campaign, customer("C1"), customer("C2"))
    same = {"email": "AINO1@example.fi", "customer_id": "C1"}
    campaign.lists = [suppression("own", "internal", [same, dict(same), {"email": "aino1@example.fi"}])]
    run = build(campaign)
    assert row(run, "C1", "email")["detail"].endswith("own (customer_id), own (email)")
    assert outcome(run, "C2", "email") == "consent"
