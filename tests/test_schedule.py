"""SharedWork: items done by whichever thread asks next, results in the items' order."""
from __future__ import annotations

import threading

import pytest

from audiencecli.schedule import SharedWork


def test_results_come_in_the_items_order_whichever_thread_did_them():
    both_started = threading.Barrier(2, timeout=10)
    done_by: dict[int, str] = {}

    def work(item: int) -> int:
        if item < 2:
            both_started.wait()  # the first two items are done at once, one by each thread
        done_by[item] = threading.current_thread().name
        return item * 10

    shared = SharedWork(range(6), work)
    helper = threading.Thread(target=shared.help, name="helper")
    helper.start()
    results = shared.results()
    helper.join()
    assert results == [0, 10, 20, 30, 40, 50]
    assert {done_by[0], done_by[1]} == {"helper", threading.current_thread().name}


def test_an_error_in_one_thread_is_raised_where_the_results_are_asked_for_and_stops_the_work():
    taken = []

    def work(item: int) -> int:
        taken.append(item)
        if item == 1:
            raise ValueError("slice 1 is bad")
        return item

    shared = SharedWork(range(5), work)
    with pytest.raises(ValueError, match="slice 1"):
        shared.help()
    with pytest.raises(ValueError, match="slice 1"):
        shared.results()
    assert taken == [0, 1]


def test_an_error_reading_the_items_is_raised_too():
    def items():
        yield 0
        raise OSError("cannot read slice 1")

    shared = SharedWork(items(), lambda item: item)
    with pytest.raises(OSError, match="slice 1"):
        shared.results()


def test_help_returns_at_once_when_no_item_is_left():
    shared = SharedWork([1], lambda item: item)
    assert shared.results() == [1]
    shared.help()
    assert shared.results() == [1]
