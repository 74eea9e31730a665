#!/usr/bin/env python3
"""Where the contact history's time goes: load, numbering, cap counts, pressure texts.

    .venv/bin/python bench/history.py CONFIG

Loads the customers (for their ids) and the campaign's contact history as `audience build`
does, then numbers the kept rows, counts them per cap and makes the pressure texts, printing
the wall seconds of each step, the rows it made and the process's resident and peak memory
after it. One process, no writing.
"""
from __future__ import annotations

import datetime as dt
import resource
import sys
import time
from pathlib import Path

from audiencecli.config import HELSINKI, load_config
from audiencecli.errors import ProblemLog
from audiencecli.facts import cap_counts, number_consents, pressure_texts
from audiencecli.inputs import counted_rows, history_since
from audiencecli.sources import load_history
from audiencecli.sources.customers import load_customers


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    config = load_config(Path(argv[0]))
    if config.contact_history is None:
        print("the campaign has no contact_history", file=sys.stderr)
        return 2
    problems = ProblemLog()
    started = time.perf_counter()

    def lap(message: str) -> None:
        nonlocal started
        now = time.perf_counter()
        with open("/proc/self/statm") as statm:
            resident = int(statm.read().split()[1]) * resource.getpagesize() / 1e9
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(f"{now - started:6.2f} s   RSS {resident:5.2f} GB   peak {peak:5.2f} GB   {message}", flush=True)
        started = now

    customers = load_customers(config.customers, problems)
    lap(f"customers ({customers.frame.height:,})")
    history = load_history(config.contact_history, problems, history_since(config), config.as_of,
                           dt.datetime.now(HELSINKI), counted_rows(config))
    lap(f"history loaded ({history.loaded.rows:,} rows in the file, {history.loaded.frame.height:,} kept)")
    numbered = number_consents(history.loaded.frame, customers.frame.get_column("customer_id"))
    lap("kept rows numbered")
    counts = cap_counts(config, numbered)
    lap(f"cap counts ({counts.height:,})")
    texts = pressure_texts(config, counts)
    lap(f"pressure texts ({texts.height:,} customer × channel)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
