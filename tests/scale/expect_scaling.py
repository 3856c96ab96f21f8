#!/usr/bin/env python3
"""Checks the measures of a scale test: the whole tree against a quarter of it.

usage: expect_scaling.py MEASURES FILES QUARTER_FILES
MEASURES has lines "STEP SECONDS KIB" (tests/lib.sh measure) for backup-, nochange- and
restore- of "quarter" and "whole", and optionally nochange-after-12.
"""
import sys

measures = {}
for line in open(sys.argv[1]):
    name, seconds, kib = line.split()
    measures[name] = (float(seconds), int(kib) / 1024)
files, quarter = int(sys.argv[2]), int(sys.argv[3])
failures = []


def expect(ok, text):
    print("  %s: %s" % ("ok" if ok else "FAIL", text))
    if not ok:
        failures.append(text)


ratio = files / quarter
for step in ("backup", "nochange", "restore"):
    (quarter_seconds, quarter_mib), (seconds, mib) = measures[step + "-quarter"], measures[step + "-whole"]
    # The index holds an entry per blob (about 100 bytes with its hash table); nothing else
    # may grow with the number of files.
    allowed = quarter_mib + (files - quarter) * 120 / 2**20 + 64
    expect(mib <= allowed, "%s peak memory %.0f MiB for %d files, %.0f MiB for %d (at most %.0f)" % (
        step, mib, files, quarter_mib, quarter, allowed))
    # Linear time, with room for a noisy shared machine and for ext4 on a working file
    # system (a restore right after large deletions runs slower): quadratic growth would be
    # four times the linear one here.
    limit = 2 * ratio * quarter_seconds + 5
    expect(seconds <= limit, "%s time %.1f s for %d files, %.1f s for %d (at most %.1f)" % (
        step, seconds, files, quarter_seconds, quarter, limit))
if "nochange-after-12" in measures:
    first, later = measures["nochange-whole"][0], measures["nochange-after-12"][0]
    expect(later <= 1.5 * first + 5, "no-change backup with 12 snapshots %.1f s, with 1 %.1f s" % (later, first))
sys.exit(1 if failures else 0)
