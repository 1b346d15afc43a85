#!/usr/bin/env bash
# First page load of the routerd-dpi-console web page in headless chromium over a generated
# 100k-flow traffic-flows.db and 100k-row firewall-logs.db: N fresh tabs driven over the
# DevTools protocol (python3 with tests/console/cdp.py, --remote-debugging-pipe), and the wall time of `chromium --dump-dom`
# as a fallback / cross-check. Prints every run and the medians.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/console/lib.sh" # console_start, console_kill

usage() {
	cat <<EOF
usage: tools/bench_console_page.sh [options]

options:
  --build DIR      build tree with services/console/routerd-dpi-console and
                   routerd-console-gendb (default: \$top/build)
  --flows N        flows in traffic-flows.db (default 100000)
  --logs N         rows in firewall-logs.db (default 100000)
  --runs N         page loads per method (default 5)
  --window W       page window: 1h, 24h or 7d (default 24h)
  --keep DIR       generate the databases in DIR and keep them (default: a temp dir)
  --cold           start the console with --cache-ttl 0s: every API answer is computed
EOF
}

build=$top/build
flows=100000
logs=100000
runs=5
window=24h
keep=
cold=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--flows) flows=$2; shift 2 ;;
	--logs) logs=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--window) window=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	--cold) cold=(--cache-ttl 0s); shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $build in /*) ;; *) build=$PWD/$build ;; esac

chromium=${RDPI_CHROMIUM:-/usr/bin/chromium}
console=$build/services/console/routerd-dpi-console
gendb=$build/services/console/routerd-console-gendb
for f in "$chromium" "$console" "$gendb"; do
	[ -x "$f" ] || { echo "bench_console_page: $f missing" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "bench_console_page: curl missing" >&2; exit 1; }

tmp=$(mktemp -d "/tmp/rdpi-bench-page.$$.XXXXXX")
CPID=
cleanup() {
	console_kill
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dbdir=${keep:-$tmp}
mkdir -p "$dbdir"
fw=$dbdir/firewall-logs.db
tf=$dbdir/traffic-flows.db
if [ -z "$keep" ] || [ ! -s "$tf" ]; then
	rm -f "$fw" "$tf"
	t0=$(date +%s%N)
	"$gendb" --firewall-db "$fw" --traffic-db "$tf" --flows "$flows" --logs "$logs" --seed 1 \
		--now "$(date +%s)" >"$tmp/gendb.log" 2>&1 || { cat "$tmp/gendb.log"; exit 1; }
	echo "gendb: $flows flows + $logs logs in $((($(date +%s%N) - t0) / 1000000)) ms"
fi

console_start "$console" "$fw" "$tf" "$tmp" "${cold[@]}" ||
	{ cat "$tmp/console.log"; echo "console did not start" >&2; exit 1; }
port=$PORT
url="http://127.0.0.1:$port/#since=$window"
echo "console: $url  db: $tf ($(stat -c %s "$tf") bytes), $fw ($(stat -c %s "$fw") bytes)"

# API latency of the four requests the page makes (one warm-up, then one timed each)
for q in "summary?since=$window" "traffic-flows?since=$window&limit=50&offset=0" \
	"clients?window=$window&limit=50" "firewall-logs?since=$window&action=deny&limit=50&offset=0"; do
	curl -fsS -o /dev/null "http://127.0.0.1:$port/api/v1/$q"
	printf '  api %-62s %6.1f ms\n' "$q" \
		"$(curl -fsS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/api/v1/$q" | awk '{ print $1 * 1000 }')"
done

chromium_flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
	--disable-component-update --disable-sync --disable-default-apps --disable-extensions --no-pings
	--disable-domain-reliability --disable-spell-checking
	--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate
	"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# 1) DevTools protocol over a pipe: a fresh tab per run, cache disabled; "page" is the page's
#    own performance.now() when every section is rendered (<body data-ready="1">, from
#    navigation start), "wall" is Page.navigate -> that state seen by a 10 ms poll.
python=/usr/bin/python3 # Debian's (tools/deps.sh); the client is tests/console/cdp.py's
if [ -x "$python" ]; then
	cat >"$tmp/cdp_bench.py" <<'EOF'
import sys, time
sys.path.insert(0, sys.argv[1])
from cdp import Browser, Fail  # the interaction test's stdlib CDP client

top, chromium, url, runs, profile, stderr_path = sys.argv[1:7]
READY = ("document.body && document.body.getAttribute('data-ready') === '1' ? "
	 "[Number(document.body.getAttribute('data-load-ms')), "
	 "performance.timing.domContentLoadedEventEnd - performance.timing.navigationStart, "
	 "document.querySelectorAll('#flows-table tbody tr').length, "
	 "document.getElementById('flows-total').getAttribute('data-value'), "
	 "performance.getEntriesByType('resource').filter((e) => e.name.indexOf('/api/v1/') > 0)"
	 ".map((e) => e.name.split('/api/v1/')[1].split('?')[0] + '=' + Math.round(e.startTime) + '-' + "
	 "Math.round(e.responseEnd)).join(',')] : null")
b = Browser(chromium, profile, stderr_path, extra_args=sys.argv[7:])  # duplicates are harmless
try:
	deadline = time.monotonic() + 120
	for _ in range(int(runs)):
		target = b.send('Target.createTarget', {'url': 'about:blank'})['targetId']
		sess = b.send('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
		b.send('Network.enable', {}, sess)
		b.send('Network.setCacheDisabled', {'cacheDisabled': True}, sess)
		t0 = time.monotonic()
		b.send('Page.navigate', {'url': url}, sess)
		v = None
		while time.monotonic() < deadline:
			r = b.send('Runtime.evaluate', {'expression': READY, 'returnByValue': True}, sess)
			v = r.get('result', {}).get('value')
			if v:
				break
			time.sleep(0.01)
		wall = (time.monotonic() - t0) * 1000
		if not v:
			raise Fail('page did not become ready')
		# the last API answer; what follows it until data-ready is the page's own work
		last_api = max(int(x.split('-')[-1]) for x in v[4].split(','))
		print('%d %.1f %d %d %s %d %s' % (v[0], wall, v[1], v[2], v[3], last_api, v[4]), flush=True)
		b.send('Target.closeTarget', {'targetId': target})
except Fail as e:
	print(e, file=sys.stderr)
	sys.exit(1)
finally:
	b.close()
EOF
	echo "CDP (python3, fresh tab per run, cache disabled):"
	if HOME=$tmp timeout 300 "$python" "$tmp/cdp_bench.py" "$top/tests/console" "$chromium" "$url" \
		"$runs" "$tmp/profile-cdp" "$tmp/chromium.err" "${chromium_flags[@]}" >"$tmp/cdp.out" \
		2>"$tmp/cdp.err"; then
		i=0
		while read -r page wall dcl rows total lastapi apis; do
			i=$((i + 1))
			printf '  run %d: rendered %5s ms after navigation start (DOMContentLoaded %s ms, last API answer %s ms, page work after it %s ms), wall %6s ms, %s rows of %s flows\n' \
				"$i" "$page" "$dcl" "$lastapi" "$((page - lastapi))" "$wall" "$rows" "$total"
			echo "         API fetches (start-end ms): ${apis//,/ }"
		done <"$tmp/cdp.out"
		printf '  median: rendered %s ms, last API answer %s ms, page work after it %s ms, wall %s ms\n' \
			"$(awk '{ print $1 }' "$tmp/cdp.out" | median)" "$(awk '{ print $6 }' "$tmp/cdp.out" | median)" \
			"$(awk '{ print $1 - $6 }' "$tmp/cdp.out" | median)" "$(awk '{ print $2 }' "$tmp/cdp.out" | median)"
	else
		echo "  CDP run failed: $(tail -3 "$tmp/cdp.err")"
	fi
else
	echo "CDP: $python not installed (tools/deps.sh), skipped"
fi

# 2) Whole `chromium --dump-dom` process (browser start + load + render + dump), minus the same
#    for about:blank (browser start and exit alone).
dump_ms() { # <url> [expect-ready]
	local t0 t1
	t0=$(date +%s%N)
	HOME=$tmp timeout 120 "$chromium" "${chromium_flags[@]}" --user-data-dir="$tmp/profile-dump" \
		--virtual-time-budget=10000 --dump-dom "$1" >"$tmp/dump.html" 2>/dev/null
	t1=$(date +%s%N)
	if [ -n "${2:-}" ] && ! grep -q 'data-ready="1"' "$tmp/dump.html"; then
		echo "page not ready" >&2
		return 1
	fi
	echo $(((t1 - t0) / 1000000))
}
echo "chromium --dump-dom wall time:"
: >"$tmp/blank.ms"
: >"$tmp/page.ms"
for i in $(seq "$runs"); do
	dump_ms about:blank >>"$tmp/blank.ms"
	dump_ms "$url" ready >>"$tmp/page.ms"
	printf '  run %d: about:blank %s ms, console page %s ms\n' "$i" "$(tail -1 "$tmp/blank.ms")" \
		"$(tail -1 "$tmp/page.ms")"
done
mb=$(median <"$tmp/blank.ms")
mp=$(median <"$tmp/page.ms")
printf '  median: about:blank %s ms, console page %s ms, difference %s ms\n' "$mb" "$mp" \
	"$(awk -v a="$mp" -v b="$mb" 'BEGIN { print a - b }')"
