"""Section 4: contact normalization, checked against plain-Python readings of the contract."""
import hashlib
import re
import unicodedata

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiencecli import facts, normalize


# The Unicode White_Space property (Python's str.isspace also counts \x1c-\x1f).
WHITE_SPACE = "[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def reference_key_part(text: str) -> str | None:
    """The contract's name-and-address key, word for word, in plain Python."""
    folded = unicodedata.normalize("NFC", text).casefold()
    spaced = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in folded)
    collapsed = re.sub(f"{WHITE_SPACE}+", " ", spaced)
    collapsed = re.sub(f"^{WHITE_SPACE}+|{WHITE_SPACE}+$", "", collapsed)
    return collapsed or None


def reference_email_valid(text: str) -> bool:
    value = unicodedata.normalize("NFC", text.strip()).lower()
    if value.count("@") != 1:
        return False
    local, domain = value.split("@")
    if not local or any(ch.isspace() for ch in local):
        return False
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    for label in labels:
        if not label or label[0] == "-" or label[-1] == "-":
            return False
        if not all(ch.isalpha() or ch in "0123456789-" for ch in label):
            return False
    return len(labels[-1]) >= 2 and all(ch.isalpha() for ch in labels[-1])


def key_parts(values: list[str]) -> list[str | None]:
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(
        normalize.key_part(pl.col("v"))).to_series().to_list()


def emails_valid(values: list[str]) -> list[bool]:
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(
        normalize.email_is_valid(normalize.email(pl.col("v")))).to_series().to_list()


def test_name_address_key_examples_from_the_contract():
    assert key_parts(["Anna-Liisa", "Mannerheimintie 12 A,5"]) == ["anna liisa", "mannerheimintie 12 a 5"]


def test_name_address_key_uses_full_case_folding_and_nfc():
    decomposed = unicodedata.normalize("NFD", "Åberg")
    assert key_parts(["Straße", decomposed, "ΣΊΣΥΦΟΣ"]) == ["strasse", "åberg", "σίσυφοσ"]


# Unassigned code points (Cn) are left out: Python's Unicode tables and the regex engine's may be
# of different Unicode versions (U+113D4 is unassigned to Python 3.11, punctuation to Polars).
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(exclude_categories=["Cs", "Cn"]), max_size=20), min_size=1,
                max_size=20))
def test_name_address_key_equals_the_contract_definition(values):
    assert key_parts(values) == [reference_key_part(v) for v in values]


EMAIL_CASES = {
    "john_smith@gmail.com": True, " John_Smith@Gmail.COM ": True, "ä@öö.fi": True, "a@b.c.de": True,
    "x@1.fi": True, "a@b": False, "a b@c.fi": False, "a@@b.fi": False, "@b.fi": False, "a@-b.fi": False,
    "a@b-.fi": False, "a@b.f1": False, "a@b.f": False, "a@b..fi": False, "a@.fi": False, "a@b_c.fi": False,
}


def test_email_validity_follows_the_contract_rule():
    assert emails_valid(list(EMAIL_CASES)) == list(EMAIL_CASES.values())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.from_regex(r"[a-zA-Zäö0-9 ._@-]{0,6}@?[a-zäöA-Z0-9.-]{0,8}", fullmatch=True), min_size=1,
                max_size=20))
def test_email_validity_equals_a_plain_reading_of_the_contract(values):
    values = [v for v in values if v.strip()]
    assert emails_valid(values) == [reference_email_valid(v) for v in values]


def test_social_hashes_match_the_contract_vectors():
    digests = pl.DataFrame({"v": ["john_smith@gmail.com", "16505551212", None]}).select(
        normalize.sha256_hex(pl.col("v"))).to_series().to_list()
    assert digests == [
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176",
        None,
    ]
    assert digests[0] == hashlib.sha256(b"john_smith@gmail.com").hexdigest()


def test_address_is_missing_incomplete_or_needs_five_digit_fi_postal_code():
    frame = pl.DataFrame({
        "street": [None, "Esplanadi 7", "Esplanadi 7", "Esplanadi 7", "Storgatan 1"],
        "postal": [None, None, "0013", "00130", "111 22"],
        "city": [None, "Helsinki", "Helsinki", "Helsinki", "Stockholm"],
        "country": ["FI", "FI", "FI", "FI", "SE"],
    })
    problems = frame.select(normalize.address_problem(
        pl.col("street"), pl.col("postal"), pl.col("city"), pl.col("country"))).to_series().to_list()
    assert problems[0] == "missing"
    assert problems[1].startswith("incomplete")
    assert problems[2] == "postal code is not 5 digits"
    assert problems[3] is None and problems[4] is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=50), st.text(alphabet="abc-_.09", min_size=1, max_size=10))
def test_holdout_bucket_equals_the_contract_formula(ids, name):
    got = pl.DataFrame({"id": ids}, schema={"id": pl.String}).select(
        normalize.holdout_bucket(name, pl.col("id"))).to_series().to_list()
    expected = [int(hashlib.sha256((name + ":" + i).encode("utf-8")).hexdigest()[:16], 16) / 2**64 * 100
                for i in ids]
    assert got == expected


PLAIN_AND_NOT = st.text(
    alphabet=st.one_of(st.sampled_from("aäöåzAÄÖÅZßÞþÿ0 -,.\u0308\u212b\u00b5İ"),
                       st.characters(exclude_categories=["Cs"])),
    max_size=16,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), PLAIN_AND_NOT), min_size=1, max_size=30))
def test_key_part_fast_path_equals_the_definition(values):
    series = pl.Series(values, dtype=pl.String)
    expected = series.to_frame("v").select(normalize.key_part(pl.col("v"))).to_series()
    assert normalize.key_part_values(series).to_list() == expected.to_list()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["Virtanen", " virtanen", "Anna-Liisa", "00100", "ß", ""]),
                          PLAIN_AND_NOT), min_size=1, max_size=30))
def test_key_part_of_repeated_values_equals_the_definition(values):
    series = pl.Series(values, dtype=pl.String)
    expected = series.to_frame("v").select(normalize.key_part(pl.col("v"))).to_series()
    assert normalize.key_part_values(series, repeated=True).to_list() == expected.to_list()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), PLAIN_AND_NOT.map(lambda t: f" {t}@Example.FI ")), min_size=1, max_size=30))
def test_email_fast_path_equals_the_definition(values):
    series = pl.Series(values, dtype=pl.String)
    expected = series.to_frame("v").select(normalize.email(pl.col("v"))).to_series()
    assert normalize.email_values(series).to_list() == expected.to_list()


def test_case_folding_table_scanned_at_import_holds_every_extra_fold_of_unicode():
    import sys

    assert normalize.casefold_extras(normalize.CASEFOLD_SCAN_END) == normalize.casefold_extras(sys.maxunicode + 1)


def reference_name_address_key(first, last, street, postal) -> tuple[str, ...] | None:
    """The contract's name-and-address key: the four normalized parts, None unless all are present."""
    parts = tuple(reference_key_part(v) if v is not None else None for v in (first, last, street, postal))
    return None if None in parts else parts


NAME_ADDRESS_ROWS = st.lists(st.tuples(*[st.one_of(st.none(), st.sampled_from(["Aino", "AINO ", "Katu 1", "00100"]),
                                                   PLAIN_AND_NOT)] * 4), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(NAME_ADDRESS_ROWS, NAME_ADDRESS_ROWS)
def test_name_address_match_through_post_key_and_first_name_equals_the_definition(customer_rows, list_rows):
    """The build matches the key as (post key, first name), the post key made with the contacts:
    a customer and a list row match exactly when their four-part keys are present and equal."""
    def frame(rows):
        return pl.DataFrame([list(r) for r in rows], schema={c: pl.String for c in facts.KEY_PARTS}, orient="row")

    customers = frame(customer_rows).with_columns(
        customer_id=pl.format("C{}", pl.int_range(pl.len()) + 10), customer_type=pl.lit("private"),
        country=pl.lit("FI"), deceased_date=pl.lit(None, pl.Date), birth_date=pl.lit(None, pl.Date),
        paperless=pl.lit(False), address_protected=pl.lit(False),
        **{c: pl.lit(None, pl.String) for c in ("company_name", "email", "phone", "city", "language", "business_role")},
    )
    contacts = facts.contact_frame(customers)
    keys = pl.DataFrame(facts.list_name_address_keys(frame(list_rows))).with_row_index("list_row")
    columns = facts.SUPPRESSION_KEYS[-1][1]
    listed = keys.filter(pl.all_horizontal(pl.col(c).is_not_null() for c in columns))
    found = facts._customer_keys(contacts, columns, listed).join(listed, on=list(columns))
    expected = {(i, j) for i, c in enumerate(customer_rows) for j, r in enumerate(list_rows)
                if reference_name_address_key(*c) is not None
                and reference_name_address_key(*c) == reference_name_address_key(*r)}
    assert set(found.select("cix", "list_row").iter_rows()) == expected



def test_a_contact_problem_is_one_of_its_enumerations_texts_and_a_new_text_is_an_error():
    assert pl.select(normalize.contact_problem("missing")).item() == "missing"
    with pytest.raises(pl.exceptions.PolarsError):
        pl.select(normalize.contact_problem("not in the enumeration"))
