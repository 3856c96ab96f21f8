#!/usr/bin/env bash
# File-backup benchmark: obkeep, restic and borg on the same generated tree, in one run.
# usage: bench/files.sh [--scale S | --small-files N] [--work DIR] [--tools obkeep,restic,borg] [--obkeep PATH] [--repeat N]
#                       [--restore-fs fresh|work] [--json PATH]
# Prints a Markdown table with ratios and writes it (and raw JSON) to bench/out/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scale=1 small_files= json_copy= work=/tmp/obkeep-bench tools=obkeep,restic,borg obkeep_bin=$root/build/obkeep repeat=1 restore_fs=fresh
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift ;;
    --small-files) small_files=$2; shift ;;
    --work) work=$2; shift ;;
    --tools) tools=$2; shift ;;
    --obkeep) obkeep_bin=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --restore-fs) restore_fs=$2; shift ;;
    --json) json_copy=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
command -v restic >/dev/null && command -v borg >/dev/null && [ -x /usr/bin/time ] || "$root/scripts/setup.sh" --no-build --bench
rm -rf "$work" && mkdir -p "$work"
data=$work/data
tree_args=(--scale "$scale") tree_name="scale $scale"
[ -n "$small_files" ] && tree_args=(--small-files "$small_files") tree_name="$small_files small files"
echo "generating tree ($tree_name)..." >&2
python3 "$root/bench/generate_tree.py" "$data" "${tree_args[@]}"
cp -a "$data" "$work/data-pristine"  # every tool starts from the same bytes
export OBKEEP_PASSWORD=bench RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_BASE_DIR=$work/borg-home RESTIC_CACHE_DIR=$work/restic-cache
results=$work/results.tsv
: >"$results"

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }

# Restores go to a new ext4 file system (default options, so with a journal), made on a loop
# device before every measured restore: every tool and repetition starts from the same state,
# as on a recovery machine. On the working file system the benchmark's own deletions shortly
# before (the previous restore, the data reset) slow whichever tool creates inodes fastest
# when that file system has no journal: ext4 then skips recently freed inodes one by one.
# `--restore-fs work` restores into the working file system instead.
restore_mnt=$work/restore-mnt loopdev=
release_restore_fs() {
  mountpoint -q "$restore_mnt" 2>/dev/null && umount "$restore_mnt"
  [ -n "$loopdev" ] && losetup -d "$loopdev"
  loopdev=
  rm -f "$work/restore.img"
}
trap release_restore_fs EXIT
fresh_target() {
  if [ "$restore_fs" = fresh ]; then
    release_restore_fs
    truncate -s "$(($(du -sb "$work/data-pristine" | cut -f1) * 3 / 2 / (1 << 20) + 1024))M" "$work/restore.img"
    loopdev=$(losetup --find --show --direct-io=on "$work/restore.img")
    mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$loopdev"
    mkdir -p "$restore_mnt" && mount "$loopdev" "$restore_mnt"
  else
    rm -rf "$restore_mnt" && mkdir -p "$restore_mnt"
  fi
  mkdir -p "$restore_mnt/target"
}
if [ "$restore_fs" = fresh ] && ! { [ "$(id -u)" = 0 ] && command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null &&
  fresh_target 2>/dev/null; }; then
  echo "cannot make a loop file system here (needs root, losetup, mkfs.ext4): restoring into $work" >&2
  release_restore_fs 2>/dev/null || true
  restore_fs=work
fi

# measure TOOL STEP CMD...: runs CMD `repeat` times, records the median seconds and max RSS (KiB).
measure() {
  local tool=$1 step=$2; shift 2
  local times=() rss=0 i out
  for ((i = 0; i < repeat; i++)); do
    [ "$i" -gt 0 ] && [ -n "${RESET:-}" ] && eval "$RESET"
    [ -n "${PREPARE:-}" ] && eval "$PREPARE"
    drop_caches
    if ! /usr/bin/time -f "%e %M" "$@" >/dev/null 2>"$work/last.err"; then
      echo "$tool $step failed:" >&2
      tail -n 5 "$work/last.err" >&2
      exit 1
    fi
    out=$(tail -n 1 "$work/last.err")
    times+=("${out% *}")
    [ "${out#* }" -gt "$rss" ] && rss=${out#* }
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%s\t%s\t%s\t%s\n' "$tool" "$step" "$median" "$rss" >>"$results"
  echo "$tool $step: ${median}s, ${rss} KiB" >&2
}

run_tool() {
  local tool=$1 repo=$work/repo-$1 restore=$restore_mnt/target
  rm -rf "$data" && cp -a "$work/data-pristine" "$data"
  case $tool in
    obkeep)
      "$obkeep_bin" -r "$repo" init >/dev/null
      RESET="rm -rf $repo; $obkeep_bin -r $repo init >/dev/null" measure obkeep first "$obkeep_bin" -r "$repo" backup "$data"
      measure obkeep nochange "$obkeep_bin" -r "$repo" backup "$data"
      python3 "$root/bench/generate_tree.py" "$data" --mutate 1
      measure obkeep changed "$obkeep_bin" -r "$repo" backup "$data"
      PREPARE=fresh_target measure obkeep restore "$obkeep_bin" -r "$repo" restore latest --target "$restore"
      diff -r "$data" "$restore$data" >/dev/null || { echo "obkeep restore differs" >&2; exit 1; } ;;
    restic)
      restic -r "$repo" init --repository-version 2 >/dev/null
      RESET="rm -rf $repo $RESTIC_CACHE_DIR; restic -r $repo init --repository-version 2 >/dev/null" \
        measure restic first restic -r "$repo" backup "$data"
      measure restic nochange restic -r "$repo" backup "$data"
      python3 "$root/bench/generate_tree.py" "$data" --mutate 1
      measure restic changed restic -r "$repo" backup "$data"
      PREPARE=fresh_target measure restic restore restic -r "$repo" restore latest --target "$restore"
      diff -r "$data" "$restore$data" >/dev/null || { echo "restic restore differs" >&2; exit 1; } ;;
    borg)
      borg init -e repokey-blake2 "$repo" >/dev/null
      RESET="rm -rf $repo $BORG_BASE_DIR; borg init -e repokey-blake2 $repo >/dev/null" \
        measure borg first borg create --compression zstd,3 "$repo::first" "$data"
      # A repetition first deletes the archive it would otherwise collide with.
      RESET="borg delete $repo::nochange" measure borg nochange borg create --compression zstd,3 "$repo::nochange" "$data"
      python3 "$root/bench/generate_tree.py" "$data" --mutate 1
      RESET="borg delete $repo::changed" measure borg changed borg create --compression zstd,3 "$repo::changed" "$data"
      PREPARE=fresh_target measure borg restore sh -c "cd '$restore' && borg extract '$repo::changed'"
      diff -r "$data" "$restore$data" >/dev/null || { echo "borg restore differs" >&2; exit 1; } ;;
  esac
  printf '%s\t%s\t%s\t%s\n' "$tool" size "$(du -sb "$repo" | cut -f1)" 0 >>"$results"
  RESET=
  release_restore_fs
}

IFS=, read -r -a tool_list <<<"$tools"
for tool in "${tool_list[@]}"; do run_tool "$tool"; done

mkdir -p "$root/bench/out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$results" "$work/data-pristine" "$root/bench/out/files-$stamp" "$tree_name" "$restore_fs" <<'PY'
import json, os, platform, subprocess, sys
results, data, out, tree_name, restore_fs = sys.argv[1:6]
r = {}
for line in open(results):
    tool, step, value, rss = line.rstrip("\n").split("\t")
    r.setdefault(tool, {})[step] = (float(value), int(rss))
files = sum(len(f) for _, _, f in os.walk(data))
size = sum(os.path.getsize(os.path.join(d, x)) for d, _, fs in os.walk(data) for x in fs)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
def version(cmd):
    try: return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    except Exception: return "?"
tools = [t for t in ("obkeep", "restic", "borg") if t in r]
lines = ["# File backup benchmark", "",
         "Data: %d files, %.2f GB (generated, %s). Machine: %d cores, %s, sha_ni=%s aes=%s." % (
             files, size / 1e9, tree_name, os.cpu_count(), cpu, " sha_ni" in flags, " aes" in flags),
         "Versions: %s; %s; %s." % (version(["build/obkeep", "version"]) if os.path.exists("build/obkeep") else "obkeep",
                                     version(["restic", "version"]), version(["borg", "--version"])),
         "Restores into: %s." % ("a new ext4 file system on a loop device, made before each restore" if restore_fs == "fresh"
                                 else "the working file system"),
         "", "| step | " + " | ".join(tools) + " | restic/obkeep | borg/obkeep |", "|---" * (len(tools) + 3) + "|"]
names = {"first": "first backup (s)", "nochange": "backup, no change (s)", "changed": "backup after 1% change (s)",
         "restore": "full restore (s)", "size": "repository size (MB)", "rss": "peak memory (MB)"}
def cell(tool, step):
    if step == "size": return r[tool]["size"][0] / 1e6
    if step == "rss": return max(v[1] for k, v in r[tool].items() if k != "size") / 1024
    return r[tool][step][0]
for step in ("first", "nochange", "changed", "restore", "size", "rss"):
    row = [cell(t, step) for t in tools]
    ratios = []
    for peer in ("restic", "borg"):
        if peer in r and "obkeep" in r and cell("obkeep", step) > 0:
            ratios.append("%.2f" % (cell(peer, step) / cell("obkeep", step)))
        else:
            ratios.append("-")
    lines.append("| %s | %s | %s |" % (names[step], " | ".join("%.2f" % v for v in row), " | ".join(ratios)))
if "obkeep" in r and "restic" in r:
    o, s = (lambda k: cell("obkeep", k)), (lambda k: cell("restic", k))
    checks = [("first backup at least 2x faster than restic", s("first") >= 2 * o("first")),
              ("restore at least 2x faster than restic", s("restore") >= 2 * o("restore")),
              ("no-change backup at most 1/3 of restic's time", o("nochange") * 3 <= s("nochange")),
              ("repository no larger than restic's", o("size") <= s("size")),
              ("peak memory no more than restic's", o("rss") <= s("rss"))]
    lines += [""] + ["- %s: %s" % ("PASS" if ok else "FAIL", text) for text, ok in checks]
text = "\n".join(lines) + "\n"
print(text)
open(out + ".md", "w").write(text)
json.dump({t: {k: list(v) for k, v in r[t].items()} for t in r}, open(out + ".json", "w"), indent=1)
PY
[ -n "$json_copy" ] && cp "$root/bench/out/files-$stamp.json" "$json_copy"
exit 0
