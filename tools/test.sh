#!/usr/bin/env bash
# The whole test suite: install packages, build a normal and an ASan+UBSan
# (clang) tree, run every ctest (unit tests, seed-corpus replays of every fuzz
# target, integration tests) in both, and the agent's tests once more in a
# tree built without libndpi. Root-only tests run because this runs as root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps.sh

jobs=$(nproc)
echo "== build: release (gcc)"
tools/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== build: asan+ubsan (clang)"
tools/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DRDPI_SANITIZE=ON -DCMAKE_C_COMPILER=clang
echo "== build: agent without libndpi (RDPI_NDPI=OFF)"
tools/build.sh build-nondpi -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRDPI_NDPI=OFF

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
echo "== ctest: release"
(cd build && ctest --output-on-failure -j"$jobs") || rc=1
echo "== ctest: asan+ubsan"
(cd build-asan && ctest --output-on-failure -j"$jobs") || rc=1
echo "== ctest: agent without libndpi"
(cd build-nondpi && ctest --output-on-failure -j"$jobs" -R agent) || rc=1
if [ $rc -ne 0 ]; then
  echo "test.sh: FAILED" >&2
  exit 1
fi
echo "test.sh: all tests passed (release, asan+ubsan, agent without libndpi)"
