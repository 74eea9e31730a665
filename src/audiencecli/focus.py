"""What `explain` reads: the rows its customers' decisions depend on, and no others.

A customer's decision reads their own rows of every input (consents, holdings, contact history),
the list rows that can match one of their keys and, for `duplicate_contact`, the customers who
share their contact point on a channel, with those customers' own rows. Every filter here is a
cheap test on the raw values that holds for a superset of those rows: a value only the general
normalization could settle (one with a letter in a phone number, a non-ASCII character) is kept.
The build's own code then reads, checks, normalizes and decides on what was kept, so a row no
filter keeps cannot change an answer.

The reads, in order: the chosen customers (their keys); the customers whose raw contact points
could share one of those keys, normalized exactly as build does to find the ones that do; then
every input read through the filters of the chosen customers and those peers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

import phonenumbers
import polars as pl

from .config import Config
from .errors import InputError, ProblemLog
from .facts import POST_KEY_PARTS, contact_frame
from .normalize import PLAIN_KEY_PART
from .inputs import Inputs, Progress, RowFilters, load_inputs, no_progress
from .sources import Loaded, load_customers
from .sources.readers import RowFilter

# A phone number's last digits are in every spelling of it, in order, whatever separates them
# (national or international form, an extension after them): phonenumbers drops every other
# character, unless the value has three letters (a vanity number, its letters made digits) or
# a digit outside ASCII (made ASCII): such values are always kept.
PHONE_TAIL_DIGITS = 6
_NOT_ASCII = r"[^\x00-\x7F]"
_SPELLED_PHONE = r"(?:[A-Za-z][^A-Za-z]*){3}|" + _NOT_ASCII


@dataclass(frozen=True)
class Keys:
    """The values a customer's rows are found by: ids as build reads them (trimmed), emails
    normalized, phones as E.164, and the key parts (normalize.key_part) of postal codes and last
    names (two parts of the name-and-address key and of the postal address duplicates share)."""

    customer_ids: frozenset[str]
    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    postal_parts: frozenset[str] = frozenset()
    last_name_parts: frozenset[str] = frozenset()

    @classmethod
    def of(cls, contacts: pl.DataFrame) -> Keys:
        """The keys of every customer of `contacts` (facts.contact_frame)."""
        def values(column: pl.Series) -> frozenset[str]:
            return frozenset(column.drop_nulls().to_list())

        parts = contacts.get_column("post_key").str.split(",")  # normalize.join_key of POST_KEY_PARTS
        return cls(
            customer_ids=values(contacts.get_column("customer_id")),
            emails=values(contacts.get_column("email_norm")),
            phones=values(contacts.get_column("phone_e164")),
            postal_parts=values(parts.list.get(POST_KEY_PARTS.index("postal_code"))),
            last_name_parts=values(parts.list.get(POST_KEY_PARTS.index("last_name"))),
        )

    def of_customer_ids(self, columns: dict[str, pl.Expr]) -> pl.Expr:
        """The rows whose customer_id may be one of these (an input's rows by customer)."""
        return _id_rows(columns.get("customer_id"), self.customer_ids)

    def of_customer_ids_as_written(self, columns: dict[str, pl.Expr]) -> pl.Expr:
        """The rows whose customer_id is one of these as it is written (untrimmed)."""
        raw = columns.get("customer_id")
        return pl.lit(False) if raw is None or not self.customer_ids else raw.is_in(sorted(self.customer_ids))

    def of_contacts(self, columns: dict[str, pl.Expr]) -> pl.Expr:
        """The rows whose customer_id, email, phone, or postal code and last name together, may
        be one of these keys."""
        return pl.any_horizontal(
            _id_rows(columns.get("customer_id"), self.customer_ids),
            _email_rows(columns.get("email"), self.emails),
            _phone_rows(columns.get("phone"), self.phones),
            _part_rows(columns.get("postal_code"), self.postal_parts)
            & _part_rows(columns.get("last_name"), self.last_name_parts),
        )


def _id_rows(raw: pl.Expr | None, ids: frozenset[str]) -> pl.Expr:
    """An id that is one of `ids` once trimmed (as the readers trim it)."""
    if raw is None or not ids:
        return pl.lit(False)
    return raw.str.strip_chars().is_in(sorted(ids))


def _email_rows(raw: pl.Expr | None, emails: frozenset[str]) -> pl.Expr:
    """An email that is one of `emails` but for case and white space around it (of an ASCII
    value, all normalize.email_values changes), or one with a character outside ASCII."""
    if raw is None or not emails:
        return pl.lit(False)
    # Case is ignored in the addresses only: under (?i) the class of ASCII would take in the
    # Kelvin sign and the long s (their case folds are k and s).
    alternatives = "|".join(re.escape(email) for email in sorted(emails))
    return raw.str.contains(f"(?i:^\\s*(?:{alternatives})\\s*$)|{_NOT_ASCII}")


def _phone_rows(raw: pl.Expr | None, phones: frozenset[str]) -> pl.Expr:
    """A phone number whose digits hold the last digits of one of `phones` in order, or one
    spelled with letters or non-ASCII digits."""
    if raw is None or not phones:
        return pl.lit(False)
    pattern = "|".join("[^0-9]*".join(tail) for tail in sorted({_tail(phone) for phone in phones}))
    return raw.str.contains(f"{pattern}|{_SPELLED_PHONE}")


def _tail(e164: str) -> str:
    """The last digits of the national significant number (never of the country code, which a
    national spelling lacks)."""
    national = phonenumbers.national_significant_number(phonenumbers.parse(e164))
    return national[-PHONE_TAIL_DIGITS:]


def _part_rows(raw: pl.Expr | None, parts: frozenset[str]) -> pl.Expr:
    """A plainly spelled value whose lower-case form is one of `parts`, or any other value; a
    missing one when a part is empty (a missing value's part)."""
    if raw is None or not parts:
        return pl.lit(raw is None and "" in parts)
    # A plainly spelled part's key part is its lower-case form (normalize.key_part_values).
    kept = raw.str.to_lowercase().is_in(sorted(parts)) | ~raw.str.contains(PLAIN_KEY_PART)
    return kept | raw.is_null() if "" in parts else kept


def focused_inputs(config: Config, customer_ids: list[str], *, allow_stale: bool = False,
                   progress: Progress = no_progress) -> Inputs:
    """The inputs as build would read them, but only the rows the decisions of `customer_ids`
    depend on (see the module's docstring). Data errors in the rows read are reported as build
    reports them (exit 3), then missing or stale lists (exit 4); `explain` tells unknown ids."""
    progress("finding the customers")
    keys = Keys(customer_ids=frozenset(customer_ids))
    # Ids as written first: Parquet's statistics and dictionaries answer that without decoding
    # the column. Only when one is not found so are the ids trimmed first (build trims them).
    # Either way the customers kept in the end were found by their trimmed ids, duplicates and all.
    chosen = _customers(config, keys.of_customer_ids_as_written, ProblemLog())
    if chosen is None or chosen[1].get_column("customer_id").n_unique() < len(keys.customer_ids):
        chosen = _customers(config, keys.of_customer_ids, ProblemLog())
    customers = None
    if chosen is not None:  # otherwise load_inputs reports the data errors of their rows
        progress("finding who shares their contact points")
        keys, customers = _with_peers(config, chosen[1])
    progress("reading their rows")
    return load_inputs(config, allow_stale=allow_stale, progress=progress, customers=customers, rows=RowFilters(
        customers=keys.of_customer_ids, of_customers=keys.of_customer_ids, lists=keys.of_contacts))


def _with_peers(config: Config, chosen: pl.DataFrame) -> tuple[Keys, Loaded | None]:
    """The keys of the chosen customers and of those who share a usable contact point with one
    of them on a channel where duplicate_contact applies (their decisions decide who keeps it);
    and, when they were looked for, the rows of all of them (found by trimmed ids too). The rows
    read to find them are checked as any others: their data errors are raised (exit 3)."""
    channels = set(config.channels) if config.dedupe else set()
    ids = frozenset(chosen.get_column("customer_id").to_list())
    emails = Keys.of(chosen.filter(pl.col("email_valid") & pl.lit("email" in channels))).emails
    phones = Keys.of(chosen.filter(pl.lit(bool(channels & {"sms", "phone"})))).phones
    addresses = chosen.filter(pl.col("address_problem").is_null() & pl.lit("post" in channels))
    at = Keys.of(addresses)
    shared = Keys(ids, emails, phones, at.postal_parts, at.last_name_parts)
    if not (emails or phones or addresses.height):
        return Keys.of(chosen), None
    problems = ProblemLog()
    candidates = _customers(config, shared.of_contacts, problems)
    problems.raise_as(InputError)  # rows read are checked, a peer's as any other
    loaded, contacts = candidates
    keys = Keys.of(contacts.filter(pl.any_horizontal(
        pl.col("customer_id").is_in(sorted(ids)),
        pl.col("email_norm").is_in(sorted(emails)),
        pl.col("phone_e164").is_in(sorted(phones)),
        pl.col("post_key").is_in(addresses.get_column("post_key").implode()),
    )))
    kept = loaded.frame.filter(pl.col("customer_id").is_in(sorted(keys.customer_ids)))
    return keys, replace(loaded, frame=kept, rows=kept.height)


def _customers(config: Config, only: RowFilter, problems: ProblemLog) -> tuple[Loaded, pl.DataFrame] | None:
    """The customers `only` keeps and their contacts (facts.contact_frame); None when their rows
    have data errors (added to `problems`)."""
    loaded = load_customers(config.customers, problems, only)
    if loaded is None or problems:
        return None
    return loaded, contact_frame(loaded.frame)
