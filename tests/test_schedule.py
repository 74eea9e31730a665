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


@pytest.mark.parametrize("configured, expected", [("3", 3), (" 1 ", 1)])
def test_audience_workers_sets_the_number_of_workers(monkeypatch, configured, expected):
    from audiencecli.schedule import workers

    monkeypatch.setenv("AUDIENCE_WORKERS", configured)
    assert workers() == expected


@pytest.mark.parametrize("configured", ["", "0", "-2", "two", "1.5"])
def test_without_a_usable_audience_workers_the_machine_decides(monkeypatch, configured):
    import os

    from audiencecli.schedule import workers

    monkeypatch.setenv("AUDIENCE_WORKERS", configured)
    assert workers() == max(os.cpu_count() or 1, 1)


@pytest.mark.parametrize("count", ["1", "4"])
def test_together_gives_the_results_in_the_jobs_order(monkeypatch, count):
    from audiencecli.schedule import together

    monkeypatch.setenv("AUDIENCE_WORKERS", count)
    assert together([lambda i=i: i * i for i in range(7)]) == [i * i for i in range(7)]


def test_one_worker_runs_the_jobs_in_turn_on_the_calling_thread(monkeypatch):
    from audiencecli.schedule import together

    monkeypatch.setenv("AUDIENCE_WORKERS", "1")
    threads = together([lambda: threading.current_thread() for _ in range(3)])
    assert threads == [threading.current_thread()] * 3


def test_an_error_in_a_job_is_raised_and_later_jobs_do_not_start(monkeypatch):
    from audiencecli.schedule import together

    monkeypatch.setenv("AUDIENCE_WORKERS", "1")
    started = []

    def job(i: int) -> int:
        started.append(i)
        if i == 1:
            raise ValueError("job 1 failed")
        return i

    with pytest.raises(ValueError, match="job 1"):
        together([lambda i=i: job(i) for i in range(4)])
    assert started == [0, 1]
