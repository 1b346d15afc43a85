#!/usr/bin/env bash
# The README's operating recipes, run for real: every `curl ` / `nngcat ` line between
# <!-- recipes:begin --> and <!-- recipes:end --> is executed against the real daemons (agent,
# classifier, logger, console) started unprivileged on the default socket names under a temp
# runtime dir (/run/routerd/ is rewritten to it, the console's 127.0.0.1:9780 to its test
# port). Each recipe must exit 0 with output (curl -f: HTTP 200; nngcat: an OK reply), and every
# route of every daemon's table must have its recipe, so a recipe that breaks or an endpoint
# without one fails here. The console reads databases the logger made from a trafficgen capture.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_built "$CLS" "$AGT" "$LOG" "$CON" "$GEN"
need_tools "curl, nng-utils, jq" curl nngcat jq

readme=$src/README.md
recipes=$(awk '/<!-- recipes:begin -->/ { on = 1; next } /<!-- recipes:end -->/ { on = 0 }
	on && /^(curl|nngcat) /' "$readme")
n_recipes=$(grep -c . <<<"$recipes")
[ "$n_recipes" -ge 10 ] || {
	echo "FAIL: only $n_recipes recipes between the README markers" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rdpi-recipes.$$.XXXXXX")
rt=$tmp/run lib=$tmp/lib
mkdir -p "$rt/dpi-classifier" "$rt/ndpi-agent" "$rt/firewall-logger" "$lib"
pids=() names=()
cleanup() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

is_sock() { [ -S "$1" ]; }
start() { # start NAME CMD...
	local name=$1
	shift
	"$@" >"$tmp/$name.log" 2>&1 &
	pids+=($!)
	names+=("$name")
}
dump_logs() { for f in "$tmp"/*.log; do sed "s|^|  $(basename "$f"): |" "$f" >&2; done; }
die() {
	dump_logs
	echo "FAIL: $*" >&2
	exit 1
}
: >"$tmp/empty.conf" # an installed /etc/routerd/dpi.conf must not change the run
cfg=(--config "$tmp/empty.conf")

# ---- the daemons, on the default socket names under $rt ------------------------------------
start agent "$AGT" daemon "${cfg[@]}" --socket "$rt/ndpi-agent/default.sock" \
	--ipc "ipc://$rt/ndpi-agent/default.ipc"
start classifier "$CLS" daemon "${cfg[@]}" --engine auto \
	--ndpi-agent-socket "$rt/ndpi-agent/default.sock" \
	--socket "$rt/dpi-classifier/default.sock" --ipc "ipc://$rt/dpi-classifier/default.ipc"
for s in ndpi-agent dpi-classifier; do
	poll 20 is_sock "$rt/$s/default.sock" || die "$s did not create its socket"
done

# databases for the console: a trafficgen capture through the logger's --pcap input
"$GEN" pcap --out "$tmp/mix.pcap" --flows 60 --clients 4 >/dev/null || die "trafficgen pcap failed"
timeout 120 "$LOG" daemon "${cfg[@]}" --nflog-group 0 --pcap "$tmp/mix.pcap" \
	--path "$lib/firewall-logs.db" --traffic-path "$lib/traffic-flows.db" \
	--dpi-socket "$rt/dpi-classifier/default.sock" --socket "$tmp/import.sock" \
	--ipc "ipc://$tmp/import.ipc" >"$tmp/import.log" 2>&1 || die "logger --pcap import failed"

start logger "$LOG" daemon "${cfg[@]}" --nflog-group 0 --path "$lib/firewall-logs.db" \
	--dpi-socket "$rt/dpi-classifier/default.sock" \
	--socket "$rt/firewall-logger/default.sock" --ipc "ipc://$rt/firewall-logger/default.ipc"
poll 20 is_sock "$rt/firewall-logger/default.sock" || die "logger did not create its socket"

start console "$CON" daemon "${cfg[@]}" --listen 127.0.0.1:0 \
	--firewall-db "$lib/firewall-logs.db" --traffic-db "$lib/traffic-flows.db" \
	--classifier-socket "$rt/dpi-classifier/default.sock" \
	--agent-socket "$rt/ndpi-agent/default.sock" \
	--logger-socket "$rt/firewall-logger/default.sock"
con_port() { sed -n 's/.*listening on .*(port \([0-9]*\)).*/\1/p' "$tmp/console.log" | sed -n 1p; }
has_port() { [ -n "$(con_port)" ]; }
poll 20 has_port || die "console: no listening port in its log"
port=$(con_port)

# without libndpi the agent is degraded on purpose: its /v1/healthz answers 503
ndpi=1
grep -q '"libndpiLoaded":true' <<<"$("$AGT" selftest 2>/dev/null)" || ndpi=0

# ---- every recipe ---------------------------------------------------------------------------
ran=0
while IFS= read -r recipe; do
	cmd=$(sed -e "s#/run/routerd/#$rt/#g" -e "s#http://127\.0\.0\.1:9780#http://127.0.0.1:$port#g" <<<"$recipe")
	want=200
	if [ $ndpi = 0 ] && [[ $recipe == *"ndpi-agent/default.sock http://unix/v1/healthz"* ]]; then
		want=503
	fi
	case $cmd in
	curl\ *)
		if [ $want = 200 ]; then
			run="curl -sS -f --max-time 15 ${cmd#curl }"
		else
			run="curl -sS --max-time 15 -w '\\n%{http_code}' ${cmd#curl }"
		fi
		;;
	nngcat\ *) run="timeout 30 $cmd --recv-timeout 10" ;;
	esac
	out=$(bash -c "$run" 2>"$tmp/recipe.err")
	rc=$?
	ran=$((ran + 1))
	if [ $rc -ne 0 ]; then
		fail "exit $rc: $recipe
  $(head -c 300 "$tmp/recipe.err")"
		continue
	fi
	if [ -z "$out" ]; then
		fail "no output: $recipe"
		continue
	fi
	case $cmd in
	curl\ *)
		if [ $want != 200 ]; then
			[ "${out##*$'\n'}" = "$want" ] || fail "HTTP ${out##*$'\n'}, want $want: $recipe"
		elif [[ $cmd == *"/metrics"* ]]; then
			grep -q '^# TYPE routerd_dpi_' <<<"$out" || fail "not a routerd_dpi_ exposition: $recipe"
		else
			jq -e . >/dev/null <<<"$out" || fail "not JSON: $recipe: $(head -c 200 <<<"$out")"
		fi
		;;
	nngcat\ *)
		grep -q '"status":"OK"' <<<"$out" || fail "no OK reply: $recipe: $(head -c 300 <<<"$out")"
		;;
	esac
	# the classify recipes carry an HTTP request for www.example.com: the verdict shows it
	if [[ $cmd == *dpi-classifier* && $cmd == *lassify* ]]; then
		grep -q '"httpHost":"www.example.com"' <<<"$out" || fail "no httpHost in: $recipe: $(head -c 300 <<<"$out")"
	fi
	echo "ok: ${recipe:0:110}"
done <<<"$recipes"

# ---- every endpoint has its recipe ------------------------------------------------------------
have() { grep -qF -- "$1" <<<"$recipes"; }
# have_url PREFIX: a recipe with exactly this URL (followed by a blank, a quote, ? or the end)
have_url() { grep -qE -- "${1//./\\.}([ '?]|\$)" <<<"$recipes"; } # URLs: [a-z0-9/._:-] only
for pair in classifier:dpi-classifier agent:ndpi-agent logger:firewall-logger; do
	dir=${pair%%:*} name=${pair#*:}
	routes=$(grep -oE '\{"(GET|POST)", "/v1/[^"]*", "[A-Za-z]+"' "$src/services/$dir/main.c")
	[ -n "$routes" ] || fail "$dir: no route table found in services/$dir/main.c"
	while IFS= read -r r; do
		[ -n "$r" ] || continue
		path=$(cut -d'"' -f4 <<<"$r") method=$(cut -d'"' -f6 <<<"$r")
		have_url "$name/default.sock http://unix$path" || fail "$dir: no curl recipe for $path"
		have "$name/default.ipc --data '{\"method\":\"$method\"" || fail "$dir: no nngcat recipe for $method"
	done <<<"$routes"
	have_url "$name/default.sock http://unix/metrics" || fail "$dir: no curl recipe for /metrics"
done
for path in $(grep -oE '"/api/v1/[^"]*"' "$src/services/console/console.c" | tr -d '"') /healthz /metrics; do
	have_url "http://127.0.0.1:9780$path" || fail "console: no curl recipe for $path"
done

# SIGTERM: every daemon exits 0 (sanitizer trees: no leak or error at exit)
for i in "${!pids[@]}"; do
	kill "${pids[$i]}" 2>/dev/null
	wait "${pids[$i]}"
	rc=$?
	[ $rc -eq 0 ] || fail "${names[$i]} exited $rc after SIGTERM"
done
pids=()

echo "$ran recipes run"
if [ $fails -ne 0 ]; then
	dump_logs
	echo "FAILED: $fails check(s)" >&2
	exit 1
fi
echo "PASS"
