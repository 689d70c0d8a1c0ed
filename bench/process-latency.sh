#!/usr/bin/env bash
# Wall time of the whole `s-express analyze FILE --format json` process on a typical
# pull-request-sized diff (target: under 5 ms). Includes process start, building the
# analyzer with every detector and rule pack, reading, parsing, analyzing and printing.
#
# usage: bench/process-latency.sh [DIFF]   (default: bench/data/typical-pr.diff)
# environment: S_EXPRESS (binary; default $CARGO_TARGET_DIR/release/s-express, else
#              target/release/s-express), RUNS (hyperfine runs, default 200)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SX=${S_EXPRESS:-${CARGO_TARGET_DIR:-$ROOT/target}/release/s-express}
DIFF=${1:-$HERE/data/typical-pr.diff}
RUNS=${RUNS:-200}

for tool in hyperfine jq; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required (apt-get install -y $tool)" >&2; exit 2; }
done
if [ ! -x "$SX" ]; then
    echo "error: no s-express binary at $SX" >&2
    echo "help: cargo build --release -p s-express, or set S_EXPRESS=/path/to/s-express" >&2
    exit 2
fi

# The exit status may encode the risk band, so check the output rather than the status.
out=$("$SX" analyze "$DIFF" --format json || true)
band=$(jq -r '.risk.band' <<<"$out")
if [ -z "$band" ] || [ "$band" = null ]; then
    echo "error: s-express analyze did not print a JSON report for $DIFF" >&2
    exit 1
fi
echo "input: $DIFF ($(wc -l <"$DIFF") lines, $(wc -c <"$DIFF") bytes); band $band, $(jq '.findings | length' <<<"$out") findings" >&2

json=$(mktemp)
trap 'rm -f "$json"' EXIT
hyperfine -N --warmup 20 --runs "$RUNS" -i --export-json "$json" \
    "$SX analyze $DIFF --format json" >&2
jq -r '.results[0] |
    "process latency: mean \(.mean * 1e5 | floor / 100) ms ± \(.stddev * 1e5 | floor / 100) ms, median \(.median * 1e5 | floor / 100) ms, min \(.min * 1e5 | floor / 100) ms, max \(.max * 1e5 | floor / 100) ms (\(.times | length) runs)"' "$json"
