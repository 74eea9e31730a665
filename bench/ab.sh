#!/bin/bash
# usage: bench/ab.sh CONFIG RUNS: alternating builds of a baseline tree (BASE_SRC, default
# /tmp/base/src: `git worktree add /tmp/base COMMIT`) and this tree (NEW_SRC: another one, e.g. a
# worktree of HEAD, so that editing this tree during a run changes nothing); wall s and peak RSS MB.
cd "$(dirname "$0")/.."
for i in $(seq 1 $2); do
  for side in base new; do
    if [ $side = base ]; then SRC=${BASE_SRC:-/tmp/base/src}; else SRC=${NEW_SRC:-$PWD/src}; fi
    rm -rf /tmp/ab-out
    /usr/bin/time -f "%e %M" -o /tmp/ab-time env PYTHONPATH=$SRC .venv/bin/python -m audiencecli build $1 --out /tmp/ab-out --quiet 2>/dev/null >/dev/null
    read wall rss < /tmp/ab-time
    echo "$1 $side run$i wall=${wall}s rss=$((rss/1024))MB"
  done
done
