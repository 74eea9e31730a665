"""The Polars engine our plans run on.

Polars 2 runs `collect()` on its streaming engine by default. On this workload's plans (joins
of one row per customer with `maintain_order`, filters, per-rule partitions) the in-memory
engine took 2–3× less CPU at 1M customers on 2 cores (one channel's rules: 0.7 s → 0.3 s
CPU), and every plan here fits in memory by design: the big inputs are narrowed to small
integer columns before they are joined.
"""
from __future__ import annotations

import threading
from typing import Callable, Generic, Iterable, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

ENGINE = "in-memory"

# Independent steps (channels, output files) run this many at a time: a step often keeps only one
# core busy (a hash, a gather, compressing a file), and the machine this was tuned on has two.
WORKERS = 2


class SharedWork(Generic[Item, Result]):
    """Items done by whichever thread asks next, their results kept in the items' order.

    The consent log is parsed a slice at a time on the second core; the first core, once its own
    work is done, takes slices too, instead of waiting (at 10M customers it waited 16 s). Items
    are taken from the iterator under a lock, one at a time; `work` runs outside it.
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
