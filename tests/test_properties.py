"""Properties of the decisions over generated data sets (contract sections 3, 6 and 7).

Each example is a small campaign (1–12 customers, consent events with `all` wildcards and ties,
holdings, internal, Robinson and custom lists keyed by customer_id, email, phone and name and
address) written as CSV and built through the Python API, as `audience build` does.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from audiencecli.config import load_config
from audiencecli.outputs import write_run
from audiencecli.pipeline import BuildResult, build
from conftest import Campaign

CHANNELS = ("email", "sms", "phone", "post", "social")
AS_OF = "2026-12-01"  # a date: the end of that day, Europe/Helsinki
# sendable, or excluded only by a stage after the one pass (control group, arbitration, duplicates)
PASSES_THE_RULES = (None, "duplicate_contact", "control_group", "channel_arbitration")
LIST_HEADER = ["customer_id", "email", "phone", "first_name", "last_name", "street_address", "postal_code",
               "channel"]
LISTS = {  # name → (kind, channels a row may name, extra config)
    "stop": ("internal", CHANNELS, {}),
    "robinson": ("robinson", ("phone", "post"), {"list_date": "2026-11-20"}),
    "complaints": ("custom", ("email", "sms", "social"),
                   {"channels": ["email", "sms", "social"], "purposes": ["marketing", "service", "survey"]}),
}

# Small pools, so that generated customers share contact points and lists match them.
IDS = ("C1", "C2", "C3", "C10", "C11", "c2", "D5", "100", "9", "C01", "E7", "F8", "G9", "H0")
EMAILS = ("", "aino@example.fi", " AINO@Example.FI", "bo@example.fi", "not-an-email", "eve@example.com")
PHONES = ("", "040 123 4567", "+358401234567", "09 123 4567", "050 765 4321", "12", "070-123 45 67")
FIRST_NAMES = ("", "Aino", "Anna-Liisa", "Bo")
LAST_NAMES = ("", "Virtanen", "Korhonen")
ADDRESSES = (("", "", ""), ("Mannerheimintie 1", "00100", "Helsinki"), ("mannerheimintie  1", "00100", "Helsinki"),
             ("Aleksanterinkatu 5 B", "00170", "Helsinki"), ("Kauppakatu 2", "", "Turku"))
BEFORE = ("2025-01-01T10:00:00", "2026-06-01T12:00:00", "2026-06-01T12:00:00+03:00", "2026-06-01 12:00",
          "1.12.2026 23.59", "2026-12-01")
AFTER = ("2026-12-02T00:00:00", "2026-12-01T22:00:00Z", "2.12.2026 0.00", "2027-01-01")
DATES = ("2020-01-01", "2026-11-30", "2026-12-01", "2026-12-02", "1.6.2026")

ids = st.lists(st.sampled_from(IDS), min_size=1, max_size=12, unique=True)


@st.composite
def customers(draw, customer_ids: list[str]) -> list[dict]:
    rows = []
    for customer_id in customer_ids:
        street, postal_code, city = draw(st.sampled_from(ADDRESSES))
        rows.append({
            "customer_id": customer_id,
            "customer_type": draw(st.sampled_from(["private", "private", "business", "Business "])),
            "first_name": draw(st.sampled_from(FIRST_NAMES)),
            "last_name": draw(st.sampled_from(LAST_NAMES)),
            "email": draw(st.sampled_from(EMAILS)),
            "phone": draw(st.sampled_from(PHONES)),
            "street_address": street, "postal_code": postal_code, "city": city,
            "country": draw(st.sampled_from(["", "", "FI", "SE"])),
            "deceased_date": draw(st.sampled_from([""] * 8 + ["2020-01-01", "2026-12-01", "2026-12-02"])),
            "paperless": draw(st.sampled_from(["", "true", "no"])),
            "business_role": draw(st.sampled_from(["", "ceo", "hr", "CFO"])),
            "birth_date": draw(st.sampled_from([""] * 4 + ["1980-05-05", "2012-12-02", "2011-12-01", "29.2.2008"])),
            "address_protected": draw(st.sampled_from([""] * 6 + ["true", "ei"])),
        })
    return rows


def events(customer_ids: list[str], times: tuple[str, ...] = BEFORE, status: tuple[str, ...] = ("granted", "denied"),
           min_size: int = 0, max_size: int = 12):
    """Consent events; an id outside the customers (an orphan) now and then."""
    event = st.fixed_dictionaries({
        "customer_id": st.sampled_from([*customer_ids, "X99"]),
        "channel": st.sampled_from([*CHANNELS, "all", "all", "EMAIL"]),
        "purpose": st.sampled_from(["marketing", "service", "survey", "all", "all"]),
        "status": st.sampled_from(status),
        "recorded_at": st.sampled_from(times),
        "source": st.sampled_from(["web", "sms_reply", ""]),
    })
    return st.lists(event, min_size=min_size, max_size=max_size)


def holdings(customer_ids: list[str]):
    return st.lists(st.fixed_dictionaries({
        "customer_id": st.sampled_from(customer_ids),
        "product_group": st.sampled_from(["pension", "savings", "Pension"]),
        "start_date": st.sampled_from(["2020-01-01", "2026-12-01", "2026-12-02"]),
        "end_date": st.sampled_from(["", "", "2026-11-30", "2026-12-01", "2030-01-01"]),
    }), max_size=6)


SENT = ("2026-11-01T23:59:59.999999", "2026-11-02T00:00:00", "2026-11-20T10:00:00+02:00", "2026-09-15 12:00",
        "1.12.2026 23.59", "2026-12-02T00:00:00", "2025-01-01T10:00:00")


def history_rows(customer_ids: list[str], min_size: int = 0, max_size: int = 10):
    """Contact history rows; an id outside the customers now and then."""
    return st.lists(st.fixed_dictionaries({
        "customer_id": st.sampled_from([*customer_ids, "X98"]),
        "channel": st.sampled_from(CHANNELS),
        "purpose": st.sampled_from(["marketing", "marketing", "service", "survey", "contract", "legal"]),
        "sent_at": st.sampled_from(SENT),
        "campaign": st.sampled_from(["test-campaign", "other", ""]),
    }), min_size=min_size, max_size=max_size)


caps = st.lists(st.fixed_dictionaries({
    "max_contacts": st.integers(1, 3),
    "window_days": st.sampled_from([1, 30, 90]),
    "channels": st.lists(st.sampled_from(CHANNELS), min_size=1, unique=True),
    "purposes": st.lists(st.sampled_from(["marketing", "service", "survey"]), min_size=1, unique=True),
    "same_campaign": st.booleans(),
}), max_size=3).map(lambda found: [{"name": f"cap{i}", **cap} for i, cap in enumerate(found)])


def list_row(customer_ids: list[str], row_channels: tuple[str, ...]):
    """One suppression row, keyed by one key; sometimes limited to one channel."""
    channel = st.sampled_from(["", "", *row_channels])
    by_id = st.fixed_dictionaries({"customer_id": st.sampled_from([*customer_ids, "Z1"]), "channel": channel})
    by_email = st.fixed_dictionaries({"email": st.sampled_from(EMAILS[1:]), "channel": channel})
    by_phone = st.fixed_dictionaries({"phone": st.sampled_from([*PHONES[1:], "not a phone"]), "channel": channel})
    by_name_address = st.fixed_dictionaries({
        "first_name": st.sampled_from(FIRST_NAMES[1:]), "last_name": st.sampled_from(LAST_NAMES[1:]),
        "street_address": st.sampled_from([a[0] for a in ADDRESSES[1:4]]),
        "postal_code": st.sampled_from(["00100", "00170"]), "channel": channel,
    })
    return st.one_of(by_id, by_email, by_phone, by_name_address)


@dataclass
class DataSet:
    customers: list[dict]
    consents: list[dict]
    holdings: list[dict]
    lists: dict[str, list[dict]]
    settings: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    caps: list[dict] = field(default_factory=list)
    arbitration: list[str] | None = None

    @property
    def ids(self) -> list[str]:
        return [c["customer_id"] for c in self.customers]

    def campaign(self, root: Path) -> Campaign:
        campaign = Campaign(root=root, customers=self.customers, consents=self.consents, holdings=self.holdings)
        campaign.campaign = {"as_of": AS_OF, **self.settings}
        campaign.lists = [{"name": name, "kind": kind, "rows": self.lists[name], "header": LIST_HEADER, **extra}
                          for name, (kind, _, extra) in LISTS.items()]
        if self.caps:
            campaign.history, campaign.pressure = self.history, self.caps
        campaign.arbitration = self.arbitration
        return campaign


@st.composite
def data_sets(draw, purposes=("marketing", "marketing", "service", "survey", "contract", "legal"),
              holdout: bool = False, pressure: bool = False) -> DataSet:
    customer_ids = draw(ids)
    channels = draw(st.lists(st.sampled_from(CHANNELS), min_size=1, unique=True))
    return DataSet(
        history=draw(history_rows(customer_ids)) if pressure else [],
        caps=draw(caps.filter(bool)) if pressure else [],
        arbitration=draw(st.none() | st.permutations(channels).flatmap(
            lambda order: st.integers(1, len(order)).map(lambda k: list(order[:k])))) if pressure else None,
        customers=draw(customers(customer_ids)),
        consents=draw(events(customer_ids)),
        holdings=draw(holdings(customer_ids)),
        lists={name: draw(st.lists(list_row(customer_ids, row_channels), max_size=4))
               for name, (_, row_channels, _) in LISTS.items()},
        settings={
            "purpose": draw(st.sampled_from(purposes)),
            "channels": channels,
            "minimum_age": draw(st.sampled_from([0, 15, 18])),
            "segments": draw(st.sampled_from([["private", "business"]] * 3 + [["private"], ["business"]])),
            "business_roles": draw(st.sampled_from([[], ["ceo"], ["ceo", "cfo"]])),
            "product_group": draw(st.sampled_from([None, "pension"])),
            "dedupe": draw(st.booleans()),
            "holdout_percent": draw(st.floats(1, 99).map(lambda p: round(p, 2))) if holdout else 0,
        },
    )


def run(data: DataSet) -> BuildResult:
    """`audience build` through the Python API; the result is read into memory before the folder goes."""
    with tempfile.TemporaryDirectory() as folder:
        result = build(load_config(data.campaign(Path(folder)).write()))
    return result


def outcomes(result: BuildResult) -> dict[tuple[str, str], str | None]:
    """(customer_id, channel) → reason_code, None when sendable; read from the run's tables."""
    found: dict[tuple[str, str], str | None] = {}
    for channel, table in result.channel_tables.items():
        found.update({(c, channel): None for c in table.get_column("customer_id")})
    found.update({(c, ch): reason for c, ch, reason in result.exclusions.select(
        "customer_id", "channel", "reason_code").iter_rows()})
    return found


def sendable(result: BuildResult) -> set[tuple[str, str]]:
    return {key for key, reason in outcomes(result).items() if reason is None}


def passing_r1_to_r9(result: BuildResult) -> set[tuple[str, str]]:
    return {key for key, reason in outcomes(result).items() if reason in PASSES_THE_RULES}


def tables(result: BuildResult) -> dict:
    return {**{c: t.rows() for c, t in result.channel_tables.items()}, "exclusions": result.exclusions.rows()}


def assert_nobody_became_sendable(before: BuildResult, after: BuildResult) -> None:
    """Only R10 can hand a send to someone else: who was its duplicate may become the one kept."""
    reasons = outcomes(before)
    newly = sendable(after) - sendable(before)
    assert all(reasons[key] == "duplicate_contact" for key in newly), sorted(newly)
    assert passing_r1_to_r9(after) <= passing_r1_to_r9(before)


def bucket(campaign_name: str, customer_id: str) -> float:
    """R11's bucket, word for word from the contract."""
    digest = hashlib.sha256((campaign_name + ":" + customer_id).encode("utf-8")).hexdigest()
    return int(digest[:16], 16) / 2**64 * 100


FEW = settings(max_examples=15, deadline=None)


# --- conservation ----------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(data_sets(holdout=False) | data_sets(holdout=True) | data_sets(pressure=True))
def test_every_customer_is_decided_exactly_once_on_every_campaign_channel(data):
    result = run(data)
    rows = [(c, ch) for ch, t in result.channel_tables.items() for c in t.get_column("customer_id")]
    rows += list(result.exclusions.select("customer_id", "channel").iter_rows())
    assert sorted(rows) == sorted((c, ch) for c in data.ids for ch in data.settings["channels"])
    for channel, counts in result.summary["channels"].items():
        assert counts["candidates"] == counts["sendable"] + counts["excluded"] == len(data.ids)
    for reason, all_reasons in result.exclusions.select("reason_code", "all_reasons").iter_rows():
        assert all_reasons.split(";")[0] == reason


# --- monotonicity ----------------------------------------------------------------------------

@FEW
@given(st.data())
def test_adding_a_denied_event_never_makes_anyone_sendable(draw):
    data = draw.draw(data_sets())
    denial = draw.draw(events(data.ids, status=("denied",), min_size=1, max_size=1))
    assert_nobody_became_sendable(run(data), run(replace(data, consents=data.consents + denial)))


@FEW
@given(st.data())
def test_adding_a_suppression_row_never_makes_anyone_sendable(draw):
    data = draw.draw(data_sets())
    name = draw.draw(st.sampled_from(sorted(LISTS)))
    row = draw.draw(list_row(data.ids, LISTS[name][1]))
    more = {**data.lists, name: data.lists[name] + [row]}
    assert_nobody_became_sendable(run(data), run(replace(data, lists=more)))


@FEW
@given(st.data())
def test_a_deceased_date_never_makes_anyone_sendable(draw):
    data = draw.draw(data_sets())
    living = [i for i, c in enumerate(data.customers) if not c["deceased_date"]]
    assume(living)
    index = draw.draw(st.sampled_from(living))
    died = [dict(c) for c in data.customers]
    died[index]["deceased_date"] = draw.draw(st.sampled_from(DATES))
    assert_nobody_became_sendable(run(data), run(replace(data, customers=died)))


@FEW
@given(st.data())
def test_removing_a_granted_event_never_makes_anyone_sendable(draw):
    data = draw.draw(data_sets())
    data = replace(data, consents=data.consents + draw.draw(events(data.ids, status=("granted",), min_size=1,
                                                                   max_size=1)))
    index = draw.draw(st.sampled_from([i for i, e in enumerate(data.consents) if e["status"] == "granted"]))
    fewer = data.consents[:index] + data.consents[index + 1:]
    assert_nobody_became_sendable(run(data), run(replace(data, consents=fewer)))


@FEW
@given(st.data())
def test_removing_a_holding_never_makes_anyone_sendable(draw):
    data = draw.draw(data_sets())
    data = replace(data, holdings=data.holdings or [{"customer_id": data.ids[0], "product_group": "pension",
                                                      "start_date": "2020-01-01", "end_date": ""}])
    index = draw.draw(st.integers(0, len(data.holdings) - 1))
    fewer = data.holdings[:index] + data.holdings[index + 1:]
    assert_nobody_became_sendable(run(data), run(replace(data, holdings=fewer)))


# --- point in time ---------------------------------------------------------------------------

@FEW
@given(st.data())
def test_events_after_as_of_change_nothing(draw):
    data = draw.draw(data_sets())
    later = draw.draw(events(data.ids, times=AFTER, min_size=1, max_size=5))
    assert tables(run(replace(data, consents=data.consents + later))) == tables(run(data))


# --- purposes contract and legal -------------------------------------------------------------

@FEW
@given(st.data())
def test_contract_and_legal_purposes_do_not_change_when_consents_or_lists_change(draw):
    data = draw.draw(data_sets(purposes=("contract", "legal")))
    other_consents = draw.draw(events(data.ids))
    other_lists = {name: draw.draw(st.lists(list_row(data.ids, channels), max_size=4))
                   for name, (_, channels, _) in LISTS.items()}
    changed = replace(data, consents=other_consents, lists=other_lists)
    assert tables(run(changed)) == tables(run(data))


# --- determinism -----------------------------------------------------------------------------

@FEW
@given(data_sets(holdout=True), st.sampled_from(["csv", "parquet"]))
def test_two_builds_give_byte_identical_channel_and_exclusion_files(data, fmt):
    with tempfile.TemporaryDirectory() as folder:
        config = data.campaign(Path(folder)).write()
        written = []
        for out in ("first", "second"):
            result = build(load_config(config, out=Path(folder) / out, output_format=fmt))
            target = write_run(result, command=["audience", "build"], started_at=dt.datetime.now(dt.timezone.utc))
            written.append({p.name: p.read_bytes() for p in sorted(target.iterdir()) if not p.suffix == ".json"})
    assert len(written[0]) == len(data.settings["channels"]) + 1
    assert written[0] == written[1]


# --- holdout ---------------------------------------------------------------------------------

@FEW
@given(data_sets(holdout=True))
def test_holdout_is_the_same_customers_on_every_channel(data):
    held = run(data)
    without = run(replace(data, settings={**data.settings, "holdout_percent": 0}))
    name = "test-campaign"
    for (customer_id, channel), reason in outcomes(held).items():
        in_holdout = bucket(name, customer_id) < data.settings["holdout_percent"]
        would_send = outcomes(without)[customer_id, channel] in PASSES_THE_RULES
        assert (reason == "control_group") == (in_holdout and would_send), (customer_id, channel)


@FEW
@given(data_sets(holdout=True), st.floats(0, 100))
def test_holdout_only_grows_with_holdout_percent(data, other):
    low, high = sorted([data.settings["holdout_percent"], round(other, 2)])
    smaller = run(replace(data, settings={**data.settings, "holdout_percent": low}))
    larger = run(replace(data, settings={**data.settings, "holdout_percent": high}))

    def control(result):
        return {key for key, reason in outcomes(result).items() if reason == "control_group"}

    assert control(smaller) <= control(larger)
    assert passing_r1_to_r9(smaller) == passing_r1_to_r9(larger)


# --- contact pressure and arbitration ---------------------------------------------------------

@FEW
@given(st.data())
def test_adding_history_rows_never_makes_anyone_sendable(draw):
    """Only a stage can hand a send on: the duplicate of one now capped may become the one kept, and
    a customer capped on an earlier channel of arbitration's order gets the next one instead."""
    data = draw.draw(data_sets(pressure=True))
    more = replace(data, history=data.history + draw.draw(history_rows(data.ids, min_size=1, max_size=4)))
    before, after = run(data), run(more)
    reasons = outcomes(before)
    newly = sendable(after) - sendable(before)
    assert all(reasons[key] in ("duplicate_contact", "channel_arbitration") for key in newly), sorted(newly)
    assert passing_r1_to_r9(after) <= passing_r1_to_r9(before)


@FEW
@given(data_sets(pressure=True))
def test_after_arbitration_a_customer_is_sendable_on_at_most_one_channel_of_order(data):
    assume(data.arbitration)
    per_customer: dict[str, int] = {}
    for customer_id, channel in sendable(run(data)):
        if channel in data.arbitration:
            per_customer[customer_id] = per_customer.get(customer_id, 0) + 1
    assert all(count == 1 for count in per_customer.values())


@FEW
@given(st.data())
def test_contract_and_legal_letters_do_not_change_when_history_or_caps_change(draw):
    data = draw.draw(data_sets(purposes=("contract", "legal"), pressure=True))
    changed = replace(data, history=draw.draw(history_rows(data.ids)),
                      caps=[{**cap, "max_contacts": 1, "window_days": 3650} for cap in data.caps])
    assert tables(run(changed)) == tables(run(data))
