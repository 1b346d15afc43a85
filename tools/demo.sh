#!/usr/bin/env bash
# The main job on an embedded default. Today: install packages, build, and run
# the foundation benchmarks (RPC over NNG ipc, JSON shim, flow table) with
# their figures. Later issues turn this into the full pipeline demo.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps.sh
tools/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ran=0
for d in build/services/*/routerd-*; do
  [ -x "$d" ] || continue
  echo "== $(basename "$d") selftest"
  "$d" selftest
  ran=1
done
[ $ran -eq 1 ] || echo "(no daemons are built yet: they arrive with the classifier, agent and logger issues)"
echo "== foundation benchmarks"
build/bench_rpc --quick
build/bench_flowtab --quick
