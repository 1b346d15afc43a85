#!/usr/bin/env bash
# The main job on an embedded default: install packages, build, run every
# daemon's selftest, classify the real captures in ../shared/corpus with the
# builtin engine (when that corpus is present) and print the foundation
# benchmarks. Later issues turn this into the full NFLOG pipeline demo.
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
corpus="$top/../shared/corpus"
if [ -d "$corpus/pcap" ]; then
  echo "== builtin classifier over $corpus/pcap (share of flows by source)"
  build/services/classifier/classifier_bench --runs 3 "$corpus/pcap" --throughput "$corpus/mixed/merged.pcap"
else
  echo "(no ../shared/corpus here: skipping the capture report)"
fi
echo "== foundation benchmarks"
build/bench_rpc --quick
build/bench_flowtab
