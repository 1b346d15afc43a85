#!/usr/bin/env bash
# The README's first command: the whole pipeline on the shipped default
# configuration (conf/dpi.conf), under a private runtime directory.
#
#   install what is missing, build, start routerd-ndpi-agent (when libndpi is
#   there) + routerd-dpi-classifier + routerd-firewall-logger +
#   routerd-dpi-console, then drive real traffic through it:
#     as root: three network namespaces (client, gateway, server) with the
#              shipped nftables fragment on the gateway's forward path, NFLOG
#              and conntrack, and live HTTP/TLS/DNS/QUIC/NTP/MQTT traffic from
#              several client addresses (tools/trafficgen.c);
#     otherwise: a capture the project makes itself (trafficgen pcap) through
#              the logger's --pcap input;
#   print the source-ratio table, top applications and clients, and the
#   console URL. Ctrl-C stops everything and removes what it created.
#
# Options:
#   --offline        use the capture path even as root
#   --duration S     seconds of live traffic (default 20)
#   --no-wait        exit after the report instead of serving the console
#   --build-dir DIR  use an existing build (skip deps and build)
#   --port N         console TCP port (default 9780, next free one if taken)
#   --corpus         also classify ../shared/corpus captures (builtin engine)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

offline=0 duration=20 wait_console=1 build= port=9780 corpus=0
while [ $# -gt 0 ]; do
  case "$1" in
    --offline) offline=1 ;;
    --duration) duration=$2; shift ;;
    --no-wait) wait_console=0 ;;
    --build-dir) build=$2; shift ;;
    --port) port=$2; shift ;;
    --corpus) corpus=1 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "demo: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || offline=1

if [ -z "$build" ]; then
  tools/deps.sh
  tools/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
  build=build
fi
build=$(cd "$build" && pwd)
AGENT=$build/services/agent/routerd-ndpi-agent
CLASSIFIER=$build/services/classifier/routerd-dpi-classifier
LOGGER=$build/services/logger/routerd-firewall-logger
CONSOLE=$build/services/console/routerd-dpi-console
GEN=$build/trafficgen
for b in "$CLASSIFIER" "$LOGGER" "$CONSOLE" "$GEN"; do
  [ -x "$b" ] || { echo "demo: $b is missing: build first" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/routerd-dpi-demo.XXXXXX)
chmod 755 "$tmp"
run=$tmp/run lib=$tmp/lib
mkdir -p "$run/ndpi-agent" "$run/dpi-classifier" "$run/firewall-logger" "$lib"
tag=rd$$
ns_cli=$tag-cli ns_gw=$tag-gw ns_srv=$tag-srv
pids=()
netns=0
cleanup() {
  trap - EXIT INT TERM
  set +e
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ $netns -eq 1 ]; then
    for n in "$ns_cli" "$ns_gw" "$ns_srv"; do ip netns pids "$n" 2>/dev/null | xargs -r kill -9; ip netns del "$n" 2>/dev/null; done
  fi
  if [ -n "${keep:-}" ]; then echo "demo: files kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'echo; echo "demo: stopping"; exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
wait_sock() { # path seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do [ -S "$1" ] && return 0; sleep 0.1; done
  echo "demo: $1 did not appear" >&2; return 1
}
status() { curl -sf --max-time 2 --unix-socket "$1" http://unix/v1/status; }
lstat() { # socket key -> number
  status "$1" | jq -r --arg k "$2" '.stats[$k] // 0' 2>/dev/null || echo 0
}

# the shipped configuration, with /run and /var/lib moved under $tmp
# (and conntrack counters dumped every 5 s instead of 30 s, so a short demo shows bytes)
sed -e "s#/run/routerd/#$run/#g" -e "s#/var/lib/routerd/#$lib/#g" \
  -e 's/^\([[:space:]]*dumpInterval[[:space:]]*=[[:space:]]*\)"[^"]*"/\1"5s"/' conf/dpi.conf >"$tmp/dpi.conf"
engine=$(sed -n 's/^[[:space:]]*engine[[:space:]]*=[[:space:]]*"\([a-z-]*\)".*/\1/p' "$tmp/dpi.conf" | sed -n 1p)
step "configuration: $tmp/dpi.conf (conf/dpi.conf with private paths; classifier engine ${engine:-auto})"
for d in "$AGENT" "$CLASSIFIER" "$LOGGER" "$CONSOLE"; do
  [ -x "$d" ] && "$d" --check-config --config "$tmp/dpi.conf" >/dev/null && echo "  $(basename "$d"): configuration ok"
done

step "starting the daemons"
if [ -x "$AGENT" ] && grep -q '"libndpiLoaded":true' <<<"$("$AGENT" selftest 2>/dev/null)"; then
  "$AGENT" daemon --config "$tmp/dpi.conf" >"$tmp/agent.log" 2>&1 &
  pids+=($!)
  wait_sock "$run/ndpi-agent/default.sock" 10
  echo "  routerd-ndpi-agent     pid ${pids[-1]} (libndpi $("$AGENT" selftest | jq -r .libndpiVersion 2>/dev/null))"
else
  echo "  routerd-ndpi-agent     not started: this build has no libndpi (the classifier answers from its builtin engine)"
fi
"$CLASSIFIER" daemon --config "$tmp/dpi.conf" 2>"$tmp/classifier.log" &
pids+=($!)
wait_sock "$run/dpi-classifier/default.sock" 10
echo "  routerd-dpi-classifier pid ${pids[-1]}"

while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
"$CONSOLE" daemon --config "$tmp/dpi.conf" --listen "127.0.0.1:$port" 2>"$tmp/console.log" &
pids+=($!)
# up to 200 tries 0.1 s apart: an ASan build on a loaded machine starts slowly
for _ in $(seq 200); do curl -sf --max-time 1 "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "  routerd-dpi-console    pid ${pids[-1]} on http://127.0.0.1:$port/"

LSOCK=$run/firewall-logger/default.sock
if [ $offline -eq 0 ]; then
  step "network: namespaces $ns_cli -> $ns_gw -> $ns_srv, nftables NFLOG on the gateway's forward path"
  netns=1
  for n in "$ns_cli" "$ns_gw" "$ns_srv"; do ip netns add "$n"; ip -n "$n" link set lo up; done
  ip link add "${tag}c" netns "$ns_cli" type veth peer name "${tag}g1" netns "$ns_gw"
  ip link add "${tag}s" netns "$ns_srv" type veth peer name "${tag}g2" netns "$ns_gw"
  clients=()
  for i in 10 11 12 13 14 15; do ip -n "$ns_cli" addr add "10.77.1.$i/24" dev "${tag}c"; clients+=(--source "10.77.1.$i"); done
  ip -n "$ns_gw" addr add 10.77.1.1/24 dev "${tag}g1"
  ip -n "$ns_gw" addr add 10.77.2.1/24 dev "${tag}g2"
  ip -n "$ns_srv" addr add 10.77.2.2/24 dev "${tag}s"
  for l in "$ns_cli:${tag}c" "$ns_gw:${tag}g1" "$ns_gw:${tag}g2" "$ns_srv:${tag}s"; do ip -n "${l%%:*}" link set "${l#*:}" up; done
  ip -n "$ns_cli" route add default via 10.77.1.1
  ip -n "$ns_srv" route add default via 10.77.2.1
  ip netns exec "$ns_gw" sysctl -qw net.ipv4.ip_forward=1 net.netfilter.nf_conntrack_acct=1 2>/dev/null ||
    ip netns exec "$ns_gw" sysctl -qw net.ipv4.ip_forward=1
  tools/render-nft.sh --config "$tmp/dpi.conf" >"$tmp/routerd-dpi.nft"
  ip netns exec "$ns_gw" nft -f "$tmp/routerd-dpi.nft"
  echo "  nftables: $(grep -c 'log prefix' "$tmp/routerd-dpi.nft") log rules loaded from conf/nftables/routerd-dpi.nft"
  ip netns exec "$ns_gw" "$LOGGER" daemon --config "$tmp/dpi.conf" --conntrack-events 2>"$tmp/logger.log" &
  pids+=($!)
  wait_sock "$LSOCK" 10
  echo "  routerd-firewall-logger pid ${pids[-1]} (NFLOG + conntrack in $ns_gw)"
  ip netns exec "$ns_srv" "$GEN" serve --addr 10.77.2.2 >"$tmp/serve.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do grep -q "serving on" "$tmp/serve.log" 2>/dev/null && break; sleep 0.1; done
  step "traffic: $((${#clients[@]} / 2)) clients, HTTP, TLS, DNS, QUIC, NTP, MQTT for ${duration}s"
  rounds=$((duration * 2))
  ip netns exec "$ns_cli" "$GEN" client --server 10.77.2.2 "${clients[@]}" --rounds "$rounds" --interval-ms 500 \
    >"$tmp/client.log" 2>&1 &
  gpid=$!
  pids+=($gpid)
  t0=$(date +%s)
  while kill -0 "$gpid" 2>/dev/null; do
    sleep 2
    printf '  %3ss  NFLOG packets %-7s lost %-3s classified %-6s dpi_flow rows %-5s traffic-flows writes %s\n' \
      $(($(date +%s) - t0)) "$(lstat "$LSOCK" nflog_packets)" "$(lstat "$LSOCK" nflog_lost)" \
      "$(lstat "$LSOCK" dpi_classified)" "$(lstat "$LSOCK" rows_dpi_flow)" "$(lstat "$LSOCK" rows_traffic_flows)"
  done
  wait "$gpid" || true
  echo "  client: $(tail -1 "$tmp/client.log")"
  sleep 2 # the writer commits every 250 ms; conntrack updates follow
else
  step "traffic: a capture made by the project (trafficgen pcap) through the logger's --pcap input"
  "$GEN" pcap --out "$tmp/demo.pcap" --flows 600 --clients 8 >/dev/null
  echo "  $tmp/demo.pcap: $(wc -c <"$tmp/demo.pcap") bytes"
  "$LOGGER" daemon --config "$tmp/dpi.conf" --pcap "$tmp/demo.pcap" --traffic-path "$lib/traffic-flows.db" \
    2>"$tmp/logger.log"
  echo "  routerd-firewall-logger read the capture and exited (the console's logger probe will say it is not running)"
fi

step "what the console says (http://127.0.0.1:$port/api/v1/summary)"
sum=$(curl -sf "http://127.0.0.1:$port/api/v1/summary?since=24h")
echo "$sum" | jq -r '
  "flows: \(.flows)   bytes: \(.bytes)   NFLOG lost: \(.nflog.lost)",
  "",
  "source of the label      flows   share   bytes share",
  (.sourceRatios as $r | ["ndpi-agent", "builtin-payload", "dns-cache", "sni-cache", "port-fallback", "unidentified"][] as $s |
    "  \($s | . + " " * (22 - length)) \($r.flows[$s] // 0 | tostring | " " * (6 - length) + .)  \(($r.byFlows[$s] // 0) * 1000 | round / 10 | tostring | " " * (5 - length) + .)%  \(($r.byBytes[$s] // 0) * 1000 | round / 10 | tostring | " " * (5 - length) + .)%"),
  "",
  "top applications (by bytes)",
  (.topApps[:8][] | "  \(.app | . + " " * (20 - length)) \(.flows) flows, \(.bytes) bytes"),
  "",
  "top domains",
  (.topDomains[:6][] | "  \(.domain | . + " " * (32 - length)) \(.flows) flows")'
cl=$(curl -sf "http://127.0.0.1:$port/api/v1/clients?window=24h")
echo
echo "clients"
echo "$cl" | jq -r '.clients[:8][] | "  \(.client | . + " " * (16 - length)) \(.primaryActivity | . + " " * (14 - length)) in \(.bytesIn) out \(.bytesOut)  \(.protocolMix[:3] | map(.protocol) | join(","))  last: \(.lastDetail // .lastProtocol // "-")"'
errs=$(echo "$sum" | jq -r '.errors | length')
[ "$errs" = 0 ] || echo "console errors: $(echo "$sum" | jq -c .errors)"

if [ $corpus -eq 1 ] && [ -d "$top/../shared/corpus/pcap" ]; then
  step "builtin classifier over ../shared/corpus/pcap (share of flows by source)"
  "$build/services/classifier/classifier_bench" --runs 1 "$top/../shared/corpus/pcap"
fi

echo
echo "console: http://127.0.0.1:$port/   (API under /api/v1/, see README)"
if [ $wait_console -eq 1 ] && [ -t 0 ]; then
  echo "Ctrl-C stops the daemons$([ $netns -eq 1 ] && echo ", removes the namespaces") and deletes $tmp."
  while :; do sleep 3600; done
fi
