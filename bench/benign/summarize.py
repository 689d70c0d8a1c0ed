#!/usr/bin/env python3
"""Summarize s-express reports on benign changes (see README.md beside this file).

usage:
  summarize.py pairs DIFF_DIR REPORT_DIR   one JSON report per diff (from `analyze`)
  summarize.py scan SCAN_JSON              the JSON output of `s-express scan`

Prints the share of changes in each risk band, checks them against the targets (at most 1 %
`high`, at most 5 % `review` or above) and lists, for every change not in `low`, the
detectors that fired with one example of evidence each. Exits 1 when a target is missed, so
the script can gate CI once the detectors are tuned.
"""

import json
import os
import sys
from collections import Counter, defaultdict

BANDS = ("low", "review", "high")
MAX_HIGH = 0.01
MAX_REVIEW_OR_ABOVE = 0.05


def band_of(report):
    # `analyze` reports nest the band under "risk"; `scan` entries carry it directly.
    risk = report.get("risk") or {}
    band = risk.get("band", report.get("band"))
    return band.lower() if isinstance(band, str) else None


def shorten(text, limit=140):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_shares(kind, bands):
    total = len(bands)
    counts = Counter(bands.values())
    print(f"{kind}: {total}")
    for b in BANDS:
        n = counts.get(b, 0)
        print(f"  {b:<7} {n:>5}  {100.0 * n / total if total else 0:6.2f} %")
    other = total - sum(counts.get(b, 0) for b in BANDS)
    if other:
        print(f"  failed  {other:>5}  (no report)")
    high = counts.get("high", 0) / total if total else 0.0
    review_up = (counts.get("high", 0) + counts.get("review", 0)) / total if total else 0.0
    ok_high = high <= MAX_HIGH
    ok_review = review_up <= MAX_REVIEW_OR_ABOVE
    print(
        f"  target high <= 1 %: {'met' if ok_high else 'MISSED'} ({100 * high:.2f} %); "
        f"review-or-above <= 5 %: {'met' if ok_review else 'MISSED'} ({100 * review_up:.2f} %)"
    )
    if other:
        print("  result INVALID: some changes have no report (see the .err files)")
    return ok_high and ok_review and not other


def print_firing(reports, bands):
    flagged = sorted(k for k, b in bands.items() if b in ("review", "high"))
    if not flagged:
        return
    per_detector = Counter()
    print("\nchanges not in `low` and what fired (top findings by score):")
    for key in flagged:
        r = reports[key]
        risk = r.get("risk") or r
        subject = f" {shorten(r['subject'], 70)!r}" if r.get("subject") else ""
        print(f"- {key}{subject}: {bands[key]} (p={risk.get('probability', 0):.3f})")
        seen = set()
        findings = r.get("findings")
        if not isinstance(findings, list):
            # `scan` keeps only the top finding of each commit.
            findings = [r["top_finding"]] if isinstance(r.get("top_finding"), dict) else []
        for f in findings:
            fid = f.get("id", "?")
            if fid in seen:
                continue
            seen.add(fid)
            per_detector[fid] += 1
            where = f.get("path", "")
            if f.get("line") is not None:
                where += f":{f['line']}"
            what = f.get("evidence") or f.get("title", "")
            grade = f" [{f['severity']}/{f.get('confidence')}]" if f.get("severity") else ""
            print(f"    {fid}{grade} {where}: {shorten(what)}")
            if len(seen) >= 6:
                break
    print("\ndetectors by number of flagged changes they fired on:")
    for fid, n in per_detector.most_common():
        print(f"  {n:>4}  {fid}")


def pairs(diff_dir, report_dir):
    reports, bands = {}, {}
    sizes = {}
    for name in sorted(os.listdir(diff_dir)):
        if not name.endswith(".diff"):
            continue
        key = name[: -len(".diff")]
        sizes[key] = os.path.getsize(os.path.join(diff_dir, name))
        path = os.path.join(report_dir, key + ".json")
        try:
            with open(path, encoding="utf-8") as fh:
                r = json.load(fh)
        except (OSError, ValueError):
            bands[key] = None
            continue
        reports[key] = r
        bands[key] = band_of(r)
    eco = defaultdict(dict)
    for k, b in bands.items():
        eco[k.split("--", 1)[0]][k] = b
    total_mb = sum(sizes.values()) / 1e6
    print(f"{len(bands)} diffs between consecutive releases, {total_mb:.1f} MB of diff text")
    for e in sorted(eco):
        counts = Counter(eco[e].values())
        print(f"  {e:<7} {len(eco[e]):>4} pairs: " + ", ".join(f"{b} {counts.get(b, 0)}" for b in BANDS))
    ok = print_shares("pairs", bands)
    print_firing(reports, bands)
    return ok


def scan(path):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    # Accept a list of per-commit entries or an object holding one; each entry is a report
    # or wraps one under "report".
    entries = data
    if isinstance(data, dict):
        for key in ("commits", "results", "reports", "changes"):
            if isinstance(data.get(key), list):
                entries = data[key]
                break
    if not isinstance(entries, list):
        print(f"unrecognised scan output in {path}", file=sys.stderr)
        return False
    reports, bands = {}, {}
    for i, e in enumerate(entries):
        r = e.get("report", e) if isinstance(e, dict) else {}
        key = (e.get("commit") or e.get("id") or e.get("sha") or str(i)) if isinstance(e, dict) else str(i)
        if isinstance(key, dict):
            key = key.get("id") or str(i)
        key = str(key)[:12]
        reports[key] = r
        bands[key] = band_of(r) or (band_of(e) if isinstance(e, dict) else None)
    ok = print_shares("commits", bands)
    print_firing(reports, bands)
    return ok


def main(argv):
    if len(argv) == 4 and argv[1] == "pairs":
        return 0 if pairs(argv[2], argv[3]) else 1
    if len(argv) == 3 and argv[1] == "scan":
        return 0 if scan(argv[2]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
