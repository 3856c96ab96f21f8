#!/usr/bin/env bash
# Memory at scale: obkeep and restic on a million small files and on the deployment tree at
# five times the benchmark's size, each in one run of bench/files.sh; prints one table of
# time and peak memory per step, and repository size, with ratios.
# usage: bench/scale.sh [--files N] [--scale S] [--work DIR]     (defaults 1000000, 5)
# Needs about 45 GB free under the work directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
files=1000000 scale=5 work=/tmp/obkeep-bench-scale
while [ $# -gt 0 ]; do
  case $1 in
    --files) files=$2; shift ;;
    --scale) scale=$2; shift ;;
    --work) work=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$root/bench/out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
small=$root/bench/out/scale-small-$stamp.json tree=$root/bench/out/scale-tree-$stamp.json
"$root/bench/files.sh" --small-files "$files" --tools obkeep,restic --work "$work" --json "$small"
"$root/bench/files.sh" --scale "$scale" --tools obkeep,restic --work "$work" --json "$tree"
rm -rf "$work"
python3 - "$small" "$tree" "$files" "$scale" "$root/bench/out/scale-$stamp.md" <<'PY'
import json, sys
small, tree, files, scale, out = sys.argv[1:6]
names = {"first": "first backup", "nochange": "backup, no change", "changed": "backup after 1% change",
         "restore": "full restore"}
lines = ["# Memory at scale: obkeep and restic", "",
         "| tree | step | obkeep s | restic s | restic/obkeep | obkeep MB | restic MB | restic/obkeep |",
         "|---|---|---|---|---|---|---|---|"]
for label, path in (("%s small files" % files, small), ("deployment tree x%s" % scale, tree)):
    r = json.load(open(path))
    o, s = r["obkeep"], r["restic"]
    for step in ("first", "nochange", "changed", "restore"):
        (ot, orss), (st, srss) = o[step], s[step]
        lines.append("| %s | %s | %.1f | %.1f | %.2f | %.0f | %.0f | %.2f |" % (
            label, names[step], ot, st, st / ot, orss / 1024, srss / 1024, srss / orss))
    lines.append("| %s | repository size (MB) | | | | %.0f | %.0f | %.2f |" % (
        label, o["size"][0] / 1e6, s["size"][0] / 1e6, s["size"][0] / o["size"][0]))
text = "\n".join(lines) + "\n"
print(text)
open(out, "w").write(text)
PY
