#!/usr/bin/env bash
# Speed of `s-express scan` in commits per second (target: 1,000 commits/s).
#
# Builds a repository with COMMITS (default 3000) realistic small commits with
# `git fast-import` (gen_history.py, fixed seed), then times
# `s-express scan --repo REPO --max COMMITS --format json` with hyperfine.
#
# usage: bench/scan-bench.sh [COMMITS]
# environment: S_EXPRESS (binary; default $CARGO_TARGET_DIR/release/s-express, else
#              target/release/s-express), SCAN_BENCH_DIR (where the repo is made; default a
#              temporary directory, removed afterwards), RUNS (hyperfine runs, default 5),
#              JOBS (passed as --jobs when set).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SX=${S_EXPRESS:-${CARGO_TARGET_DIR:-$ROOT/target}/release/s-express}
COMMITS=${1:-3000}
RUNS=${RUNS:-5}

for tool in git hyperfine jq python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required (apt-get install -y $tool)" >&2; exit 2; }
done
if [ ! -x "$SX" ]; then
    echo "error: no s-express binary at $SX" >&2
    echo "help: cargo build --release -p s-express, or set S_EXPRESS=/path/to/s-express" >&2
    exit 2
fi

if [ -n "${SCAN_BENCH_DIR:-}" ]; then
    DIR=$SCAN_BENCH_DIR
    mkdir -p "$DIR"
else
    DIR=$(mktemp -d)
    trap 'rm -rf "$DIR"' EXIT
fi
REPO=$DIR/history-$COMMITS

if [ ! -d "$REPO/.git" ]; then
    echo "building a repository with $COMMITS commits in $REPO" >&2
    git init -q -b main "$REPO"
    python3 "$HERE/gen_history.py" "$COMMITS" | git -C "$REPO" fast-import --quiet
    git -C "$REPO" reset -q --hard main
fi
have=$(git -C "$REPO" rev-list --count HEAD)
echo "repository: $have commits, $(git -C "$REPO" ls-files | wc -l) files" >&2

jobs_arg=()
[ -n "${JOBS:-}" ] && jobs_arg=(--jobs "$JOBS")
cmd="$SX scan --repo $REPO --max $have --format json ${jobs_arg[*]:-}"

# One run first to check the scan works and covers every commit.
scanned=$($cmd | jq '.scanned')
if [ "$scanned" != "$have" ]; then
    echo "error: scan covered $scanned of $have commits" >&2
    exit 1
fi

json=$DIR/hyperfine-scan.json
hyperfine --warmup 1 --runs "$RUNS" --export-json "$json" "$cmd" >&2
jq -r --argjson n "$have" '.results[0] |
    "scan: \($n) commits, mean \(.mean * 1000 | floor) ms ± \(.stddev * 1000 | floor) ms, median \(.median * 1000 | floor) ms -> \($n / .mean | floor) commits/s (mean), \($n / .median | floor) commits/s (median)"' "$json"
