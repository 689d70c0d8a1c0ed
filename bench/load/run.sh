#!/bin/sh
# HTTP load test of `s-express serve` on SQLite and on PostgreSQL (see load.rs for what it does).
#
#   bench/load/run.sh [CONCURRENCY] [SECONDS] [SEED_CASES]     (defaults: 16 10 20000)
#
# Builds the release binary and the load generator, then runs both backends one after the other.
# PostgreSQL: the database named by S_EXPRESS_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test); each run uses and drops a fresh schema.
set -eu
cd "$(dirname "$0")/../.."
concurrency="${1:-16}"
seconds="${2:-10}"
seed="${3:-20000}"
target="${CARGO_TARGET_DIR:-target}"

cargo build --release -p s-express --bin s-express --example load
echo "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for backend in sqlite postgres; do
    "$target/release/examples/load" --bin "$target/release/s-express" --backend "$backend" \
        --concurrency "$concurrency" --seconds "$seconds" --seed-cases "$seed"
done
