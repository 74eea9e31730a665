"""Every input of a campaign read and checked: the sources (one module per input) placed on the
cores by `schedule.read_inputs`, the problems of all of them gathered in the contract's order.

Everything here returns data. A new input is a module in `sources/`, a field of `Inputs`, and
one read in `check_inputs`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import polars as pl

from . import schedule
from .config import HELSINKI, Config, FileSpec, SuppressionList
from .consent import active_holders, active_holding
from .errors import InputError, Problem, ProblemLog, StaleListError, shown
from .sources import History, Loaded, counted_by, file_label, load_consents, load_customers, load_history, load_holdings, load_list
from .sources.readers import RowFilter

Progress = Callable[[str], None]


def no_progress(_: str) -> None:
    return None


@dataclass(frozen=True)
class InputFacts:
    """What the manifest records of one input or list."""

    role: str
    path: str | None  # None for a query
    sha256: str  # of a query: of its rows as read (sources/database.canonical_digest)
    rows: int
    list_date: str | None = None
    query: str | None = None


@dataclass
class Inputs:
    customers: Loaded
    consents: Loaded
    holdings: Loaded | None  # the facts only: the rows are let go once `holders` is made of them
    lists: dict[str, Loaded]
    stale_lists: tuple[SuppressionList, ...]
    skipped_lists: tuple[SuppressionList, ...]
    holders: pl.DataFrame  # customer_id, holding_line: see consent.active_holders
    warnings: list[str] = field(default_factory=list)
    history: History | None = None  # the contact history's rows inside the caps' widest window

    def facts(self, config: Config) -> list[InputFacts]:
        def fact(role: str, spec: FileSpec, loaded: Loaded, list_date: str | None = None) -> InputFacts:
            return InputFacts(role, None if spec.query is not None else str(spec.path), loaded.sha256, loaded.rows,
                              list_date, spec.query)

        facts = [fact("customers", config.customers, self.customers), fact("consents", config.consents, self.consents)]
        if self.holdings is not None and config.holdings is not None:
            facts.append(fact("holdings", config.holdings, self.holdings))
        if self.history is not None and config.contact_history is not None:
            facts.append(fact("contact_history", config.contact_history, self.history.loaded))
        for spec in config.suppressions:
            if spec.name in self.lists:
                facts.append(fact(f"list:{spec.name}", spec.file, self.lists[spec.name],
                                  spec.list_date.isoformat() if spec.list_date else None))
        return facts


@dataclass(frozen=True)
class RowFilters:
    """Which rows of each input to read (see readers.RowFilter); None: every row. `explain` reads
    only its customers' rows (focus.py); everything else reads every row."""

    customers: RowFilter | None = None
    of_customers: RowFilter | None = None  # the consents, holdings and history, by their customer_id
    lists: RowFilter | None = None


EVERY_ROW = RowFilters()


@dataclass
class InputCheck:
    """Everything reading the inputs found: the loaded inputs (None when data errors stop the build)
    and the problems, by exit code: data errors (3), then missing or stale lists (4). `made`,
    `made_of_consents`: what `meanwhile` and `with_consents` made (see check_inputs)."""

    inputs: Inputs | None
    data_problems: ProblemLog
    list_problems: ProblemLog
    made: Any = None
    made_of_consents: Any = None

    def raise_problems(self) -> Inputs:
        """The inputs; or the first of exit codes 3, 4 that applies."""
        self.data_problems.raise_as(InputError)
        self.list_problems.raise_as(StaleListError)
        return self.inputs


def check_inputs(config: Config, *, allow_stale: bool = False, progress: Progress = no_progress,
                 meanwhile: Callable[[pl.DataFrame], Any] | None = None,
                 with_consents: Callable[[Loaded, pl.Series], tuple[Loaded, Any]] | None = None,
                 rows: RowFilters = EVERY_ROW, customers_read: Loaded | None = None) -> InputCheck:
    """Read every input and every applying list, collecting every problem instead of stopping.

    Two kinds of work may be done while reading, only as long as no problem has been found:
    `meanwhile(customers)` once the customers and lists are read (the customers' rows are then
    let go: what is needed of them lives on in what it made); `with_consents(consents,
    customer_ids)` once both the consent log and the customers are read, giving back the
    consents to keep (perhaps without their rows) and what it made. Problems are listed
    customers', consents', holdings', lists'. `rows`: which rows of each input are read;
    `customers_read`: the customers, when the caller has read them already (explain)."""
    problems = ProblemLog()
    list_problems = ProblemLog()
    consent_problems, holding_problems, list_data_problems = ProblemLog(), ProblemLog(), ProblemLog()
    history_problems = ProblemLog()
    progress("reading consents" + (" and holdings" if config.holdings is not None else ""))

    def consents(map_slices) -> Loaded | None:
        return load_consents(config.consents, consent_problems, map_slices, rows.of_customers)

    def holdings() -> tuple[Loaded | None, pl.DataFrame]:
        # Only the campaign's active holdings are kept, a slice at a time.
        keep = active_holding(config.product_group, config.as_of_date)
        loaded = load_holdings(config.holdings, holding_problems, keep, rows.of_customers) \
            if config.holdings is not None else None
        holders = active_holders(loaded.frame if loaded is not None else None, config.product_group,
                                 config.as_of_date)
        return release(loaded) if loaded is not None else None, holders

    def history() -> History | None:
        if config.contact_history is None:
            return None
        return load_history(config.contact_history, history_problems, history_since(config), config.as_of,
                            dt.datetime.now(HELSINKI), counted_rows(config), rows.of_customers)

    def customers() -> tuple[Loaded | None, pl.Series | None]:
        progress("reading customers")
        loaded = customers_read if customers_read is not None else load_customers(config.customers, problems,
                                                                                    rows.customers)
        usable = loaded is not None and not problems
        return loaded, loaded.frame.get_column("customer_id") if usable else None

    def lists() -> tuple[dict[str, Loaded], list[SuppressionList]]:
        return read_lists(config, allow_stale, list_data_problems, list_problems, progress, rows.lists)

    def after_customers(loaded: Loaded | None) -> tuple[Loaded | None, Any]:
        if loaded is None or problems or list_data_problems:
            return loaded, None
        return release(loaded), meanwhile(loaded.frame)

    def after_consents(loaded: Loaded | None, customer_ids: pl.Series) -> tuple[Loaded | None, Any]:
        if loaded is None or consent_problems:
            return loaded, None
        return with_consents(loaded, customer_ids)

    read = schedule.read_inputs(schedule.InputReads(
        consents=consents, side=[holdings, history], customers=customers, lists=lists,
        after_customers=after_customers if meanwhile is not None else None,
        after_consents=after_consents if with_consents is not None else None,
        # A CSV log is parsed whole, and then read before the customers (beside them it took
        # twice the memory); a Parquet log is read a slice at a time beside them.
        consents_beside_customers=config.consents.path.suffix.lower() == ".parquet",
    ))
    for found in (consent_problems, holding_problems, history_problems, list_data_problems):
        problems.extend(found.listed, found.total)
    (held, holders), sent = read.side
    found_lists, stale = read.lists
    inputs = None
    if not problems:
        inputs = Inputs(customers=read.customers, consents=read.consents, holdings=held, lists=found_lists,
                        stale_lists=tuple(stale), skipped_lists=config.skipped_lists(), holders=holders,
                        history=sent)
        inputs.warnings.extend(future_list_warnings(config, found_lists))
        if sent is not None and (warning := sent.after_now_warning()):
            inputs.warnings.append(warning)
    return InputCheck(inputs=inputs, data_problems=problems, list_problems=list_problems,
                      made=read.made_of_customers, made_of_consents=read.made_of_consents)


def history_since(config: Config) -> dt.datetime | None:
    """The start of the widest window of the caps that count for the campaign (rows sent after it
    matter); as_of when none counts; None without caps at all: then every row is read."""
    if not config.pressure:
        return None
    capped = [config.pressure[i].window_days for i in config.counting_cap_indexes()]
    return config.as_of - dt.timedelta(days=max(capped)) if capped else config.as_of


def counted_rows(config: Config) -> pl.Expr:
    """The history rows some cap counts for the campaign: the only ones build keeps (every row
    read is still checked, and its customer_id looked for among the customers)."""
    caps = [counted_by(config.pressure[i], config.name, config.as_of) for i in config.counting_cap_indexes()]
    return pl.any_horizontal(caps) if caps else pl.lit(False)


def read_lists(config: Config, allow_stale: bool, problems: ProblemLog, list_problems: ProblemLog,
               progress: Progress = no_progress,
               only: RowFilter | None = None) -> tuple[dict[str, Loaded], list[SuppressionList]]:
    """The applying suppression lists that can be read (the rows `only` keeps), and those that are stale."""
    lists: dict[str, Loaded] = {}
    stale: list[SuppressionList] = []
    for spec in config.applying_lists():
        progress(f"reading list {shown(spec.name)}")
        # A file that is missing or cannot be opened fails closed (exit 4); a query's problems are
        # data errors, found when it runs.
        if spec.file.query is None and (unopenable := _unopenable(spec)) is not None:
            list_problems.add(unopenable)
            continue
        loaded = load_list(spec.file, spec.channels, problems, only)
        if loaded is not None:
            lists[spec.name] = loaded
        if spec.is_stale(config.as_of_date):
            stale.append(spec)
            if not allow_stale:
                list_problems.add(Problem(
                    file=file_label(spec.file.path),
                    message=f"suppression list {shown(spec.name)} is stale: list_date {spec.list_date}, "
                            f"{spec.age_days(config.as_of_date)} days old at as_of {config.as_of_date}, "
                            f"max_age_days {spec.max_age_days}; refresh it or run with --allow-stale",
                ))
    return lists, stale


def future_list_warnings(config: Config, lists: dict[str, Loaded]) -> list[str]:
    """A list dated after as_of is not stale (section 5) and is applied; but a date in the future
    of the campaign is more likely a typing error or the wrong file than a plan, so it is said."""
    return [f"list {shown(spec.name)}: list_date {spec.list_date} is after as_of {config.as_of_date}; applied as it is"
            for spec in config.applying_lists()
            if spec.name in lists and spec.list_date is not None and spec.list_date > config.as_of_date]


def _unopenable(spec: SuppressionList) -> Problem | None:
    """Why a list's file cannot be read at all (missing, or refused by the system); None when it can."""
    label = file_label(spec.file.path)
    if not spec.file.path.exists():
        return Problem(file=label, message=f"suppression list {shown(spec.name)} is missing; the build fails closed")
    try:
        with spec.file.path.open("rb"):
            return None
    except OSError as exc:
        return Problem(file=label, message=f"suppression list {shown(spec.name)} cannot be opened ({exc.strerror}); "
                                           "the build fails closed")


def load_inputs(config: Config, *, allow_stale: bool = False, progress: Progress = no_progress,
                rows: RowFilters = EVERY_ROW, customers: Loaded | None = None) -> Inputs:
    """Read every input and every applying list; fail with the first of exit codes 3, 4 that applies.

    Data errors of all files are gathered first (exit 3); only then are missing or stale lists
    reported (exit 4), as the contract orders them.
    """
    return check_inputs(config, allow_stale=allow_stale, progress=progress, rows=rows,
                        customers_read=customers).raise_problems()


def release(loaded: Loaded) -> Loaded:
    """The input's facts without its rows (they live on in what was made from them)."""
    return replace(loaded, frame=loaded.frame.clear())
