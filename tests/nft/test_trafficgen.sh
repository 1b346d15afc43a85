#!/usr/bin/env bash
# tools/trafficgen.c. Non-root: `trafficgen pcap` replayed through a real
# routerd-firewall-logger --pcap and a real routerd-dpi-classifier (builtin engine); every
# flow type gets its label in dpi_flow (DNS query, TLS SNI, HTTP Host, QUIC SNI from the
# protected Initial, NTP, MQTT) and every flow is bidirectional in traffic-flows.db. Root: a
# server and a client namespace joined by a veth pair, `trafficgen serve` and `trafficgen
# client` from three IPv4 and one IPv6 source; the client's summary and the server's counts.
set -euo pipefail
bin=${RDPI_BINARY_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}
tg=$bin/trafficgen
classifier=$bin/services/classifier/routerd-dpi-classifier
logger=$bin/services/logger/routerd-firewall-logger
for b in "$tg" "$classifier" "$logger"; do
	if [ ! -x "$b" ]; then
		echo "skipped: $b not built"
		exit 77
	fi
done
if ! command -v sqlite3 >/dev/null || ! command -v jq >/dev/null; then
	echo "skipped: sqlite3 and jq are required"
	exit 77
fi

tmp=$(mktemp -d /tmp/rdpi-tg.XXXXXX)
pids=()
nss=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for n in "${nss[@]}"; do
		ip netns del "$n" 2>/dev/null || true
	done
	if [ -n "${RDPI_KEEP_TMP:-}" ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
q() { sqlite3 "$1" "$2"; }
expect() { # db sql want label
	local got
	got=$(q "$1" "$2")
	[ "$got" = "$3" ] || fail "$4: got '$got', want '$3' ($2)"
}
wait_for() { # deadline_s command...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# ---- 1. usage errors and "nothing could be sent" (no traffic leaves the host) ----------
if "$tg" client >/dev/null 2>&1; then fail "client without --server accepted"; fi
if "$tg" pcap --out "$tmp/x.pcap" --flows 0 >/dev/null 2>&1; then fail "--flows 0 accepted"; fi
# a source address this host does not have: every bind fails, nothing leaves
set +e
out=$("$tg" client --server 127.0.0.1 --source 192.0.2.77 --rounds 1 2>"$tmp/nothing.err")
rc=$?
set -e
[ "$rc" != 0 ] || fail "client exited 0 although nothing was sent"
[ "$(tail -n 1 <<<"$out" | jq -c .)" = '{"rounds":1,"tcp":0,"udp":0,"errors":7}' ] ||
	fail "nothing-sent summary: $out"

# ---- 2. pcap through the logger and the classifier ------------------------------------
flows=60
"$tg" pcap --out "$tmp/mix.pcap" --flows $flows --clients 4 >"$tmp/pcap.json"
jq -e ".flows == $flows and .dns == 10 and .tls == 10 and .http == 10 and .quic == 10 and
	.ntp == 10 and .mqtt == 10 and .packets == 360" "$tmp/pcap.json" >/dev/null ||
	fail "pcap summary: $(cat "$tmp/pcap.json")"
# classic pcap, microseconds, Ethernet
[ "$(od -An -tx1 -N4 "$tmp/mix.pcap" | tr -d ' ')" = d4c3b2a1 ] || fail "pcap magic"

"$classifier" daemon --engine builtin --socket "$tmp/c.sock" --ipc "ipc://$tmp/c.ipc" \
	2>"$tmp/classifier.err" &
pids+=("$!")
if ! wait_for 20 test -S "$tmp/c.sock"; then
	cat "$tmp/classifier.err" >&2
	echo "FAIL: classifier did not start" >&2
	exit 1
fi
db=$tmp/fw.db
tdb=$tmp/traffic.db
if ! timeout 120 "$logger" daemon --socket "$tmp/l.sock" --ipc "ipc://$tmp/l.ipc" \
	--pcap "$tmp/mix.pcap" --path "$db" --traffic-path "$tdb" --nflog-group 0 \
	--dpi-socket "ipc://$tmp/c.ipc" 2>"$tmp/logger.err"; then
	cat "$tmp/logger.err" >&2
	fail "logger --pcap failed"
fi

names_tls="'www.youtube.com','api.github.com','www.netflix.com','s3.amazonaws.com','gateway.icloud.com','www.facebook.com','open.spotify.com','discord.com'"
names_quic="'www.google.com','rr1.googlevideo.com','www.youtube.com','i.instagram.com'"
names_http="'www.example.com','detectportal.firefox.com','connectivitycheck.gstatic.com','www.msftconnecttest.com','captive.apple.com','neverssl.com'"
expect "$db" "SELECT COUNT(*) FROM dpi_flow" $flows "one dpi_flow row per flow"
expect "$db" "SELECT COUNT(*) FROM dpi_flow WHERE source <> 'builtin-payload'" 0 "all from payload"
expect "$db" "SELECT COUNT(*) FROM dpi_flow WHERE protocol = 'udp' AND dst_port = 53 AND
	app_name = 'dns' AND dns_query IN ($names_tls)" 10 "dns"
expect "$db" "SELECT COUNT(*) FROM dpi_flow WHERE protocol = 'tcp' AND dst_port = 443 AND
	app_name = 'tls' AND tls_sni IN ($names_tls)" 10 "tls"
expect "$db" "SELECT COUNT(*) FROM dpi_flow WHERE protocol = 'tcp' AND dst_port = 80 AND
	app_name = 'http' AND http_host IN ($names_http)" 10 "http"
expect "$db" "SELECT COUNT(*) FROM dpi_flow WHERE protocol = 'udp' AND dst_port = 443 AND
	app_name = 'quic' AND tls_sni IN ($names_quic)" 10 "quic (SNI from the protected Initial)"
expect "$db" "SELECT COUNT(*) FROM dpi_flow WHERE protocol = 'udp' AND dst_port = 123 AND
	app_name = 'ntp'" 10 "ntp"
expect "$db" "SELECT COUNT(*) FROM dpi_flow WHERE protocol = 'tcp' AND dst_port = 1883 AND
	app_name = 'mqtt'" 10 "mqtt"
expect "$db" "SELECT COUNT(DISTINCT tls_sni) FROM dpi_flow WHERE protocol = 'tcp' AND dst_port = 443" 8 \
	"TLS SNI variety"
expect "$db" "SELECT COUNT(DISTINCT tls_sni) FROM dpi_flow WHERE protocol = 'udp' AND dst_port = 443" 4 \
	"QUIC SNI variety"
expect "$db" "SELECT COUNT(DISTINCT src_address) FROM dpi_flow WHERE src_address LIKE '192.168.7.%'" 4 \
	"four IPv4 clients"
expect "$db" "SELECT COUNT(*) > 0 FROM dpi_flow WHERE src_address LIKE 'fd00:7::%' AND
	(dst_address LIKE '2001:db8::%')" 1 "IPv6 flows"
expect "$db" "SELECT COUNT(*) FROM dpi_flow WHERE NOT (dst_address LIKE '198.51.100.%' OR
	dst_address LIKE '203.0.113.%' OR dst_address LIKE '2001:db8::%')" 0 "documentation-range servers"
expect "$db" "SELECT COUNT(*) FROM firewall_logs" 0 "accept packets are not firewall_logs rows"
# complete bidirectional flows: TCP 6 packets out, 4 in (handshake, payload both ways, FINs)
expect "$tdb" "SELECT COUNT(*) FROM flows" $flows "traffic flows"
expect "$tdb" "SELECT COUNT(*) FROM flows WHERE protocol = 'tcp' AND packets_out = 6 AND packets_in = 4" 30 \
	"tcp flows bidirectional"
expect "$tdb" "SELECT COUNT(*) FROM flows WHERE protocol = 'udp' AND packets_out = 1 AND packets_in = 1" 30 \
	"udp request/answer"
span=$(q "$tdb" "SELECT MAX(ts_started) > MIN(ts_started) FROM flows")
[ "$span" = 1 ] || fail "timestamps not spread"

if [ "$fails" -gt 0 ]; then
	q "$db" "SELECT protocol, src_address, dst_address, dst_port, app_name, source, tls_sni, http_host, dns_query FROM dpi_flow" >&2
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "pcap mode: $flows flows labelled"

# ---- 3. live serve + client in a namespace pair (root) -------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	echo "note: live serve/client part skipped (needs root and iproute2); pcap part passed"
	exit 0
fi
cns=rdpi-tgc-$$ sns=rdpi-tgs-$$
ip netns add "$cns" && nss+=("$cns")
ip netns add "$sns" && nss+=("$sns")
ip link add "tgc$$" netns "$cns" type veth peer name "tgs$$" netns "$sns"
ip -n "$sns" link set lo up
ip -n "$sns" link set "tgs$$" up
ip -n "$sns" addr add 10.232.0.1/24 dev "tgs$$"
ip -n "$sns" addr add fd32::1/64 dev "tgs$$" nodad
ip -n "$cns" link set lo up
ip -n "$cns" link set "tgc$$" up
for a in 11 12 13; do ip -n "$cns" addr add "10.232.0.$a/24" dev "tgc$$"; done
ip -n "$cns" addr add fd32::11/64 dev "tgc$$" nodad

ip netns exec "$sns" "$tg" serve --addr 10.232.0.1 --addr fd32::1 >"$tmp/serve.out" 2>"$tmp/serve.err" &
spid=$!
pids+=("$spid")
if ! wait_for 20 grep -q '^serving on 2 address' "$tmp/serve.out"; then
	cat "$tmp/serve.err" >&2
	echo "FAIL: trafficgen serve did not start" >&2
	exit 1
fi
ip netns exec "$cns" "$tg" client --server 10.232.0.1 --source 10.232.0.11 --source 10.232.0.12 \
	--source 10.232.0.13 --rounds 2 --interval-ms 50 >"$tmp/client4.out" 2>"$tmp/client4.err" ||
	fail "IPv4 client exited $?: $(cat "$tmp/client4.err")"
ip netns exec "$cns" "$tg" client --server fd32::1 --source fd32::11 --rounds 1 \
	>"$tmp/client6.out" 2>"$tmp/client6.err" ||
	fail "IPv6 client exited $?: $(cat "$tmp/client6.err")"
# no route: nothing can be sent, non-zero exit
if ip netns exec "$cns" "$tg" client --server 10.233.9.9 --rounds 1 >/dev/null 2>&1; then
	fail "client to an unreachable server exited 0"
fi
[ "$(grep -c '^round ' "$tmp/client4.out")" = 2 ] || fail "progress lines: $(cat "$tmp/client4.out")"
# per source and round: HTTP, TLS, MQTT over TCP; two DNS, QUIC, NTP over UDP
[ "$(tail -n 1 "$tmp/client4.out" | jq -c .)" = '{"rounds":2,"tcp":18,"udp":24,"errors":0}' ] ||
	fail "IPv4 summary: $(cat "$tmp/client4.out" "$tmp/client4.err")"
[ "$(tail -n 1 "$tmp/client6.out" | jq -c .)" = '{"rounds":1,"tcp":3,"udp":4,"errors":0}' ] ||
	fail "IPv6 summary: $(cat "$tmp/client6.out" "$tmp/client6.err")"

kill -TERM "$spid"
wait "$spid" || fail "serve exited $? on SIGTERM"
pids=("${pids[@]/$spid/}")
# what the server recognised: 7 exchanges of each (6 IPv4 + 1 IPv6), DNS twice
[ "$(tail -n 1 "$tmp/serve.out" | jq -c .)" = '{"dns":14,"tls":7,"http":7,"quic":7,"ntp":7,"mqtt":7,"dropped":0}' ] ||
	fail "server counts: $(cat "$tmp/serve.out" "$tmp/serve.err")"

if [ "$fails" -gt 0 ]; then
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "trafficgen: pcap and live serve/client checks passed"
