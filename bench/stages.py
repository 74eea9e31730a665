#!/usr/bin/env python3
"""Where a build spends its time and memory, stage by stage.

    .venv/bin/python bench/stages.py CONFIG

Runs `pipeline.build` on the campaign (as `audience build` does, without writing files), then
makes the channel tables and the exclusions as the writer would, and prints after each stage
the seconds it took (wall and CPU), the process's resident memory and its peak so far. The
stage names are the build's own progress messages: "before X" is printed when X starts, so its
time is that of the stage before. The build works on two cores: the consent log is read,
numbered and resolved on one while the customers and lists are read and the contacts normalized
on the other, which then takes consent slices too; the holdings go to whichever core is free
first. "before evaluating rules: email, sms, ..." starts the one pass of every channel's rules
(channels share the workers), and each "before stage: CODE" starts a cross-channel stage
(control group, duplicates) that runs once every channel's pass is done.
"""
from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

from audiencecli import pipeline
from audiencecli.config import load_config

_started = time.perf_counter()
_cpu_started = time.process_time()


def resident_gb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e9


def lap(message: str) -> None:
    global _started, _cpu_started
    now, cpu = time.perf_counter(), time.process_time()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"{now - _started:7.2f} s  CPU {cpu - _cpu_started:6.2f} s   RSS {resident_gb():5.2f} GB   "
          f"peak {peak:5.2f} GB   {message}", flush=True)
    _started, _cpu_started = now, cpu


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    config = load_config(Path(argv[0]))
    result = pipeline.build(config, progress=lambda step: lap(f"before {step}"))
    lap("decided")
    rows = sum(result.channel_table(channel).height for channel in config.channels)
    lap(f"channel tables ({rows:,} rows)")
    rows = sum(chunk.height for chunk in result.exclusion_chunks())
    lap(f"exclusions ({rows:,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
