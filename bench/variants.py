"""The same campaign without contact pressure and arbitration, for what measures them against it.

    .venv/bin/python bench/variants.py CONFIG      # writes and prints CONFIG's two twins

The DuckDB peer implements the rules of one customer and channel, the control group and the
duplicates, not the caps over the contact history (R12) nor channel arbitration (R14): it is
compared with, and timed against, the build of this twin. The build of the twin is also the
"without them" side of the caps' cost (bench/run.py).

`-without-caps` is the other reading of "the same build without them": the same inputs, the
contact history among them (read and checked in full, as build does without caps, none of its
rows kept), only the [[pressure]] and [arbitration] tables dropped. Against it the caps' cost is
the counting, the texts and the arbitration; against the first twin it includes reading the
history at all.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

_TABLE = re.compile(r"^\s*\[")
_DROPPED = re.compile(r"^\s*(\[\[pressure\]\]|\[arbitration\])\s*(#.*)?$")


def without_pressure_text(text: str, keep_history: bool = False) -> str:
    """The config text without its [[pressure]] and [arbitration] tables and (unless
    `keep_history`) its contact_history."""
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):
        if _TABLE.match(line):
            dropping = bool(_DROPPED.match(line))
        if dropping or (not keep_history and re.match(r"^\s*contact_history\s*=", line)):
            continue
        kept.append(line)
    return "".join(kept)


def without_pressure(config: Path) -> Path:
    """Write `<name>-without-pressure.toml` beside `config` (same folder, so its paths hold)."""
    twin = config.with_name(f"{config.stem}-without-pressure.toml")
    twin.write_text(without_pressure_text(config.read_text(encoding="utf-8")), encoding="utf-8")
    return twin


def without_caps(config: Path) -> Path:
    """Write `<name>-without-caps.toml` beside `config`: without caps and arbitration, with the history."""
    twin = config.with_name(f"{config.stem}-without-caps.toml")
    twin.write_text(without_pressure_text(config.read_text(encoding="utf-8"), keep_history=True), encoding="utf-8")
    return twin


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    print(without_pressure(Path(sys.argv[1])))
    print(without_caps(Path(sys.argv[1])))
