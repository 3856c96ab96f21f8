#!/usr/bin/env bash
# Sets up, builds and runs the scale tests (tests/scale/, CTest labels scale and slow): a
# million small files and the deployment tree at 5x. Not part of CI: tens of minutes, and
# about 40 GB of free space under /tmp.
# usage: scripts/scale.sh [ctest args...]    e.g. scripts/scale.sh -R small_files
#   OBKEEP_SCALE_FILES=N (default 1000000) and OBKEEP_SCALE_TREE=S (default 5) size them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build"
"$root/scripts/setup.sh" --build-dir "$build_dir"
cmake -S "$root" -B "$build_dir" -DOBKEEP_SCALE_TESTS=ON >/dev/null
# setup.sh turns them off again anyway; this leaves the build directory as it found it.
trap 'cmake -S "$root" -B "$build_dir" -DOBKEEP_SCALE_TESTS=OFF >/dev/null' EXIT
cd "$build_dir"
ctest -V -L scale "$@"
