import random
from collections import Counter

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from audiencecli.phones import fast_path_leftovers, normalize_phones


def normalize(values, region="FI"):
    regions = [region] * len(values) if isinstance(region, str) else region
    out = normalize_phones(pl.Series(values, dtype=pl.String), pl.Series(regions, dtype=pl.String))
    return out.rows()


def reference(raw, region):
    """The contract, one value at a time, with phonenumbers directly."""
    if raw is None:
        return (None, None, None)
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return (None, None, "unparseable")
    if not phonenumbers.is_valid_number(number):
        return (None, None, "not a valid number")
    mobile = phonenumbers.number_type(number) in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return (phonenumbers.format_number(number, PhoneNumberFormat.E164), mobile, None)


@pytest.mark.parametrize(
    "raw",
    [
        "040 123 4567",
        "+358 40 1234567",
        "00358401234567",
        "040-123-4567",
        "040.123.4567",
        "+358-40-123-4567",
        "(040) 123 4567",
        "+358 (0) 40 123 4567",
        "0401234567",
    ],
)
def test_common_finnish_mobile_formats_give_e164(raw):
    assert normalize([raw]) == [("+358401234567", True, None)]


def test_helsinki_landline_is_valid_but_not_mobile():
    assert normalize(["(09) 123 4567"]) == [("+35891234567", False, None)]


def test_swedish_number_with_region_se():
    assert normalize(["070-123 45 67"], "SE") == [("+46701234567", True, None)]


def test_international_number_overrides_region():
    assert normalize(["+46 70 123 45 67"]) == [("+46701234567", True, None)]


@pytest.mark.parametrize("raw", ["0800 123 456", "0600 123 456", "020 123 4567", "029 123 4567"])
def test_toll_free_premium_and_corporate_are_valid_but_not_mobile(raw):
    [(e164, mobile, problem)] = normalize([raw])
    assert e164 is not None and e164.startswith("+358")
    assert (mobile, problem) == (False, None)


def test_aland_number_is_valid():
    assert normalize(["+358 18 123 456"]) == [("+35818123456", False, None)]


def test_garbage_is_unparseable():
    assert normalize(["abc"]) == [(None, None, "unparseable")]


def test_too_short_number_is_not_valid():
    assert normalize(["040 12"]) == [(None, None, "not a valid number")]


def test_missing_stays_missing_without_a_problem():
    assert normalize([None, "040 123 4567", None]) == [
        (None, None, None),
        ("+358401234567", True, None),
        (None, None, None),
    ]


def test_output_has_contract_schema_and_keeps_order():
    out = normalize_phones(
        pl.Series(["abc", "0401234567", None], dtype=pl.String), pl.Series(["FI", "FI", "FI"])
    )
    assert out.schema == pl.Schema({"e164": pl.String, "mobile": pl.Boolean, "problem": pl.String})
    assert out["e164"].to_list() == [None, "+358401234567", None]


def test_empty_input():
    out = normalize_phones(pl.Series([], dtype=pl.String), pl.Series([], dtype=pl.String))
    assert out.height == 0 and out.columns == ["e164", "mobile", "problem"]


# --- agreement with phonenumbers on varied input -------------------------------------------

FI_NATIONAL_STARTS = (
    [f"4{d}" for d in range(10)] + ["50", "51", "59"]
    + ["9", "2", "3", "5", "6", "8", "13", "14", "15", "16", "17", "19", "11", "12"]
    + ["800", "600", "700", "20", "29", "10", "30", "39", "71", "73", "75", "606", "7099", "7012"]
    + ["18", "0", "1", "7"]
)
FOREIGN = [
    ("+46 70 123 45 67", "FI"), ("070-123 45 67", "SE"), ("08-123 456 78", "SE"),
    ("+1 650 253 0000", "FI"), ("(650) 253-0000", "US"), ("1-650-253-0000", "US"),
    ("+44 20 7946 0958", "FI"), ("020 7946 0958", "GB"), ("07400 123456", "GB"),
    ("+372 5123 4567", "FI"), ("5123 4567", "EE"), ("0049 30 123456", "DE"),
    ("030 123456", "DE"), ("+7 912 345 67 89", "RU"), ("8 912 345 67 89", "RU"),
    ("040 123 4567", "SE"), ("040 123 4567", "DE"), ("00358 40 123 4567", "SE"),
    ("00358 40 123 4567", "US"), ("011 358 40 123 4567", "US"), ("+358 40 123 4567", "ZZ"),
    ("040 123 4567", "ZZ"), ("99358401234567", "FI"), ("990 358 40 123 4567", "FI"),
    ("358401234567", "FI"), ("358 40 123 4567", "AX"), ("401234567", "FI"),
]
GARBAGE = [
    "abc", "", "-", "+", "1", "12", "123", "+358", "00358", "0", "00", "000358401234567",
    "++358401234567", "040 123 4567 ext 12", "040x1234567", "040 1234567#", "tel:+358401234567",
    "\u0660\u0664\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667",
    "\uff10\uff14\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
    "040\t1234567", "040\u00a01234567", "1-800-FLOWERS", "0" * 300, "4" * 20,
    "+358 40 123 4567 / +358 50 765 4321", "040+1234567", "-040-1234567-", "040)(1234567",
    "(+358) 40 1234567", "+(358) 40 1234567", "040..1234567", "0-4-0-1-2-3-4-5-6-7",
    "040 123 4567,,12", "040 123 4567;ext=12", "+358 40 123 45x", "+358 0 0 40 1234567",
    "040 123 \u0664\u0665\u0666\u0667", "+358 40 \uff11\uff12\uff13 4567", "040" + " " * 250 + "1234567",
]


def with_separators(rng, digits):
    out = []
    for i, ch in enumerate(digits):
        if i and rng.random() < 0.25:
            out.append(rng.choice([" ", "-", ".", "/", " - ", "  "]))
        out.append(ch)
    return "".join(out)


def finnish_variant(rng, nsn):
    """A Finnish national number written the ways people type it, right and wrong."""
    split = rng.randint(1, min(3, len(nsn)))
    area, local = nsn[:split], nsn[split:]
    style = rng.randrange(10)
    if style == 0:
        return f"0{nsn}"
    if style == 1:
        return with_separators(rng, f"0{nsn}")
    if style == 2:
        return f"(0{area}) {with_separators(rng, local)}"
    if style == 3:
        return f"+358 {area} {with_separators(rng, local)}"
    if style == 4:
        return f"+358{nsn}"
    if style == 5:
        return f"+358 (0){area} {local}"
    if style == 6:
        return f"00358 {with_separators(rng, nsn)}"
    if style == 7:
        return f"00358{rng.choice(['', '0'])}{nsn}"
    if style == 8:
        return with_separators(rng, rng.choice(["", "358", "0358", "+3580", "000358", "+358 00"]) + nsn)
    return f"0{area}-{local}" if rng.random() < 0.5 else f"0{area}.{local}"


def varied_numbers(seed=20240601, count=4000):
    rng = random.Random(seed)
    values = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.75:
            start = rng.choice(FI_NATIONAL_STARTS)
            length = rng.choices(range(2, 14), weights=[1, 1, 2, 3, 5, 8, 10, 10, 8, 4, 2, 1])[0]
            nsn = (start + "".join(rng.choice("0123456789") for _ in range(length)))[: max(length, len(start))]
            region = rng.choices(["FI", "AX", "SE", "DE", "US", "EE"], weights=[80, 8, 4, 3, 3, 2])[0]
            values.append((finnish_variant(rng, nsn), region))
        elif kind < 0.87:
            raw, region = rng.choice(FOREIGN)
            if rng.random() < 0.5:
                raw = "+" + str(rng.choice([1, 7, 20, 33, 44, 46, 47, 49, 354, 358, 372, 800, 888, 979]))
                raw += " " + with_separators(rng, "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 12))))
                region = rng.choice(["FI", "SE", "AX", "US", "ZZ"])
            values.append((raw, region))
        else:
            values.append((rng.choice(GARBAGE + [None]), rng.choice(["FI", "AX", "SE", "US"])))
    return values


def assert_agrees(pairs):
    """normalize_phones gives exactly the reference answer for every pair; returns the answers."""
    got = normalize([r for r, _ in pairs], [g for _, g in pairs])
    expected = [reference(r, g) for r, g in pairs]
    assert [(p, g, e) for p, g, e in zip(pairs, got, expected) if g != e] == []
    return expected


def test_agrees_with_phonenumbers_on_varied_numbers():
    expected = assert_agrees(varied_numbers())
    outcomes = Counter(problem or ("mobile" if mobile else "not mobile") for _, mobile, problem in expected)
    assert min(outcomes.values()) > 200, outcomes


def test_agrees_with_phonenumbers_on_every_fi_prefix():
    pairs = [
        (f"{form}{start}{tail}", region)
        for start in [str(d) for d in range(10)] + [f"{d}{e}" for d in range(10) for e in range(10)]
        for tail in ["", "1", "12345", "123456", "1234567", "12345678", "123456789", "1234567890"]
        for form, region in [("0", "FI"), ("0", "AX"), ("+358", "SE"), ("00358", "AX"), ("+3580", "FI")]
    ]
    assert_agrees(pairs)


separated_digits = st.lists(
    st.sampled_from(list("0123456789") * 3 + [" ", "-", ".", "/", "(", ")"]), min_size=0, max_size=16
).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "0", "00", "+", "+358", "00358", "+358 (0)", "358", "+46", "(0",
                             "+46 (0)", "+372", "+372 0", "+4", "+37"]),
            separated_digits,
            st.sampled_from(["FI", "AX", "SE", "EE", "US", "ZZ"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_agrees_with_phonenumbers_on_generated_strings(items):
    assert_agrees([(prefix + body, region) for prefix, body, region in items])


SE_NATIONAL_STARTS = (
    ["70", "72", "73", "76", "79", "71", "74", "75", "77", "78"]
    + ["8", "11", "13", "31", "40", "46", "90", "18", "60", "63"]
    + ["20", "900", "939", "99", "254", "673", "10", "649", "0", "1", "2", "9"]
)
EE_NATIONAL_STARTS = (
    ["5", "51", "55", "56", "81", "82", "83", "84", "89"]
    + ["32", "33", "6", "61", "7", "71", "88", "70"]
    + ["800", "8000", "900", "40", "0", "1", "2", "3", "4", "9"]
)


def international_variant(rng, country_code, nsn):
    """A national number written after "+" and the country code, the ways people type it."""
    split = rng.randint(1, min(3, len(nsn)))
    area, local = nsn[:split], nsn[split:]
    style = rng.randrange(8)
    if style == 0:
        return f"+{country_code}{nsn}"
    if style == 1:
        return f"+{country_code} {area} {with_separators(rng, local)}"
    if style == 2:
        return f"+{country_code} (0){area} {local}"
    if style == 3:
        return f"+{country_code} (0{area}) {with_separators(rng, local)}"
    if style == 4:
        return with_separators(rng, f"+{country_code}0{nsn}")
    if style == 5:
        return f"+{country_code}-{area}-{local}"
    if style == 6:
        return f"+{country_code} {rng.choice(['00', '(00)', '0 0'])}{nsn}"
    return f"+{country_code}.{area}.{local}"


def international_numbers(seed=20240602, count=3000):
    rng = random.Random(seed)
    values = []
    plausible = [(46, "7", 9), (46, "8", 8), (46, "8", 9), (46, "31", 9), (372, "5", 7), (372, "5", 8), (372, "6", 7)]
    for _ in range(count):
        country_code, starts = rng.choice([(46, SE_NATIONAL_STARTS), (372, EE_NATIONAL_STARTS)])
        start = rng.choice(starts)
        length = rng.choices(range(1, 15), weights=[2, 1, 1, 2, 3, 6, 10, 10, 10, 6, 3, 2, 1, 1])[0]
        if rng.random() < 0.4:
            country_code, start, length = rng.choice(plausible)
        elif rng.random() < 0.1:  # too short or too long to parse
            start, length = "", rng.choice([1, 18, 19])
        nsn = (start + "".join(rng.choice("0123456789") for _ in range(length)))[: max(length, len(start))]
        region = rng.choice(["FI", "SE", "EE", "AX", "US", "ZZ"])
        values.append((international_variant(rng, country_code, nsn), region))
    return values


def test_agrees_with_phonenumbers_on_swedish_and_estonian_international_numbers():
    expected = assert_agrees(international_numbers())
    outcomes = Counter(problem or ("mobile" if mobile else "not mobile") for _, mobile, problem in expected)
    assert len(outcomes) == 4 and min(outcomes.values()) > 20, outcomes


def test_agrees_with_phonenumbers_on_every_se_and_ee_prefix():
    pairs = [
        (f"{form}{start}{tail}", region)
        for start in [str(d) for d in range(10)] + [f"{d}{e}" for d in range(10) for e in range(10)]
        for tail in ["", "1", "12345", "123456", "1234567", "12345678", "123456789", "1234567890"]
        for form, region in [("+46", "FI"), ("+46 (0)", "SE"), ("+372", "EE"), ("+372 0", "FI")]
    ]
    assert_agrees(pairs)


def test_agrees_with_phonenumbers_on_example_numbers_of_every_country():
    """Each country code's example numbers, and near misses, in "+" form: whichever countries the
    fast path takes on, its answers are the library's."""
    rng = random.Random(11)
    pairs = []
    for country_code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for kind in PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(regions[0], kind)
            if example is None or example.country_code != country_code:
                continue
            nsn = phonenumbers.national_significant_number(example)
            for variant in (nsn, nsn[:-1], nsn + str(rng.randrange(10)), f"0{nsn}", f"(0) {nsn[:2]} {nsn[2:]}"):
                pairs.append((f"+{country_code} {variant}", rng.choice(["FI", "SE", regions[0]])))
    assert len(pairs) > 3000
    assert_agrees(pairs)


# --- the fast path ------------------------------------------------------------------------

def typical_finnish(seed=7, count=5000):
    rng = random.Random(seed)
    formats = [
        lambda a, l: f"0{a} {l[:3]} {l[3:]}",
        lambda a, l: f"0{a}{l}",
        lambda a, l: f"+358 {a} {l}",
        lambda a, l: f"+358{a}{l}",
        lambda a, l: f"00358{a}{l}",
        lambda a, l: f"0{a}-{l}",
        lambda a, l: f"(0{a}) {l[:3]} {l[3:]}",
        lambda a, l: f"0{a}.{l[:3]}.{l[3:]}",
    ]
    values = []
    for _ in range(count):
        if rng.random() < 0.8:
            area, local_len = rng.choice(["40", "41", "44", "45", "46", "50"]), 7
        else:
            area, local_len = rng.choice(["9", "2", "3", "13", "14", "17", "19"]), rng.choice([6, 7])
        local = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(local_len - 1))
        values.append(rng.choice(formats)(area, local))
    return values + values[: count // 10]


def test_fast_path_settles_common_finnish_formats_without_phonenumbers(monkeypatch):
    values = typical_finnish()
    expected = [reference(v, "FI") for v in values]

    def no_parse(*args, **kwargs):
        raise AssertionError("phonenumbers.parse called")

    monkeypatch.setattr(phonenumbers, "parse", no_parse)
    assert normalize(values) == expected


def typical_international(seed=8, count=3000):
    rng = random.Random(seed)
    formats = [
        lambda cc, a, l: f"+{cc} {a} {l[:3]} {l[3:]}",
        lambda cc, a, l: f"+{cc}{a}{l}",
        lambda cc, a, l: f"+{cc} {a}{l}",
        lambda cc, a, l: f"+{cc}-{a}-{l}",
        lambda cc, a, l: f"+{cc} ({a}) {l}",
        lambda cc, a, l: f"+{cc}.{a}.{l[:3]}.{l[3:]}",
    ]
    values = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.45:  # Swedish mobiles, sometimes with the national prefix "(0)"
            cc, area, local_len = 46, rng.choice(["70", "72", "73", "76", "79"]), 7
            if rng.random() < 0.3:
                area = f"(0){area}"
        elif kind < 0.6:  # Swedish landlines
            cc, area, local_len = 46, rng.choice(["8", "31", "40", "90"]), rng.choice([6, 7])
        elif kind < 0.9:  # Estonian mobiles
            cc, area, local_len = 372, rng.choice(["5", "56", "51", "55"]), 6
        else:  # Estonian landlines
            cc, area = 372, rng.choice(["6", "7", "32", "44"])
            local_len = 7 - len(area)
        local = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(local_len - 1))
        values.append((rng.choice(formats)(cc, area, local), rng.choice(["FI", "FI", "SE", "AX", "EE"])))
    return values


def test_fast_path_settles_common_swedish_and_estonian_formats_without_phonenumbers(monkeypatch):
    pairs = typical_international() + [("+46 70 123 45", "FI"), ("+372 5123 45678", "FI"), ("+372 0 5123 4567", "SE")]
    expected = [reference(raw, region) for raw, region in pairs]
    assert {e is None for e, _, _ in expected} == {True, False}

    def no_parse(*args, **kwargs):
        raise AssertionError("phonenumbers.parse called")

    monkeypatch.setattr(phonenumbers, "parse", no_parse)
    assert normalize([r for r, _ in pairs], [g for _, g in pairs]) == expected


def test_shared_country_codes_are_left_to_phonenumbers():
    """+47 (NO, SJ), +1 (NANPA), +44 (GB, GG, IM, JE) and +7 (RU, KZ) pick a region by leading
    digits; the international fast path takes single-region codes only."""
    values = ["+47 412 34 567", "+1 650 253 0000", "+44 20 7946 0958", "+7 912 345 67 89"]
    leftovers = fast_path_leftovers(pl.Series(values, dtype=pl.String), pl.Series(["FI"] * len(values)))
    assert set(leftovers["raw"]) == set(values)


def test_fast_path_leaves_at_most_five_percent_of_finnish_data_to_phonenumbers():
    values = typical_finnish() + ["+358 18 123 456", "+46 70 123 45 67", "abc", "040 12"] * 10
    leftovers = fast_path_leftovers(pl.Series(values, dtype=pl.String), pl.Series(["FI"] * len(values)))
    assert len(leftovers) <= 0.05 * len(set(values))
    assert {"+358 18 123 456", "abc"} <= set(leftovers["raw"])


def test_phonenumbers_is_called_at_most_once_per_distinct_leftover(monkeypatch):
    values = (typical_finnish(count=2000) + ["+358 18 123 456", "070-123 45 67", "abc", "040 12"]
              + ["+46 70 123 45 67", "+372 5123 4567", "+47 412 34 567"]) * 3
    raw, region = pl.Series(values, dtype=pl.String), pl.Series(["FI"] * len(values))
    calls = Counter()
    real_parse = phonenumbers.parse

    def counting_parse(number, region=None, *args, **kwargs):
        calls[(number, region)] += 1
        return real_parse(number, region, *args, **kwargs)

    monkeypatch.setattr(phonenumbers, "parse", counting_parse)
    normalize_phones(raw, region)
    leftovers = set(fast_path_leftovers(raw, region).iter_rows())
    assert set(calls) == leftovers
    assert max(calls.values()) == 1
    assert len(leftovers) <= 0.05 * len(set(values))


def test_valid_means_a_known_number_type_for_every_parsed_number():
    """The library path asks number_type once instead of is_valid_number and then number_type."""
    checked = 0
    for raw, region in varied_numbers(seed=7, count=6000):
        try:
            number = phonenumbers.parse(raw, region)
        except (NumberParseException, TypeError, AttributeError):
            continue
        assert phonenumbers.is_valid_number(number) == (phonenumbers.number_type(number) != PhoneNumberType.UNKNOWN), raw
        checked += 1
    assert checked > 3000
