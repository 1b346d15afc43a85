#!/usr/bin/env bash
# The README's first command, tools/demo.sh, on this build tree: the capture path (any user)
# and, as root, the live path (namespaces, nftables NFLOG, conntrack, trafficgen). Asserts on
# what it prints (the console's numbers) and that it leaves nothing behind.
set -euo pipefail
src=${RDPI_SOURCE_DIR:?} bin=${RDPI_BINARY_DIR:?}
for b in services/console/routerd-dpi-console trafficgen services/logger/routerd-firewall-logger; do
  [ -x "$bin/$b" ] || { echo "FAIL: $bin/$b is not built" >&2; exit 1; }
done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() { echo "FAIL: $*" >&2; sed 's/^/  | /' "$out" >&2; exit 1; }

check_report() { # mode
  grep -q '^flows: [1-9]' "$out" || fail "$1: no flows in the summary"
  grep -Eq '^  (ndpi-agent|builtin-payload) +[1-9][0-9]* ' "$out" || fail "$1: no flow identified from payload (ndpi-agent or builtin-payload)"
  grep -q '^top applications' "$out" || fail "$1: no top applications"
  grep -Eq '^  (tls|http|dns|quic|youtube|google|github|netflix)' "$out" || fail "$1: no known application listed"
  grep -Eq '^  [0-9a-f.:]+ +(web-heavy|resolver-only|iot-telemetry|mixed) ' "$out" || fail "$1: no client rows"
  grep -q '^console: http://127.0.0.1:' "$out" || fail "$1: no console URL"
  # the private runtime directory is gone
  local d
  d=$(sed -n 's/^== configuration: \(\/tmp\/routerd-dpi-demo\.[^/]*\)\/dpi.conf.*/\1/p' "$out")
  [ -n "$d" ] || fail "$1: no runtime directory printed"
  [ ! -e "$d" ] || fail "$1: $d left behind"
}

echo "== demo, capture path"
(cd "$src" && tools/demo.sh --offline --no-wait --build-dir "$bin" --port 29780) >"$out" 2>&1 </dev/null ||
  fail "offline demo exited non-zero"
check_report offline
sed 's/^/  /' "$out"

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP (live part): needs root for network namespaces, nftables and NFLOG"
  exit 0
fi
echo "== demo, live path (root)"
(cd "$src" && tools/demo.sh --no-wait --build-dir "$bin" --duration 6 --port 29790) >"$out" 2>&1 </dev/null ||
  fail "live demo exited non-zero"
check_report live
grep -Eq 'NFLOG packets [1-9]' "$out" || fail "live: the logger saw no NFLOG packets"
grep -Eq 'NFLOG lost: 0$' "$out" || fail "live: NFLOG lost packets"
tag=$(sed -n 's/^== network: namespaces \(rd[0-9]*\)-cli .*/\1/p' "$out")
[ -n "$tag" ] || fail "live: no namespace names printed"
if grep -q "^$tag-" <<<"$(ip netns list)"; then fail "live: namespaces $tag-* left behind"; fi
sed 's/^/  /' "$out"
echo "PASS"
