#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a short time.
# usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
"$root/scripts/setup.sh" --no-build
build_dir="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBKEEP_FUZZ=ON >/dev/null
targets=$(cd "$root/src" && find . -name '*_fuzz.cpp' -exec basename {} .cpp \;)
# shellcheck disable=SC2086
cmake --build "$build_dir" -j"$(nproc)" --target $targets
for target in $targets; do
  corpus="$build_dir/corpus-$target"
  mkdir -p "$corpus"
  echo "fuzzing $target for ${seconds}s"
  "$build_dir/$target" -max_total_time="$seconds" -rss_limit_mb=2048 "$corpus" 2>"$build_dir/$target.log" ||
    { tail -n 40 "$build_dir/$target.log"; exit 1; }
  grep -E "^#[0-9]+.*DONE" "$build_dir/$target.log" || tail -n 3 "$build_dir/$target.log"
done
