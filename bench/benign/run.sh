#!/usr/bin/env bash
# False positives are a bug: run `s-express analyze` on the diffs between consecutive real
# releases of popular crates.io, PyPI and npm packages (benign by assumption) and report
# how many land in each risk band, plus which detectors fired on the pairs that did not
# land in `low`. See README.md beside this file.
#
# usage: bench/benign/run.sh [all|fetch|diff|analyze|self]
#   fetch    download and unpack every pinned version of packages.txt (idempotent)
#   diff     diff each consecutive pair into work/diffs/ (idempotent)
#   analyze  run s-express on every diff and print the band shares and the firing detectors
#   self     run `s-express scan` over the project's own history and print the band shares
#   all      (default) all of the above, in order
#
# environment:
#   S_EXPRESS   the binary (default: $CARGO_TARGET_DIR/release/s-express, else target/release)
#   BENIGN_WORK working directory (default: bench/benign/work, gitignored)
#   SELF_REPO   repository for `self` (default: the checkout this script lives in)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${BENIGN_WORK:-$HERE/work}
SX=${S_EXPRESS:-${CARGO_TARGET_DIR:-$ROOT/target}/release/s-express}
SELF_REPO=${SELF_REPO:-$ROOT}
PACKAGES=$HERE/packages.txt

SRC=$WORK/src
DIFFS=$WORK/diffs
REPORTS=$WORK/reports
mkdir -p "$SRC" "$DIFFS" "$REPORTS" "$WORK/dl" "$WORK/cargo-proj"

log() { printf '%s\n' "$*" >&2; }

# Unpack an archive into $2, dropping its single top-level directory (crates: name-ver/,
# sdists: name-ver/, npm: package/).
unpack() {
    local archive=$1 dest=$2 tmp
    tmp=$(mktemp -d "$WORK/dl/unpack.XXXXXX")
    case $archive in
        *.zip) python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$archive" "$tmp" ;;
        *) tar -xf "$archive" -C "$tmp" ;;
    esac
    local entries=("$tmp"/*)
    if [ ${#entries[@]} -eq 1 ] && [ -d "${entries[0]}" ]; then
        mv "${entries[0]}" "$dest"
        rmdir "$tmp"
    else
        mv "$tmp" "$dest"
    fi
}

# crates.io: a throwaway manifest pinning the version, `cargo fetch` into a private
# CARGO_HOME, then the sources as cargo stores them.
fetch_crates() {
    local name=$1 ver=$2 dest=$3
    local proj=$WORK/cargo-proj/$name-$ver
    mkdir -p "$proj/src"
    : >"$proj/src/lib.rs"
    cat >"$proj/Cargo.toml" <<EOF
[package]
name = "benign-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
pinned = { package = "$name", version = "=$ver", default-features = false }

[workspace]
EOF
    CARGO_HOME=$WORK/cargo-home cargo fetch --quiet --manifest-path "$proj/Cargo.toml" \
        --target x86_64-unknown-linux-gnu || return 1
    local unpacked crate
    unpacked=$(find "$WORK/cargo-home/registry/src" -mindepth 2 -maxdepth 2 -type d -name "$name-$ver" 2>/dev/null | head -n1)
    if [ -n "$unpacked" ]; then
        cp -r "$unpacked" "$dest"
        return 0
    fi
    # `cargo fetch` downloads without unpacking; unpack the .crate exactly as cargo would.
    crate=$(find "$WORK/cargo-home/registry/cache" -name "$name-$ver.crate" | head -n1)
    [ -n "$crate" ] || return 1
    unpack "$crate" "$dest"
}

fetch_pypi() {
    local name=$1 ver=$2 dest=$3 dl
    dl=$(mktemp -d "$WORK/dl/pypi.XXXXXX")
    pip download --quiet --no-deps --no-binary :all: -d "$dl" "$name==$ver" >&2 || { rm -rf "$dl"; return 1; }
    local archive
    archive=$(find "$dl" -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.zip' -o -name '*.tar.bz2' \) | head -n1)
    [ -n "$archive" ] || { rm -rf "$dl"; return 1; }
    unpack "$archive" "$dest"
    rm -rf "$dl"
}

fetch_npm() {
    local name=$1 ver=$2 dest=$3 dl tgz
    dl=$(mktemp -d "$WORK/dl/npm.XXXXXX")
    tgz=$(cd "$dl" && npm pack --silent "$name@$ver" 2>/dev/null | tail -n1) || { rm -rf "$dl"; return 1; }
    [ -f "$dl/$tgz" ] || { rm -rf "$dl"; return 1; }
    unpack "$dl/$tgz" "$dest"
    rm -rf "$dl"
}

packages() { grep -v '^[[:space:]]*\(#\|$\)' "$PACKAGES"; }

do_fetch() {
    local eco name vers ver dest ok=0 failed=0
    while read -r eco name vers; do
        for ver in $vers; do
            dest=$SRC/$eco/$name/$ver
            [ -d "$dest" ] && { ok=$((ok + 1)); continue; }
            mkdir -p "$SRC/$eco/$name"
            if "fetch_$eco" "$name" "$ver" "$dest"; then
                ok=$((ok + 1))
                log "fetched $eco $name $ver"
            else
                failed=$((failed + 1))
                rm -rf "$dest"
                log "SKIPPED $eco $name $ver: the registry did not serve it"
            fi
        done
    done < <(packages)
    log "fetch: $ok versions present, $failed skipped"
}

# Diff two unpacked versions so the result looks like a repository diff (a/… b/…):
# hard-linked copies named a and b, `--no-prefix`, then git's no-index oddity for added and
# deleted files (`b/x b/x`, `a/x a/x`) is put back into the usual `a/x b/x` form, and
# `rename from a/x` / `rename to b/y` lose the directory names as in a repository diff.
diff_pair() {
    local from=$1 to=$2 out=$3 tmp
    tmp=$(mktemp -d "$WORK/dl/pair.XXXXXX")
    cp -al "$from" "$tmp/a"
    cp -al "$to" "$tmp/b"
    (cd "$tmp" && git -c core.quotepath=off diff --no-index --binary --no-prefix a b || [ $? -eq 1 ]) |
        sed -e 's#^diff --git b/\(.*\) b/\1$#diff --git a/\1 b/\1#' \
            -e 's#^diff --git a/\(.*\) a/\1$#diff --git a/\1 b/\1#' \
            -e 's#^\(rename\|copy\) from a/#\1 from #' \
            -e 's#^\(rename\|copy\) to b/#\1 to #' >"$out.tmp"
    mv "$out.tmp" "$out"
    rm -rf "$tmp"
}

do_diff() {
    local eco name vers ver prev out n=0
    while read -r eco name vers; do
        prev=
        for ver in $vers; do
            [ -d "$SRC/$eco/$name/$ver" ] || continue
            if [ -n "$prev" ]; then
                out=$DIFFS/$eco--$name--$prev--$ver.diff
                if [ ! -f "$out" ]; then
                    diff_pair "$SRC/$eco/$name/$prev" "$SRC/$eco/$name/$ver" "$out"
                fi
                n=$((n + 1))
            fi
            prev=$ver
        done
    done < <(packages)
    log "diff: $n pairs in $DIFFS"
}

need_binary() {
    if [ ! -x "$SX" ]; then
        log "error: no s-express binary at $SX"
        log "help: build it with 'cargo build --release -p s-express' or set S_EXPRESS=/path/to/s-express"
        exit 2
    fi
}

do_analyze() {
    need_binary
    local d base rc
    rm -f "$REPORTS"/*.json "$REPORTS"/*.err
    for d in "$DIFFS"/*.diff; do
        [ -f "$d" ] || continue
        base=$(basename "$d" .diff)
        # The exit status may encode the band; the JSON is what we read.
        rc=0
        "$SX" analyze "$d" --format json >"$REPORTS/$base.json" 2>"$REPORTS/$base.err" || rc=$?
        if [ ! -s "$REPORTS/$base.json" ]; then
            log "analyze failed on $base (exit $rc): $(head -c 300 "$REPORTS/$base.err")"
        fi
    done
    python3 "$HERE/summarize.py" pairs "$DIFFS" "$REPORTS"
}

do_self() {
    need_binary
    if ! git -C "$SELF_REPO" rev-parse --verify -q HEAD >/dev/null; then
        log "self: $SELF_REPO has no commits yet; nothing to scan"
        return 0
    fi
    local out=$WORK/self-scan.json rc=0
    "$SX" scan --repo "$SELF_REPO" --max 1000000 --format json >"$out" 2>"$WORK/self-scan.err" || rc=$?
    if [ ! -s "$out" ]; then
        log "self: scan failed (exit $rc): $(head -c 300 "$WORK/self-scan.err")"
        return 1
    fi
    python3 "$HERE/summarize.py" scan "$out"
}

case ${1:-all} in
    fetch) do_fetch ;;
    diff) do_diff ;;
    analyze) do_analyze ;;
    self) do_self ;;
    all) do_fetch; do_diff; do_analyze; do_self ;;
    *) log "usage: $0 [all|fetch|diff|analyze|self]"; exit 2 ;;
esac
