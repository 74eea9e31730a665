"""`validate`: everything `build` checks, and what it would warn about, without writing anything."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from . import schedule
from .config import Config
from .errors import Problem, shown
from .facts import contact_frame, history_orphans, number_consents, orphan_ids, suppression_matches
from .inputs import Progress, check_inputs, no_progress


@dataclass
class Validation:
    """The problems by exit code (3 data, 4 lists), warnings, notes and a data-quality table."""

    config: Config
    data_problems: list[Problem]
    data_total: int
    list_problems: list[Problem]
    list_total: int
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quality: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """The first of 3, 4 that applies, as `build` would exit; 0 when the build would run."""
        if self.data_total:
            return 3
        return 4 if self.list_total else 0

    def as_dict(self) -> dict:
        return {
            "config": str(self.config.path),
            "campaign": self.config.name,
            "exit_code": self.exit_code,
            "errors": [{"exit_code": 3, "problem": str(p)} for p in self.data_problems]
            + [{"exit_code": 4, "problem": str(p)} for p in self.list_problems],
            "error_total": self.data_total + self.list_total,
            "warnings": self.warnings,
            "notes": self.notes,
            "quality": self.quality,
        }


def validate(config: Config, *, allow_stale: bool = False, now: dt.datetime | None = None,
             progress: Progress = no_progress) -> Validation:
    """Load and check every input and applying list exactly as `build` does; collect, never raise.

    As in build, the contacts are normalized while the consent log is read, and the log's ids
    are looked for among the customers on the other core."""
    def normalized(customers: pl.DataFrame) -> pl.DataFrame:
        progress("normalizing contacts")
        return contact_frame(customers, schedule.together)

    def consent_orphans(consents, customer_ids: pl.Series):
        return consents, orphan_ids(number_consents(consents.frame, customer_ids))

    check = check_inputs(config, allow_stale=allow_stale, progress=progress, meanwhile=normalized,
                         with_consents=consent_orphans)
    result = Validation(
        config=config,
        data_problems=check.data_problems.listed, data_total=check.data_problems.total,
        list_problems=check.list_problems.listed, list_total=check.list_problems.total,
    )
    for skipped in config.skipped_lists():
        result.notes.append(f"list {shown(skipped.name)} does not apply to this campaign (its channels and purposes "
                            "do not meet the campaign's); build does not read it")
    inputs = check.inputs
    if inputs is None:
        return result
    history = inputs.history.loaded if inputs.history is not None else None
    for loaded in (inputs.customers, inputs.consents, inputs.holdings, history, *inputs.lists.values()):
        if loaded is not None and loaded.unknown_columns:
            result.warnings.append(f"{loaded.label}: unknown columns {listed_names(loaded.unknown_columns)} (ignored)")
    contacts = check.made  # made whenever the inputs have no problem
    orphans = check.made_of_consents
    if orphans.len():
        result.warnings.append(f"{inputs.consents.label}: {orphans.len()} consent customer_id(s) not in the "
                               f"customers file, e.g. {', '.join(orphans.head(5).to_list())}")
    orphans = history_orphans(inputs, contacts.get_column("customer_id"))
    if orphans is not None and orphans.len():
        result.warnings.append(f"{history.label}: {orphans.len()} contact history customer_id(s) not in the "
                               f"customers file, e.g. {', '.join(orphans.head(5).to_list())}")
    result.warnings.extend(inputs.warnings)  # those build gives while reading: lists dated after as_of, ...
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    future = inputs.consents.frame.filter(pl.col("recorded_at") > pl.lit(moment).dt.cast_time_unit("us"))
    if future.height:
        lines = ", ".join(str(n) for n in future.get_column("_line").head(5).to_list())
        result.warnings.append(f"{inputs.consents.label}: {future.height} consent event(s) dated in the future "
                               f"(line{'s' if future.height > 1 else ''} {lines}{', …' if future.height > 5 else ''})")
    for stale in inputs.stale_lists if allow_stale else ():
        result.warnings.append(f"list {shown(stale.name)} is stale (list_date {stale.list_date}, "
                               f"{stale.age_days(config.as_of_date)} days old); allowed by --allow-stale")
    suppression_matches(contacts, config, inputs.lists, result.warnings, schedule.together)
    result.quality = data_quality(contacts)
    return result


# A broken export's header can have millions of columns, each name as long as a line: the warning
# names the first few, each shortened, and counts the others.
LISTED_NAMES = 10
LISTED_NAME_CHARS = 80


def listed_names(names: tuple[str, ...]) -> str:
    """The first LISTED_NAMES names, each of at most LISTED_NAME_CHARS characters, and how many more."""
    listed = ", ".join(name if len(name) <= LISTED_NAME_CHARS else f"{name[:LISTED_NAME_CHARS - 1]}…"
                       for name in names[:LISTED_NAMES])
    return listed + (f" and {len(names) - LISTED_NAMES} more" if len(names) > LISTED_NAMES else "")


def data_quality(contacts: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Missing / invalid / valid per contact field, as missing_contact and invalid_contact would see them."""
    row = contacts.select(
        email_missing=pl.col("email_norm").is_null().sum(),
        email_invalid=(pl.col("email_norm").is_not_null() & ~pl.col("email_valid")).sum(),
        email_valid=pl.col("email_valid").sum(),
        phone_missing=pl.col("phone").is_null().sum(),
        phone_invalid=(pl.col("phone").is_not_null() & pl.col("phone_e164").is_null()).sum(),
        phone_valid=pl.col("phone_e164").is_not_null().sum(),
        phone_mobile=pl.col("phone_mobile").fill_null(False).sum(),
        address_missing=(pl.col("address_problem") == "missing").fill_null(False).sum(),
        address_invalid=(pl.col("address_problem") != "missing").fill_null(False).sum(),
        address_valid=pl.col("address_problem").is_null().sum(),
    ).row(0, named=True)
    quality: dict[str, dict[str, int]] = {}
    for key, value in row.items():
        name, kind = key.split("_", 1)
        quality.setdefault(name, {})[kind] = int(value)
    return quality
