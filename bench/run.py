#!/usr/bin/env python3
"""Measure `audience build` against the I/O floor and a DuckDB peer, interleaved, and record it.

    .venv/bin/python bench/run.py --sizes 1m 10m --runs 3

For each size (100k, 1m, 10m or a number of customers) it makes the missing data sets with
`audience sample --seed 1` (bench/data/<size> in CSV, bench/data/<size>-parquet in Parquet),
then runs RUNS rounds; each round runs every measurement once, in an order rotated from round
to round:

  build-csv      .venv/bin/audience build <size>/campaign.toml --out DIR --quiet
  build-parquet  .venv/bin/audience build <size>-parquet/campaign.toml --out DIR --quiet
  floor-csv      .venv/bin/python bench/floor.py <size>/campaign.toml DIR
  floor-parquet  .venv/bin/python bench/floor.py <size>-parquet/campaign.toml DIR
  twin-csv       .venv/bin/audience build <size>/campaign-without-pressure.toml --out DIR --quiet
  twin-parquet   .venv/bin/audience build <size>-parquet/campaign-without-pressure.toml --out DIR --quiet
  nocaps-csv     .venv/bin/audience build <size>/campaign-without-caps.toml --out DIR --quiet
  nocaps-parquet .venv/bin/audience build <size>-parquet/campaign-without-caps.toml --out DIR --quiet
  peer-csv       .venv/bin/python bench/peer_duckdb.py <size>/campaign-without-pressure.toml DIR
  peer-parquet   .venv/bin/python bench/peer_duckdb.py <size>-parquet/campaign-without-pressure.toml DIR
  explain-csv    .venv/bin/audience explain <size>/campaign.toml ID --json --quiet
  explain-parquet  the same on <size>-parquet
  explain5-csv   .venv/bin/audience explain <size>/campaign.toml ID1 ... ID5 --json --quiet
  explain5-parquet the same on <size>-parquet
  validate-csv   .venv/bin/audience validate <size>/campaign.toml --json --quiet
  validate-parquet the same on <size>-parquet

`explain` asks for the customer in the middle of the file, `explain5` for five spread over it
(at 1/6, 2/6, ... of the ids). The explain and validate measurements run only when --only names them.

The sample campaign has contact-pressure caps over the contact history and channel arbitration;
its twin (bench/variants.py) is the same campaign without them: the "twin" build is what the
caps and arbitration cost, and the DuckDB peer, which implements neither, runs the twin. The
"nocaps" build is the same campaign with its contact history but without caps and arbitration
(it reads and checks the history, keeps none of it): against it, the caps' cost leaves out
reading the history, an input like any other. The nocaps builds run only when --only names them.

Each is one process under `/usr/bin/time -v` (wall time, user + system CPU, peak RSS), watched
by a memory guard: when the RSS of its processes passes --max-rss-gb (default 20) or the
machine's MemAvailable falls under --min-available-gb (default 1.5), it is killed and recorded as
"out of memory" instead of letting the machine swap or the kernel's OOM killer pick a victim;
past --timeout seconds it is killed and recorded as "timeout". (An address-space limit, prlimit
--as or RLIMIT_AS, is not used: Polars' and DuckDB's allocators reserve far more address space
than they touch, so it fails runs that would fit.)

After the first round the twin build's and the peer's run directories of each format are compared
with bench/compare.py (decisions, all_reasons, channel-file values); the result is recorded.
Medians, the ratios build/floor and build/peer, explain/floor and validate/floor (median of the per-round ratios, so each ratio
comes from runs made minutes apart), the machine facts, the git commit and this command go into
a new dated section at the top of bench/RESULTS.md (--no-record: print only). Raw results are
kept in bench/data/results/. Run directories live in bench/data/runs/ and are removed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from variants import without_caps, without_pressure

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
VENV_BIN = ROOT / ".venv" / "bin"
RESULTS = BENCH / "RESULTS.md"
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
MEASUREMENTS = ("build-csv", "build-parquet", "twin-csv", "twin-parquet", "nocaps-csv", "nocaps-parquet",
                "floor-csv", "floor-parquet",
                "peer-csv", "peer-parquet",
                "explain-csv", "explain-parquet", "explain5-csv", "explain5-parquet", "validate-csv", "validate-parquet")
# Measured only when --only names them (the default is the build against its references).
ON_REQUEST = ("nocaps", "explain", "explain5", "validate")
# (measurement, reference) pairs whose ratio is reported, when both were measured.
RATIOS = (("build", "floor"), ("build", "twin"), ("build", "nocaps"), ("build", "peer"),
          ("explain", "floor"), ("explain5", "floor"), ("validate", "floor"))


def size_customers(size: str) -> int:
    if size in SIZES:
        return SIZES[size]
    match = re.fullmatch(r"(\d+)([km]?)", size.lower())
    if not match:
        raise SystemExit(f"unknown size {size!r}: use 100k, 1m, 10m or a number")
    return int(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)]


def data_dir(size: str, fmt: str) -> Path:
    return DATA / (size if fmt == "csv" else f"{size}-parquet")


def ensure_data(size: str, fmt: str, log) -> Path:
    """The data set of (size, format), made with `audience sample --seed 1` unless it is current."""
    folder = data_dir(size, fmt)
    customers = size_customers(size)
    expected = f"(customers = {customers}, seed = 1, format = {fmt})"
    config = folder / "campaign.toml"
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    if text and expected in text.splitlines()[0] and "contact_history" in text:  # older samples had no history
        return config
    log(f"making {folder} with audience sample ({customers:,} customers, {fmt})")
    started = time.perf_counter()
    subprocess.run([str(VENV_BIN / "audience"), "sample", str(folder), "--customers", str(customers), "--seed", "1",
                    "--format", fmt, "--force", "--quiet"], check=True)
    log(f"  made in {time.perf_counter() - started:.0f} s")
    return config


def explained_ids(size: str, count: int) -> list[str]:
    """`count` customer ids of the sample data set of `size`, spread evenly over it (as
    `audience sample` numbers them)."""
    customers = size_customers(size)
    width = max(7, len(str(2 * customers)))  # as sample.py numbers them
    return [f"C{customers * k // (count + 1):0{width}d}" for k in range(1, count + 1)]


def command(label: str, config: Path, out: Path, peer_memory_limit: str | None = None,
            size: str = "1m") -> list[str]:
    kind = label.split("-")[0]
    if kind in ("explain", "explain5"):
        ids = explained_ids(size, 1 if kind == "explain" else 5)
        return [str(VENV_BIN / "audience"), "explain", str(config), *ids, "--json", "--quiet"]
    if kind == "validate":
        return [str(VENV_BIN / "audience"), "validate", str(config), "--json", "--quiet"]
    if kind in ("twin", "peer"):
        config = without_pressure(config)
    if kind == "nocaps":
        config = without_caps(config)
    if kind in ("build", "twin", "nocaps"):
        return [str(VENV_BIN / "audience"), "build", str(config), "--out", str(out), "--quiet"]
    script = {"floor": "floor.py", "peer": "peer_duckdb.py"}[kind]
    extra = ["--memory-limit", peer_memory_limit] if kind == "peer" and peer_memory_limit else []
    return [str(VENV_BIN / "python"), str(BENCH / script), str(config), str(out), *extra]


# ---------------------------------------------------------------------------------------------
# One measured process

def _mem_available_kb() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def _group_rss_kb(pgid: int) -> int:
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of stat: process group
                continue
            with open(f"/proc/{entry}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except (OSError, IndexError, ValueError):
            continue
    return total


def _time_v(path: Path) -> dict:
    text = path.read_text(errors="replace") if path.exists() else ""
    facts = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(": ")
        if key.startswith("Elapsed (wall clock) time"):
            seconds = 0.0
            for part in value.split(":"):
                seconds = seconds * 60 + float(part)
            facts["wall_s"] = seconds
        elif key == "User time (seconds)":
            facts["user_s"] = float(value)
        elif key == "System time (seconds)":
            facts["sys_s"] = float(value)
        elif key == "Maximum resident set size (kbytes)":
            facts["rss_mb"] = int(value) / 1024
        elif key == "Exit status":
            facts["exit"] = int(value)
    return facts


def measure(cmd: list[str], *, timeout: float, max_rss_gb: float, min_available_gb: float, log_path: Path) -> dict:
    """Run `cmd` under /usr/bin/time -v with the memory guard; wall, CPU, RSS, status."""
    time_log = log_path.with_suffix(".time")
    time_log.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with log_path.open("wb") as stderr:
        proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", str(time_log), *cmd], stdout=subprocess.DEVNULL,
                                stderr=stderr, start_new_session=True)
    state = {"peak_kb": 0, "killed": None}

    def guard() -> None:
        while proc.poll() is None:
            rss = _group_rss_kb(proc.pid)
            state["peak_kb"] = max(state["peak_kb"], rss)
            reason = None
            if rss > max_rss_gb * 1024 * 1024:
                reason = f"out of memory (RSS {rss / 1024 / 1024:.1f} GB > guard {max_rss_gb:g} GB)"
            elif _mem_available_kb() < min_available_gb * 1024 * 1024:
                reason = (f"out of memory (machine MemAvailable < {min_available_gb:g} GB at RSS "
                          f"{rss / 1024 / 1024:.1f} GB)")
            elif time.perf_counter() - started > timeout:
                reason = f"timeout (> {timeout:g} s)"
            if reason:
                state["killed"] = reason
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return
            time.sleep(0.1)

    watcher = threading.Thread(target=guard, daemon=True)
    watcher.start()
    proc.wait()
    watcher.join()
    wall = time.perf_counter() - started
    facts = _time_v(time_log)
    result = {
        "wall_s": facts.get("wall_s", wall),
        "cpu_s": facts.get("user_s", 0.0) + facts.get("sys_s", 0.0) if "user_s" in facts else None,
        "rss_mb": facts.get("rss_mb", state["peak_kb"] / 1024),
        "load1": load,
        "status": "ok",
    }
    if state["killed"]:
        result["status"] = state["killed"]
        result["wall_s"] = wall
        result["rss_mb"] = state["peak_kb"] / 1024
    elif facts.get("exit", proc.returncode) != 0:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
        result["status"] = f"failed (exit {facts.get('exit', proc.returncode)}): " + " | ".join(tail)
    time_log.unlink(missing_ok=True)
    return result


# ---------------------------------------------------------------------------------------------
# Facts and report

def sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=ROOT).stdout.rstrip()
    except OSError:
        return ""


def machine_facts() -> dict:
    versions = sh(f"{VENV_BIN / 'python'} -c \"import polars, phonenumbers, sys; "
                  "v = [f'Python {sys.version.split()[0]}', f'Polars {polars.__version__}', "
                  "f'phonenumbers {phonenumbers.__version__}']\n"
                  "try:\n import duckdb; v.append(f'DuckDB {duckdb.__version__}')\n"
                  "except ImportError: pass\nprint(', '.join(v))\"")
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    dirty = sh("git status --porcelain -- src pyproject.toml")
    return {
        "nproc": sh("nproc"), "free": sh("free -h"), "cpu": cpu, "kernel": platform.release(),
        "versions": versions, "commit": sh("git rev-parse --short HEAD"),
        "src_dirty": bool(dirty), "dirty_files": dirty.splitlines(),
    }


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt_num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def summarize(runs: list[dict], sizes: list[str], labels: list[str]) -> tuple[list[dict], list[dict]]:
    rows = []
    for size in sizes:
        for label in labels:
            mine = [r for r in runs if r["size"] == size and r["label"] == label]
            if not mine:
                continue
            ok = [r for r in mine if r["status"] == "ok"]
            rows.append({
                "size": size, "label": label, "runs": len(mine), "ok": len(ok),
                "wall_s": median([r["wall_s"] for r in ok]), "cpu_s": median([r["cpu_s"] for r in ok if r["cpu_s"]]),
                "rss_mb": median([r["rss_mb"] for r in ok]),
                "walls": [r["wall_s"] for r in mine], "rsss": [r["rss_mb"] for r in mine],
                "loads": [r["load1"] for r in mine],
                "statuses": sorted({r["status"] for r in mine if r["status"] != "ok"}),
            })
    ratios = []
    for size in sizes:
        for fmt in ("csv", "parquet"):
            for subject, other in RATIOS:
                per_round = {"wall": [], "cpu": [], "rss": []}
                rounds = sorted({r["round"] for r in runs if r["size"] == size})
                for rnd in rounds:
                    pick = {r["label"]: r for r in runs if r["size"] == size and r["round"] == rnd and r["status"] == "ok"}
                    a, b = pick.get(f"{subject}-{fmt}"), pick.get(f"{other}-{fmt}")
                    if a and b:
                        per_round["wall"].append(a["wall_s"] / b["wall_s"])
                        if a["cpu_s"] and b["cpu_s"]:
                            per_round["cpu"].append(a["cpu_s"] / b["cpu_s"])
                        per_round["rss"].append(a["rss_mb"] / b["rss_mb"])
                if per_round["wall"]:
                    ratios.append({"size": size, "format": fmt, "subject": subject, "vs": other,
                                   "rounds": len(per_round["wall"]),
                                   **{k: median(v) for k, v in per_round.items()},
                                   "wall_per_round": per_round["wall"]})
    return rows, ratios


def report(args_line: str, facts: dict, rows: list[dict], ratios: list[dict], checks: list[dict],
           started: dt.datetime, finished: dt.datetime, loads: tuple[str, str]) -> str:
    when = f"{started:%Y-%m-%d %H:%M}–{finished:%H:%M} UTC"
    kinds = {row["label"].split("-")[0] for row in rows}
    names = {"build": "`audience build`", "twin": "the build without caps and arbitration",
             "nocaps": "the same with the history read", "floor": "I/O floor",
             "peer": "DuckDB peer", "explain": "`audience explain` (one id)", "explain5": "(five ids)",
             "validate": "`audience validate`"}
    what = " vs ".join(names[k] for k in names if k in kinds)
    sizes = ", ".join(dict.fromkeys(row["size"] for row in rows))
    lines = [
        f"## {started:%Y-%m-%d}: {what}, {sizes} (`bench/run.py`)",
        "",
        f"Measured {when}, commit `{facts['commit']}`"
        + (" with uncommitted changes in " + ", ".join(f"`{f[3:]}`" for f in facts["dirty_files"])
           if facts["src_dirty"] else "") + ".",
        "",
        "```sh",
        args_line,
        "```",
        "",
        f"Machine: {facts['nproc']} cores ({facts['cpu']}), Linux {facts['kernel']}, {facts['versions']}. "
        f"1-minute load average {loads[0]} before, {loads[1]} after (per run below: other sessions share "
        "this machine, and a build alone uses ~1.5 cores).",
        "",
        "```",
        "$ nproc",
        facts["nproc"],
        "$ free -h",
        facts["free"],
        "```",
        "",
    ]
    if checks:
        lines.append("**Same decisions?** `bench/compare.py` on the first round's run directories of the twin build and the peer "
                     "(every customer × channel: sendable with its legal_basis, or excluded with its reason_code; "
                     "then all_reasons and every channel-file value):")
        lines.append("")
        for check in checks:
            lines.append(f"- {check['size']} {check['format']}: {check['summary']}")
        lines.append("")
    lines += [
        "| size | measurement | wall s (median) | CPU s (median) | peak RSS MB (median) | wall s per run | RSS MB per run | load per run |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for row in rows:
        status = f" ({'; '.join(row['statuses'])})" if row["statuses"] else ""
        lines.append(
            f"| {row['size']} | {row['label']}{status} | {fmt_num(row['wall_s'])} | {fmt_num(row['cpu_s'], 1)} | "
            f"{fmt_num(row['rss_mb'], 0)} | {' / '.join(f'{w:.1f}' for w in row['walls'])} | "
            f"{' / '.join(f'{m:.0f}' for m in row['rsss'])} | {' / '.join(f'{x:.1f}' for x in row['loads'])} |")
    if not ratios:
        lines.append("")
        return "\n".join(lines)
    lines += [
        "",
        "Ratios (median over rounds of the measurement ÷ the reference measured in the same round; > 1 = the "
        "measurement is slower or bigger):",
        "",
        "| size | format | measurement ÷ reference | wall | CPU | peak RSS | wall per round |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for r in ratios:
        lines.append(f"| {r['size']} | {r['format']} | {r['subject']} ÷ {r['vs']} | {fmt_num(r['wall'])}× | "
                     f"{fmt_num(r['cpu'])}× | "
                     f"{fmt_num(r['rss'])}× | {' / '.join(f'{x:.2f}' for x in r['wall_per_round'])} |")
    lines.append("")
    return "\n".join(lines)


def record(section: str) -> None:
    """Insert `section` into RESULTS.md above the newest section (the first `## ` heading)."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    head, marker, rest = text.partition("\n## ")
    RESULTS.write_text(f"{head.rstrip()}\n\n{section.rstrip()}\n" + (f"\n## {rest}" if marker else ""),
                       encoding="utf-8")


# ---------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--sizes", nargs="+", default=["1m"], help="100k, 1m, 10m or a number (default: 1m)")
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS,
                        default=[m for m in MEASUREMENTS if m.split("-")[0] not in ON_REQUEST],
                        help="measure only these (default: the build, its twin, the floor and the peer)")
    parser.add_argument("--skip", nargs="+", default=[], metavar="LABEL@SIZE",
                        help="leave out one measurement at one size, e.g. build-csv@10m")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measured process (default 1800)")
    parser.add_argument("--max-rss-gb", type=float, default=20, help="memory guard: RSS limit (default 20)")
    parser.add_argument("--min-available-gb", type=float, default=1.5,
                        help="memory guard: kill when the machine's MemAvailable falls below this (default 1.5)")
    parser.add_argument("--peer-memory-limit", metavar="SIZE",
                        help="DuckDB memory_limit for the peer, e.g. 10GB (default: DuckDB's own, 80%% of RAM)")
    parser.add_argument("--no-check", action="store_true", help="skip the build/peer comparison")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)

    for item in args.skip:
        if "@" not in item:
            parser.error(f"--skip {item}: expected LABEL@SIZE, e.g. build-csv@10m")
    args_line = ".venv/bin/python bench/run.py " + shlex.join((argv if argv is not None else sys.argv[1:]))
    started = dt.datetime.now(dt.timezone.utc)
    load_before = f"{os.getloadavg()[0]:.1f}"
    facts = machine_facts()
    runs_dir = DATA / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    checks: list[dict] = []
    for size in args.sizes:
        labels = [m for m in args.only if f"{m}@{size}" not in args.skip]
        configs = {fmt: ensure_data(size, fmt, log) for fmt in ("csv", "parquet")
                   if any(m.endswith(f"-{fmt}") for m in labels)}
        for rnd in range(args.runs):
            shift = rnd % len(labels)
            for label in labels[shift:] + labels[:shift]:
                fmt = label.split("-")[1]
                out = runs_dir / f"{label}-{size}"
                subprocess.run(["rm", "-rf", str(out)], check=True)
                result = measure(command(label, configs[fmt], out, args.peer_memory_limit, size), timeout=args.timeout, max_rss_gb=args.max_rss_gb,
                                 min_available_gb=args.min_available_gb, log_path=runs_dir / f"{label}-{size}.log")
                result.update(size=size, label=label, round=rnd + 1)
                runs.append(result)
                cpu = f"{result['cpu_s']:.1f}" if result["cpu_s"] is not None else "?"
                log(f"{size} round {rnd + 1} {label:14} {result['wall_s']:7.2f} s wall {cpu:>7} s CPU "
                    f"{result['rss_mb']:7.0f} MB  load {result['load1']:.1f}  {result['status']}")
                keep = rnd == 0 and label.split("-")[0] in ("twin", "peer") and not args.no_check
                if not keep:
                    subprocess.run(["rm", "-rf", str(out)], check=True)
            if rnd == 0 and not args.no_check:
                for fmt in ("csv", "parquet"):
                    a, b = runs_dir / f"twin-{fmt}-{size}", runs_dir / f"peer-{fmt}-{size}"
                    if not (a / "summary.json").exists() or not b.exists():
                        continue
                    proc = subprocess.run([str(VENV_BIN / "python"), str(BENCH / "compare.py"), str(a), str(b),
                                           "--json"], capture_output=True, text=True)
                    try:
                        res = json.loads(proc.stdout)
                    except json.JSONDecodeError:
                        why = proc.stderr[-300:].strip() or (
                            "killed (out of memory?)" if proc.returncode < 0 else "no output")
                        checks.append({"size": size, "format": fmt,
                                       "summary": f"compare failed (exit {proc.returncode}): {why}"})
                        continue
                    summary = (f"{res['decision_differences']:,} of {res['decisions_a']:,} decisions differ, "
                               f"{res['all_reasons_differences']:,} of {res['all_reasons_compared']:,} all_reasons, "
                               f"{res['value_differences']:,} of {res['values_compared']:,} channel-file values")
                    if res["decision_categories"]:
                        summary += "; e.g. " + "; ".join(
                            f"{c['channel']} build {c['a']} / peer {c['b']}: {c['count']} ({', '.join(c['examples'][:3])})"
                            for c in res["decision_categories"][:5])
                    checks.append({"size": size, "format": fmt, "summary": summary, "result": res})
                    log(f"compare {size} {fmt}: {summary}")
                for fmt in ("csv", "parquet"):
                    for kind in ("twin", "peer"):
                        subprocess.run(["rm", "-rf", str(runs_dir / f"{kind}-{fmt}-{size}")], check=True)
    finished = dt.datetime.now(dt.timezone.utc)
    rows, ratios = summarize(runs, args.sizes, list(args.only))
    section = report(args_line, facts, rows, ratios, checks, started, finished,
                     (load_before, f"{os.getloadavg()[0]:.1f}"))
    print()
    print(section)
    results_dir = DATA / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    raw = results_dir / f"{started:%Y%m%dT%H%M%S}.json"
    raw.write_text(json.dumps({"command": args_line, "facts": facts, "runs": runs, "medians": rows,
                               "ratios": ratios, "checks": checks}, indent=2, default=str))
    log(f"raw results: {raw.relative_to(ROOT)}")
    if not args.no_record:
        record(section)
        log(f"recorded in {RESULTS.relative_to(ROOT)}")
    for path in runs_dir.glob("*.log"):
        path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
