#!/usr/bin/env bash
# Measure `audience build` wall time and peak RSS with /usr/bin/time -v.
#
#   bench/measure.sh [-n RUNS] [-o OUT_DIR] [CONFIG ...]
#
# Without CONFIGs it measures, in this order:
#   sample_data/campaign.toml, bench/data/100k/campaign.toml, bench/data/1m/campaign.toml
# making bench/data/100k and bench/data/1m first with `audience sample --seed 1` when missing.
# Each config is built RUNS times (default 3) with
#   /usr/bin/time -v .venv/bin/audience build CONFIG --out OUT_DIR --quiet
# (OUT_DIR default /tmp/bench-run, removed before every run), and the per-run and median wall
# time, user+system CPU time and peak RSS ("Maximum resident set size") are printed, then one Markdown table row per
# config. The last run's summary.json is kept as /tmp/bench-summary-<label>.json.
# Run it from the repository root (it cd's there itself).
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=3
OUT=/tmp/bench-run
while getopts "n:o:h" opt; do
  case $opt in
    n) RUNS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    h) sed -n '2,13p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))

if [ $# -gt 0 ]; then
  CONFIGS=("$@")
else
  CONFIGS=(sample_data/campaign.toml)
  for spec in 100k:100000 1m:1000000; do
    dir=bench/data/${spec%%:*}
    if [ ! -f "$dir/campaign.toml" ]; then
      echo "== making $dir with audience sample (${spec#*:} customers, seed 1)"
      .venv/bin/audience sample "$dir" --customers "${spec#*:}" --seed 1 --quiet
    fi
    CONFIGS+=("$dir/campaign.toml")
  done
fi
[ ${#CONFIGS[@]} -gt 0 ] || { echo "nothing to measure" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:12.34" -> seconds
wall_seconds() {
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; printf "%.2f\n", s}' "$1"
}
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f\n", $2/1024}' "$1"; }
# user + system CPU seconds (less sensitive than wall time to other load on the machine)
cpu_seconds() { awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ {s+=$2} END {printf "%.1f\n", s}' "$1"; }

ROWS=()
for cfg in "${CONFIGS[@]}"; do
  label=$(basename "$(dirname "$cfg")")
  echo "== $cfg ($label), $RUNS runs"
  walls=(); rsss=(); cpus=()
  for i in $(seq 1 "$RUNS"); do
    rm -rf "$OUT"
    log=$(mktemp)
    if /usr/bin/time -v .venv/bin/audience build "$cfg" --out "$OUT" --quiet 2>"$log" >/dev/null; then
      status=ok
    else
      status="FAILED (exit $?)"
    fi
    w=$(wall_seconds "$log"); m=$(rss_mb "$log"); cpu=$(cpu_seconds "$log")
    printf '  run %d: %s s wall, %s s CPU, %s MB peak RSS, load %s  %s\n' "$i" "$w" "$cpu" "$m" \
      "$(cut -d' ' -f1 /proc/loadavg)" "$status"
    if [ "$status" != ok ]; then grep -v -e '^\s' -e '^Command' "$log" | tail -20 | sed 's/^/    /'; fi
    walls+=("$w"); rsss+=("$m"); cpus+=("$cpu")
    rm -f "$log"
  done
  customers="?"
  if [ -f "$OUT/summary.json" ]; then
    cp "$OUT/summary.json" "/tmp/bench-summary-$label.json"
    customers=$(.venv/bin/python -c 'import json, sys; print(json.load(open(sys.argv[1]))["inputs"]["customers"])' \
      "$OUT/summary.json")
  fi
  mw=$(printf '%s\n' "${walls[@]}" | median); mr=$(printf '%s\n' "${rsss[@]}" | median)
  mc=$(printf '%s\n' "${cpus[@]}" | median)
  echo "  median: $mw s wall, $mc s CPU, $mr MB"
  ROWS+=("| $label | $customers | $mw | $mc | $mr | $(IFS=/; echo "${walls[*]}") | $(IFS=/; echo "${rsss[*]}") |")
done
rm -rf "$OUT"

echo
echo "| data set | customers | wall s (median) | CPU s (median) | peak RSS MB (median) | wall s per run | RSS MB per run |"
echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
printf '%s\n' "${ROWS[@]}"
