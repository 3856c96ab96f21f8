#!/usr/bin/env python3
"""Turns bench/db.sh's results.tsv into a Markdown table with ratios and checks."""
import json, sys

results, rows, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = {}
for line in open(results):
    engine, tool, step, value, rss = line.rstrip("\n").split("\t")
    steps = r.setdefault(engine, {}).setdefault(tool, {})
    # A step measured in several rounds: the best run counts (its time and its memory).
    if step not in steps or float(value) < steps[step][0]:
        steps[step] = (float(value), int(rss))

lines = ["# Database benchmark", "", "%d consents and %d tokens per engine, generated with random tokens, UUIDs "
         "and JSON consents (poorly compressible)." % (rows, rows), ""]
checks = []
for engine, peers in (("postgres", ["pg_dump", "pg_restore"]), ("mariadb", ["mariadb-dump", "mydumper"])):
    if engine not in r:
        continue
    e = r[engine]
    o = e["obkeep"]
    lines += ["## %s (database %.0f MB)" % (engine, e["data"]["bytes"][0] / 1e6), "",
              "| step | tool | seconds | peak MB | tool/obkeep time |", "|---|---|---|---|---|"]
    for step in ("backup", "restore"):
        lines.append("| %s | obkeep | %.2f | %.0f | 1.00 |" % (step, o[step][0], o[step][1] / 1024))
        for tool, steps in e.items():
            if tool in ("obkeep", "data") or step not in steps:
                continue
            lines.append("| %s | %s | %.2f | %.0f | %.2f |" % (step, tool, steps[step][0], steps[step][1] / 1024,
                                                              steps[step][0] / o[step][0]))
            checks.append(("%s: obkeep %s no slower than %s" % (engine, step, tool), o[step][0] <= steps[step][0]))
    if "restore-physical" in o:
        lines += ["", "| path | backup s | restore s | restore: logical/physical |", "|---|---|---|---|",
                  "| logical (obkeep) | %.2f | %.2f | 1.00 |" % (o["backup"][0], o["restore"][0]),
                  "| physical (obkeep base-backup) | %.2f | %.2f | %.2f |" % (o["backup-physical"][0], o["restore-physical"][0],
                                                                         o["restore"][0] / o["restore-physical"][0])]
    lines += ["", "| stored | bytes |", "|---|---|", "| obkeep, first backup | %d |" % o["stored"][0]]
    for tool, steps in e.items():
        if "stored" in steps and tool != "obkeep":
            lines.append("| %s output | %d |" % (tool, steps["stored"][0]))
    pct = 100.0 * o["stored-1pct"][0] / o["stored"][0]
    scattered = 100.0 * o["stored-scattered"][0] / o["stored"][0]
    lines += ["| obkeep, after 1%% of rows changed (new rows, recent updates) | %d (%.1f%% of the first) |" % (o["stored-1pct"][0], pct),
              "| obkeep, after 1%% of token rows updated at random | %d (%.1f%% of the first) |" % (o["stored-scattered"][0], scattered), ""]
    checks.append(("%s: second backup after ~1%% change stores at most 10%% of the first" % engine, pct <= 10))
    if "rpo-max" in o:
        how = "binlog-archive" if engine == "mariadb" else "wal-push; the daemon's wal_every 5 s"
        lines += ["| achieved RPO under a steady write load (%s) | seconds |" % how, "|---|---|",
                  "| median of %d samples | %.2f |" % (o["rpo-samples"][0], o["rpo-median"][0]),
                  "| worst | %.2f |" % o["rpo-max"][0], ""]
        checks.append(("%s: achieved RPO under load below 10 s" % engine, o["rpo-max"][0] < 10))
if "wal" in r:
    w = r["wal"]
    n = w["segments"]["count"][0]
    lines += ["## PostgreSQL archive_command (%d segments of 16 MiB)" % n, "",
              "| tool | seconds | ms per segment | tool/obkeep time |", "|---|---|---|---|"]
    for mode in ("", "-async"):
        ours = w["obkeep" + mode]["archive"][0]
        for tool in ("obkeep" + mode, "pgbackrest" + mode):
            seconds = w[tool]["archive"][0]
            lines.append("| %s | %.2f | %.0f | %.2f |" % (tool, seconds, 1000 * seconds / n, seconds / ours))
        checks.append(("wal: obkeep wal-push%s no slower per segment than pgbackrest archive-push%s" % (
            mode and " --async", mode and " --archive-async"), ours <= w["pgbackrest" + mode]["archive"][0]))
    lines += ["", "| stored | bytes |", "|---|---|",
              "| obkeep repository | %d |" % w["obkeep"]["stored"][0],
              "| pgbackrest archive | %d |" % w["pgbackrest"]["stored"][0], ""]
lines += ["- %s: %s" % ("PASS" if ok else "FAIL", text) for text, ok in checks]
text = "\n".join(lines) + "\n"
print(text)
open(out + ".md", "w").write(text)
json.dump({e: {t: {s: list(v) for s, v in steps.items()} for t, steps in tools.items()} for e, tools in r.items()},
          open(out + ".json", "w"), indent=1)
