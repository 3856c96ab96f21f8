#!/usr/bin/env python3
"""usage: obkeep snapshots --json | dedup_ratio.py DATABASE MAX_RATIO

Compares what the last backup of DATABASE added to the repository with what its first (full)
backup added, and fails when the ratio exceeds MAX_RATIO."""
import json, sys

database, limit = sys.argv[1], float(sys.argv[2])
snapshots = [s for s in json.load(sys.stdin) if any(t.startswith("database=") and t.endswith("/" + database) for t in s["tags"])]
if len(snapshots) < 2:
    sys.exit("want at least two backups of %s, found %d" % (database, len(snapshots)))
first, last = snapshots[0]["summary"]["bytes_added"], snapshots[-1]["summary"]["bytes_added"]
print("first backup of %s stored %d bytes; the one after a 1%% change stored %d (%.1f%%)" % (database, first, last, 100.0 * last / first))
if last > limit * first:
    sys.exit("the backup after a small change stored more than %.0f%% of a full one" % (100 * limit))
