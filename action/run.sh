#!/usr/bin/env bash
# The S-Express action's logic, kept out of action.yml so it can be linted and tested
# (crates/cli/tests/e2e/action.rs runs it against a real repository).
#
#   run.sh analyze   needs SX_BASE, SX_HEAD; optional SX_SARIF (default s-express.sarif),
#                    SX_FAIL_ON (none|review|high). Writes band, probability, findings,
#                    sarif-file and failed to $GITHUB_OUTPUT.
#   run.sh forward   needs SX_BASE, SX_HEAD, S_EXPRESS_SERVER, S_EXPRESS_TOKEN; optional
#                    SX_CONCERN. Writes case-url to $GITHUB_OUTPUT.
#
# S_EXPRESS_BIN names the binary (default: s-express on PATH). Runs in the repository root.
set -euo pipefail

sx="${S_EXPRESS_BIN:-s-express}"
out="${GITHUB_OUTPUT:-/dev/null}"

die() {
  echo "::error title=S-Express::$*" >&2
  exit 2
}

is_sha() { [[ "$1" =~ ^[0-9a-fA-F]{7,64}$ ]]; }

need_range() {
  [[ -n "${SX_BASE:-}" && -n "${SX_HEAD:-}" ]] ||
    die "no base/head commit: run on a pull_request event or set the base and head inputs"
  # Only commit ids reach git: a branch name from a fork could start with '-'.
  is_sha "$SX_BASE" || die "base '$SX_BASE' is not a commit id"
  is_sha "$SX_HEAD" || die "head '$SX_HEAD' is not a commit id"
  for c in "$SX_BASE" "$SX_HEAD"; do
    git cat-file -e "$c^{commit}" 2>/dev/null ||
      die "commit $c is not in the checkout; use actions/checkout with fetch-depth: 0"
  done
}

analyze() {
  need_range
  local sarif="${SX_SARIF:-s-express.sarif}" fail_on="${SX_FAIL_ON:-none}"
  case "$fail_on" in none | review | high) ;; *) die "fail-on must be none, review or high, not '$fail_on'" ;; esac
  # Exit status 1 only means "band reached --fail-on"; anything else is an error.
  local status=0
  "$sx" analyze --repo . "$SX_BASE..$SX_HEAD" --format sarif >"$sarif" || status=$?
  [[ $status -eq 0 ]] || die "s-express analyze failed (exit $status)"
  # The case-level risk is in runs[0].properties.risk (docs/report-schema.md).
  local summary
  summary="$(python3 - "$sarif" <<'PY'
import json, sys
run = json.load(open(sys.argv[1], encoding="utf-8"))["runs"][0]
risk = run.get("properties", {}).get("risk", {})
print(risk.get("band", "low"), risk.get("probability", 0), len(run.get("results", [])))
PY
)"
  local band probability findings
  read -r band probability findings <<<"$summary"
  local failed=false
  case "$fail_on:$band" in
    review:review | review:high | high:high) failed=true ;;
  esac
  {
    echo "band=$band"
    echo "probability=$probability"
    echo "findings=$findings"
    echo "sarif-file=$sarif"
    echo "failed=$failed"
  } >>"$out"
  echo "S-Express: band $band (probability $probability), $findings finding(s); SARIF in $sarif"
}

forward() {
  need_range
  [[ -n "${S_EXPRESS_SERVER:-}" ]] || die "forward-on-high needs the server input"
  [[ -n "${S_EXPRESS_TOKEN:-}" ]] || die "forward-on-high needs the token input (a secret)"
  local concern="${SX_CONCERN:-Forwarded automatically: the analyzer rated this change high risk.}"
  local answer
  answer="$("$sx" submit --repo . "$SX_BASE..$SX_HEAD" --concern "$concern" --suspicion 4 --no-wait --format json)" ||
    die "forwarding to $S_EXPRESS_SERVER failed"
  local url
  url="$(printf '%s' "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("url", ""))')"
  echo "case-url=$url" >>"$out"
  echo "S-Express: forwarded as $url"
}

case "${1:-}" in
  analyze) analyze ;;
  forward) forward ;;
  *) die "usage: run.sh analyze|forward" ;;
esac
