#!/usr/bin/env bash
# Builds the libFuzzer targets (the sanitizer build, with clang) and runs each for a while.
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 30, what CI runs); e.g. `scripts/fuzz.sh 3600` for an hour each
#   TARGET   only these targets (names of src/**/*_fuzz.cpp without .cpp); default all
# The corpus grows in build-sanitize/corpus-TARGET and is kept between runs; valid encodings
# in tests/fuzz-seeds/TARGET/ (if present) seed it. A crash leaves its input in build-sanitize/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
shift || true
build_dir="$root/build-sanitize"
"$root/scripts/setup.sh" --build-dir "$build_dir" --sanitize
if [ $# -gt 0 ]; then
  targets="$*"
else
  targets=$(cd "$root/src" && find . -name '*_fuzz.cpp' -exec basename {} .cpp \; | sort)
fi
for target in $targets; do
  corpus="$build_dir/corpus-$target"
  mkdir -p "$corpus"
  seeds=()
  [ -d "$root/tests/fuzz-seeds/$target" ] && seeds=("$root/tests/fuzz-seeds/$target")
  echo "fuzzing $target for ${seconds}s"
  # Trees and manifests grow past libFuzzer's default 4 KiB limit.
  "$build_dir/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$build_dir/$target-" "$corpus" "${seeds[@]}" 2>"$build_dir/$target.log" ||
    { tail -n 40 "$build_dir/$target.log"; exit 1; }
  grep -E "^#[0-9]+.*DONE" "$build_dir/$target.log" || tail -n 3 "$build_dir/$target.log"
done
