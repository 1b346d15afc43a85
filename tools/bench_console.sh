#!/usr/bin/env bash
# Console latency benchmark: generates a 100k-flow + 100k-log pair of databases with
# routerd-console-gendb, then starts routerd-dpi-console twice on a scratch TCP port and prints
# p50/p90/max of 50 requests per endpoint (curl %{time_total}) and the console's CPU per request
# (utime+stime from /proc/<pid>/stat over the timed requests):
#   cold  --cache-ttl 0s: every request computes its answer
#   warm  default result cache (5s ttl; the databases do not change, so answers stay exact)
#   live  default result cache while a writer commits a new flow every second (as the logger
#         does) and requests come every PACE seconds (a page polling): answers older than the
#         ttl are recomputed, so this shows the mix an operator really gets
# Usage: tools/bench_console.sh [builddir] [flows] [logs] [requests] [live-pace-s (0.5; 0 skips)]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
flows=${2:-100000}
logs=${3:-100000}
n=${4:-50}
pace=${5:-0.5}
bin=$build/services/console
tmp=$(mktemp -d "/tmp/bench-console-$$-XXXXXX")
pid=
writer=
cleanup() {
	[ -n "$writer" ] && kill "$writer" 2>/dev/null && wait "$writer" 2>/dev/null
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

start=$(date +%s.%N)
"$bin/routerd-console-gendb" --firewall-db "$tmp/fw.db" --traffic-db "$tmp/tf.db" \
	--flows "$flows" --logs "$logs" --seed 1
end=$(date +%s.%N)
printf 'gendb: %d flows + %d logs in %.2f s\n' "$flows" "$logs" "$(echo "$end - $start" | bc)"

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run <label> <pace-s between requests> [console flags...]
run() {
	local label=$1 gap=$2
	shift 2
	local port=$((20000 + ($$ + RANDOM) % 20000))
	"$bin/routerd-dpi-console" --config /dev/null --listen "127.0.0.1:$port" \
		--firewall-db "$tmp/fw.db" --traffic-db "$tmp/tf.db" --classifier-socket "" \
		--agent-socket "" --logger-socket "" "$@" 2>"$tmp/console.err" &
	pid=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
		sleep 0.05
	done
	printf '\n%s (%s)\n' "$label" "${*:-default cache}"
	printf '%-75s %8s %8s %8s %11s\n' endpoint p50_ms p90_ms max_ms cpu_ms/req
	for path in /api/v1/summary /api/v1/clients \
		'/api/v1/traffic-flows?source=port-fallback&client=192.168.1.7&limit=100' \
		/api/v1/traffic-flows/aggregate '/api/v1/firewall-logs?limit=100'; do
		curl -s -o /dev/null "http://127.0.0.1:$port$path" # warm-up (fills the cache)
		local c0 c1
		c0=$(cpu_ticks "$pid")
		for _ in $(seq "$n"); do
			curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port$path"
			[ "$gap" = 0 ] || sleep "$gap"
		done >"$tmp/times"
		c1=$(cpu_ticks "$pid")
		sort -n "$tmp/times" | awk -v p="$path" -v cpu="$(((c1 - c0) * 1000))" -v hz="$hz" -v n="$n" \
			'{ v[NR] = $1 * 1000 }
			END { printf "%-75s %8.1f %8.1f %8.1f %11.1f\n", p, v[int(NR * 0.5 + 0.5)],
				v[int(NR * 0.9 + 0.5)], v[NR], cpu / hz / n }'
	done
	curl -s "http://127.0.0.1:$port/metrics" | grep -E '^routerd_dpi_console_cache_(hits|misses)_total' |
		tr '\n' ' '
	echo
	kill "$pid" && wait "$pid" 2>/dev/null || true
	pid=
}

run cold 0 --cache-ttl 0s
run warm 0
if [ "$pace" != 0 ]; then
	# one new flow per second, stamped now, through the sqlite3 shell (WAL, like the logger)
	(
		i=0
		while :; do
			i=$((i + 1))
			ns=$(date +%s%N)
			sqlite3 "$tmp/tf.db" "PRAGMA busy_timeout=2000; INSERT INTO flows (flow_key,
				ts_started, ts_ended, client_address, client_port, peer_address, peer_port,
				protocol, bytes_out, bytes_in, packets_out, packets_in, app_name, source,
				engine) VALUES ('bench-live-$$-$i', $ns, $ns, '192.168.1.7', 40000, '203.0.113.9',
				443, 'tcp', 900, 12000, 5, 9, 'tls', 'sni-cache', 'builtin');" >/dev/null 2>&1
			sleep 1
		done
	) &
	writer=$!
	run live "$pace"
	kill "$writer" 2>/dev/null && wait "$writer" 2>/dev/null || true
	writer=
fi
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
