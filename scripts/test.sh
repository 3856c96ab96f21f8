#!/usr/bin/env bash
# Sets up (packages, build) and runs the whole test suite with CTest.
# usage: scripts/test.sh [--sanitize] [ctest args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build"
setup_args=()
if [ "${1:-}" = "--sanitize" ]; then
  build_dir="$root/build-sanitize"
  setup_args+=(--sanitize)
  shift
fi
"$root/scripts/setup.sh" --build-dir "$build_dir" "${setup_args[@]}"
cd "$build_dir"
ctest --output-on-failure -j2 "$@"
