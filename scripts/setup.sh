#!/usr/bin/env bash
# Installs the Debian 12 packages obkeep builds, tests and benchmarks with, then builds it.
# usage: scripts/setup.sh [--build-dir DIR] [--sanitize] [--no-build] [--bench]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build"
sanitize=OFF
build=1
bench=0
while [ $# -gt 0 ]; do
  case $1 in
    --build-dir) build_dir=$2; shift ;;
    --sanitize) sanitize=ON ;;
    --no-build) build=0 ;;
    --bench) bench=1 ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

build_packages=(
  build-essential cmake pkg-config git
  libssl-dev libzstd-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libpugixml-dev
  libpq-dev libmariadb-dev libcurl4-openssl-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
)
test_packages=(
  postgresql-15 postgresql-client-15 mariadb-server mariadb-client mariadb-backup
  libh2-java default-jre-headless attr acl python3 procps psmisc curl util-linux
  openssh-server openssh-client
  swift-proxy swift-object swift-container swift-account
  ceph-mon ceph-osd ceph-common radosgw
  prometheus chromium systemd
)
bench_packages=(restic borgbackup mydumper time rclone pgbackrest)

wanted=("${build_packages[@]}" "${test_packages[@]}")
[ "$bench" = 1 ] && wanted+=("${bench_packages[@]}")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$build" = 1 ]; then
  # The sanitizer build uses clang, so that it also builds the libFuzzer targets.
  if [ "$sanitize" = ON ]; then export CC=clang CXX=clang++; fi
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBKEEP_SANITIZE=$sanitize -DOBKEEP_SCALE_TESTS=OFF >/dev/null
  cmake --build "$build_dir" -j"$(nproc)"
fi
