"""How the build's work is spread over the cores; the domain modules do not know about it.

Domain functions that have independent steps take a `together` argument (run these jobs, give
their results in order), sequential by default; `pipeline` hands them `together` from here. The
input reading's choreography (`read_inputs`) lives here too: which file is read on which thread,
and who helps whom once its own work is done.

The number of workers is the machine's (`os.cpu_count()`), or `AUDIENCE_WORKERS` when set.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, TypeVar

from .errors import Interrupted

Item = TypeVar("Item")
Result = TypeVar("Result")
Together = Callable[[list[Callable[[], Any]]], list[Any]]


def workers() -> int:
    """Independent steps run this many at a time: a step often keeps only one core busy (a hash,
    a gather, compressing a file). At least 1; `AUDIENCE_WORKERS` overrides the machine's count."""
    configured = os.environ.get("AUDIENCE_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(os.cpu_count() or 1, 1)


def sequential(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Each job in turn: what a domain function does when no one tells it otherwise."""
    return [job() for job in jobs]


def together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """The jobs' results in order, `workers()` at a time. On an error (or a Ctrl-C), jobs not yet
    started are dropped and running ones finish first, so that nothing is left writing."""
    count = min(workers(), len(jobs))
    if count <= 1:
        return sequential(jobs)
    pool = ThreadPoolExecutor(max_workers=count)
    try:
        futures = [pool.submit(job) for job in jobs]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class SharedWork(Generic[Item, Result]):
    """Items done by whichever thread asks next, their results kept in the items' order.

    The consent log is parsed a slice at a time on a second thread; the first, once its own work
    is done, takes slices too instead of waiting. Items are taken from the iterator under a lock,
    one at a time; `work` runs outside it.
    """

    def __init__(self, items: Iterable[Item], work: Callable[[Item], Result]):
        self._items = enumerate(items)
        self._work = work
        self._lock = threading.Condition()
        self._results: dict[int, Result] = {}
        self._running = 0
        self._finished = False
        self._error: BaseException | None = None

    def help(self) -> None:
        """Do items until none is left to take; returns at once when none is."""
        while True:
            with self._lock:
                if self._finished:
                    return
                try:
                    index, item = next(self._items)
                except StopIteration:
                    self._finished = True
                    return
                except BaseException as exc:
                    self._fail(exc)
                    raise
                self._running += 1
            try:
                result = self._work(item)
            except BaseException as exc:
                with self._lock:
                    self._running -= 1
                    self._fail(exc)
                raise
            with self._lock:
                self._results[index] = result
                self._running -= 1
                self._lock.notify_all()

    def results(self) -> list[Result]:
        """Every item's result in order, once done (this thread helps, then waits for the others).
        Raises the first error any thread met."""
        self.help()
        with self._lock:
            while self._running:
                self._lock.wait()
            if self._error is not None:
                raise self._error
            return [self._results[index] for index in sorted(self._results)]

    def _fail(self, exc: BaseException) -> None:
        """Called with the lock held: no more items are taken; waiters wake."""
        self._error = self._error or exc
        self._finished = True
        self._lock.notify_all()


@dataclass
class InputReads:
    """The reads of a build, for `read_inputs` to place on threads. Each is a function of the
    domain's; the problems they find are theirs to collect.

    consents(map_slices): read the log, its slices parsed by `map_slices(slices, work)`.
    side: the other reads (the holdings; a new input goes here), each done by whichever thread is
    free first, their results in order. customers(): read the customers; returns (customers, what
    `after_consents` needs of them, or None when it must not run). lists(): read the lists.
    after_customers(customers): once customers and lists are read, returns (customers to keep,
    what it made). after_consents(consents, of_customers): once both are read, returns
    (consents to keep, what it made). `consents_beside_customers`: the log is read beside the
    customers (a Parquet log, a slice at a time); otherwise first, both threads on it.
    """

    consents: Callable[[Callable[[Iterable, Callable], list]], Any]
    side: list[Callable[[], Any]]
    customers: Callable[[], tuple[Any, Any]]
    lists: Callable[[], Any]
    after_customers: Callable[[Any], tuple[Any, Any]] | None = None
    after_consents: Callable[[Any, Any], tuple[Any, Any]] | None = None
    consents_beside_customers: bool = True


@dataclass
class InputsRead:
    customers: Any
    consents: Any
    side: list[Any]
    lists: Any
    made_of_customers: Any = None
    made_of_consents: Any = None


def read_inputs(reads: InputReads) -> InputsRead:
    """Run the reads on two threads. The consent log goes to the second thread; a log read beside
    the customers is shared a slice at a time, the first thread taking slices once its own work is
    done; a log parsed whole is read first, both threads on it, and the customers after it (all at
    once they would not fit in memory at 10M customers). The side reads go to whichever thread
    is free first. `after_consents` runs on the second thread while the first runs `after_customers`."""
    beside = reads.consents_beside_customers
    first_read = threading.Event()
    if beside:
        first_read.set()
    of_customers: Future[Any] = Future()
    consent_slices: Future[SharedWork | None] = Future()
    side_work = SharedWork(reads.side, lambda read: read())

    def shared_map(items: Iterable, work: Callable) -> list:
        shared = SharedWork(items, work)
        consent_slices.set_result(shared)
        return shared.results()

    def second_thread() -> tuple[Any, Any]:
        try:
            try:
                consents = reads.consents(shared_map)
            finally:
                if not consent_slices.done():  # nothing to share: the file could not be read
                    consent_slices.set_result(None)
            if not beside:
                side_work.help()
        finally:
            first_read.set()
        made = None
        if reads.after_consents is not None:
            needed = of_customers.result()
            if needed is not None:
                consents, made = reads.after_consents(consents, needed)
        side_work.help()
        return consents, made

    pool = ThreadPoolExecutor(max_workers=1)
    stopped = False
    try:
        pending = pool.submit(second_thread)
        try:
            if not beside:  # this thread does the side reads and helps with the log before the customers
                side_work.help()
                if (slices := consent_slices.result()) is not None:
                    slices.help()
            first_read.wait()
            customers, needed = reads.customers()
            of_customers.set_result(needed)
        finally:
            if not of_customers.done():  # an error or a signal: the second thread must not wait for ever
                of_customers.set_result(None)
        lists = reads.lists()
        made = None
        if reads.after_customers is not None:
            customers, made = reads.after_customers(customers)
        if (slices := consent_slices.result()) is not None:
            slices.help()
        side_work.help()
        consents, made_of_consents = pending.result()
        side = side_work.results()
    except Interrupted:
        stopped = True
        raise
    finally:
        # A signal does not wait for the reads in flight: they write nothing, and the process is
        # ending (the CLI exits without joining them). An error waits, as a library caller expects.
        pool.shutdown(wait=not stopped, cancel_futures=True)
    return InputsRead(customers=customers, consents=consents, side=side, lists=lists,
                      made_of_customers=made, made_of_consents=made_of_consents)
