"""The same campaign without contact pressure and arbitration, for what measures them against it.

    .venv/bin/python bench/variants.py CONFIG      # writes and prints CONFIG's -without-pressure twin

The DuckDB peer implements the rules of one customer and channel, the control group and the
duplicates, not the caps over the contact history (R12) nor channel arbitration (R14): it is
compared with, and timed against, the build of this twin. The build of the twin is also the
"without them" side of the caps' cost (bench/run.py).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

_TABLE = re.compile(r"^\s*\[")
_DROPPED = re.compile(r"^\s*(\[\[pressure\]\]|\[arbitration\])\s*(#.*)?$")


def without_pressure_text(text: str) -> str:
    """The config text without its [[pressure]] and [arbitration] tables and its contact_history."""
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):
        if _TABLE.match(line):
            dropping = bool(_DROPPED.match(line))
        if dropping or re.match(r"^\s*contact_history\s*=", line):
            continue
        kept.append(line)
    return "".join(kept)


def without_pressure(config: Path) -> Path:
    """Write `<name>-without-pressure.toml` beside `config` (same folder, so its paths hold)."""
    twin = config.with_name(f"{config.stem}-without-pressure.toml")
    twin.write_text(without_pressure_text(config.read_text(encoding="utf-8")), encoding="utf-8")
    return twin


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    print(without_pressure(Path(sys.argv[1])))
