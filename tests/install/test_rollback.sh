#!/usr/bin/env bash
# Rollback path of issue #8: agent + classifier (engine auto) + logger (kv lines from a fifo)
# run; classification uses the agent; the agent is stopped with SIGTERM (what
# `systemctl stop routerd-ndpi-agent` does): the classifier's breaker opens and its
# /v1/status says why, classification continues on builtin (builtin-payload for a TLS
# ClientHello), the classifier does not log an error storm, and the logger keeps writing rows.
set -euo pipefail
src=${RDPI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${RDPI_BINARY_DIR:-$src/build}
AGENT=$bld/services/agent/routerd-ndpi-agent
CLS=$bld/services/classifier/routerd-dpi-classifier
LOGGER=$bld/services/logger/routerd-firewall-logger
for b in "$AGENT" "$CLS" "$LOGGER"; do [ -x "$b" ] || { echo "FAIL: $b not built" >&2; exit 1; }; done
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 CLI missing (Debian package sqlite3)" >&2; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq missing (Debian package jq)" >&2; exit 1; }

T=$(mktemp -d /tmp/rdpi-rollback.$$.XXXXXX)
pids=()
cleanup() {
	exec 9>&- 2>/dev/null || true
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
: >"$T/empty.conf" # all defaults, whatever /etc/routerd/dpi.conf says on this machine

"$AGENT" daemon --config "$T/empty.conf" --socket "$T/agent.sock" --ipc "ipc://$T/agent.ipc" \
	>"$T/agent.log" 2>&1 &
apid=$!
pids+=("$apid")
"$CLS" daemon --config "$T/empty.conf" --engine auto --socket "$T/cls.sock" --ipc "ipc://$T/cls.ipc" \
	--ndpi-agent-socket "$T/agent.sock" >"$T/cls.log" 2>&1 &
pids+=($!)
mkfifo "$T/lines"
"$LOGGER" daemon --config "$T/empty.conf" --nflog-group 0 --input-file "$T/lines" --input-format kv \
	--path "$T/fw.db" --traffic-path "" --dpi-socket "$T/cls.sock" \
	--socket "$T/logger.sock" --ipc "ipc://$T/logger.ipc" >"$T/logger.log" 2>&1 &
lpid=$!
pids+=("$lpid")
exec 9<>"$T/lines" # read-write: never blocks, and keeps the fifo open for the logger

get() { curl -s --max-time 3 --unix-socket "$1" "http://unix$2"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 --unix-socket "$1" "http://unix$2" || true; }
wait_for() { # seconds command...
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.1; done
	return 1
}
answers() { local c; c=$(code "$1" /v1/healthz); [ "$c" = 200 ] || [ "$c" = 503 ]; }
for s in agent cls logger; do
	wait_for 20 answers "$T/$s.sock" || { cat "$T/$s.log" >&2; echo "FAIL: $s does not answer" >&2; exit 1; }
done
ndpi=$(get "$T/agent.sock" /v1/status | jq -r '.libndpiLoaded')
echo "agent libndpiLoaded=$ndpi"

# -- a TLS ClientHello with an SNI, built byte by byte (no payload is stored anywhere)
h16() { printf '%04x' "$1"; }
h24() { printf '%06x' "$1"; }
client_hello() { # sni -> base64 of one TLS record
	local sni=$1 n=${#1} hexsni ext exts body hs rec
	hexsni=$(printf '%s' "$sni" | od -An -v -tx1 | tr -d ' \n')
	ext=0000$(h16 $((n + 5)))$(h16 $((n + 3)))00$(h16 "$n")$hexsni
	ext=${ext}0010000e000c02683208687474702f312e31 # ALPN h2, http/1.1
	ext=${ext}000a00080006001d00170018             # supported groups
	ext=${ext}000d00080006040305030804             # signature algorithms
	exts=$ext
	body=0303$(printf '%064x' 0 | sed 's/0/a/g')00000813011302c02fc0300100$(h16 $((${#exts} / 2)))$exts
	hs=01$(h24 $((${#body} / 2)))$body
	rec=160301$(h16 $((${#hs} / 2)))$hs
	printf '%b' "$(printf '%s' "$rec" | sed 's/../\\x&/g')" | base64 -w0
}
CH=$(client_hello www.youtube.com)
port=40000
classify() { # port -> the result JSON for one new flow (callers pass a new source port)
	local port=$1
	curl -s --max-time 5 --unix-socket "$T/cls.sock" -H 'Content-Type: application/json' \
		-d "{\"transportProtocol\":\"tcp\",\"l3Proto\":\"ipv4\",\"srcAddress\":\"192.0.2.10\",\"srcPort\":$port,\"dstAddress\":\"198.51.100.10\",\"dstPort\":443,\"l4Payload\":\"$CH\"}" \
		http://unix/v1/classify
}
rows() { sqlite3 -readonly "file:$T/fw.db?mode=ro" 'SELECT COUNT(*) FROM firewall_logs' 2>/dev/null || echo 0; }
rows_ge() { [ "$(rows)" -ge "$1" ]; }
line_no=0
feed() { # n kv lines (forward deny TCP SYN to :22), distinct flows
	local i
	for ((i = 0; i < $1; i++)); do
		line_no=$((line_no + 1))
		printf 'routerd firewall forward deny IN=lan0 OUT=wan0 SRC=192.0.2.%d DST=198.51.100.20 LEN=60 TTL=63 ID=%d DF PROTO=TCP SPT=%d DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0\n' \
			$((line_no % 200 + 1)) "$line_no" $((20000 + line_no % 40000)) >&9
	done
}

# -- with the agent (once the classifier has connected to it: its status probes the agent)
agent_up() { [ "$(get "$T/cls.sock" /v1/status | jq -r .agent.available)" = true ]; }
wait_for 20 agent_up || fail "the classifier never saw the agent: $(get "$T/cls.sock" /v1/status | jq -c .agent)"
port=$((port + 1))
r=$(classify $port)
echo "with the agent: $(printf '%s' "$r" | jq -c '{source,engine,appName,tlsSNI,fallbackReason}')"
[ "$(printf '%s' "$r" | jq -r .tlsSNI)" = www.youtube.com ] || fail "no SNI with the agent: $r"
if [ "$ndpi" = true ]; then
	[ "$(printf '%s' "$r" | jq -r .engine)" = ndpi-agent ] || fail "libndpi agent running but engine is not ndpi-agent: $r"
	[ "$(printf '%s' "$r" | jq -r .source)" = ndpi-agent ] || fail "libndpi agent running but source is not ndpi-agent: $r"
	ok "classification goes through the agent (source ndpi-agent)"
else
	echo "NOTE: the agent has no libndpi here: it answers unknown, the classifier falls back; the breaker part still runs"
	[ "$(printf '%s' "$r" | jq -r .source)" = builtin-payload ] || fail "fallback without libndpi: $r"
fi
st=$(get "$T/cls.sock" /v1/status)
[ "$(printf '%s' "$st" | jq -r .agent.available)" = true ] || fail "agent not available before the stop: $(printf '%s' "$st" | jq -c .agent)"
[ "$(printf '%s' "$st" | jq -r .agent.breaker)" = closed ] || fail "breaker not closed before the stop: $(printf '%s' "$st" | jq -c .agent)"
[ "$(printf '%s' "$st" | jq -r .agent.libndpiLoaded)" = "$ndpi" ] || fail "classifier status libndpiLoaded is not the agent's ($ndpi): $(printf '%s' "$st" | jq -c .agent)"
feed 50
wait_for 20 rows_ge 50 || fail "logger rows before the stop: $(rows)"
rows0=$(rows)
ok "pipeline running: breaker closed, logger wrote $rows0 rows"

# -- stop the agent like systemctl stop does
kill -TERM "$apid"
wait_for 15 bash -c "! kill -0 $apid 2>/dev/null" || fail "agent did not exit on SIGTERM"
wait "$apid" 2>/dev/null || true
[ ! -S "$T/agent.sock" ] || fail "agent left its socket behind"
agent_lines0=$(grep -ci 'agent' "$T/cls.log" || true)

# traffic for a few seconds with the agent gone: classification and logging continue
results=()
end=$((SECONDS + 4))
n=0
while [ $SECONDS -lt $end ]; do
	port=$((port + 1))
	r=$(classify $port)
	results+=("$r")
	n=$((n + 1))
	feed 20
	sleep 0.05
done
bad=0
for r in "${results[@]}"; do
	s=$(printf '%s' "$r" | jq -r .source 2>/dev/null || echo invalid)
	e=$(printf '%s' "$r" | jq -r .engine 2>/dev/null || echo invalid)
	sni=$(printf '%s' "$r" | jq -r .tlsSNI 2>/dev/null || echo invalid)
	if [ "$s" != builtin-payload ] || [ "$e" != builtin ] || [ "$sni" != www.youtube.com ]; then
		bad=$((bad + 1))
		[ $bad -gt 1 ] || echo "unexpected result without the agent: $r" >&2
	fi
done
[ $bad -eq 0 ] || fail "$bad of $n classifications without the agent were not builtin-payload/builtin with the SNI"
last=${results[$((n - 1))]}
echo "without the agent: $(printf '%s' "$last" | jq -c '{source,engine,appName,tlsSNI,fallbackReason,reason}')"
fr=$(printf '%s' "$last" | jq -r '.fallbackReason // empty')
[ -n "$fr" ] || fail "no fallbackReason without the agent"
ok "$n classifications without the agent: all builtin-payload with the SNI (fallbackReason: $fr)"

st=$(get "$T/cls.sock" /v1/status)
echo "classifier status.agent: $(printf '%s' "$st" | jq -c .agent)"
[ "$(printf '%s' "$st" | jq -r .agent.available)" = false ] || fail "status says the agent is available"
[ "$(printf '%s' "$st" | jq -r .agent.libndpiLoaded)" = false ] || fail "status says libndpi is loaded with the agent stopped"
br=$(printf '%s' "$st" | jq -r .agent.breaker)
[ "$br" = open ] || [ "$br" = half-open ] || fail "breaker is '$br' with the agent stopped"
[ "$(printf '%s' "$st" | jq -r '.agent.breakerOpens // 0')" -ge 1 ] || fail "breakerOpens did not count"
[ -n "$(printf '%s' "$st" | jq -r '.agent.error // empty')" ] || fail "status gives no reason (agent.error empty)"
[ "$(printf '%s' "$st" | jq -r .ok)" = true ] || fail "engine auto must stay ok:true without the agent"
[ "$(code "$T/cls.sock" /v1/healthz)" = 200 ] || fail "classifier healthz not 200 with engine auto and no agent"
m=$(get "$T/cls.sock" /metrics | grep -E '^routerd_dpi_[a-z_]*agent_breaker_open(\{[^}]*\})? ' | awk '{print $2}' | sed -n 1p)
[ "${m:-}" = 1 ] || [ "$br" = half-open ] || fail "metrics agent_breaker_open is '${m:-absent}'"
ok "classifier breaker $br (opens counted), status says why: $(printf '%s' "$st" | jq -r .agent.error)"

# no error storm: lines about the agent in the classifier log during the traffic are bounded
agent_lines=$(($(grep -ci 'agent' "$T/cls.log" || true) - agent_lines0))
[ "$agent_lines" -lt 10 ] || { tail -20 "$T/cls.log" >&2; fail "$agent_lines classifier log lines about the agent in 4 s"; }
total=$(wc -l <"$T/cls.log")
[ "$total" -lt 30 ] || fail "classifier log has $total lines"
ok "no error storm: $agent_lines classifier log lines about the agent over $n requests"
# ...and the operator is told once why: one warning when the breaker opened
opens=$(grep -c 'circuit breaker open' "$T/cls.log" || true)
[ "$opens" -eq 1 ] || { tail -20 "$T/cls.log" >&2; fail "expected one 'circuit breaker open' warning, got $opens"; }
ok "the classifier logged the breaker opening once: $(grep -m1 'circuit breaker open' "$T/cls.log")"

# the logger keeps writing rows
want=$((rows0 + 40))
wait_for 20 rows_ge "$want" || fail "logger rows did not grow: $rows0 -> $(rows)"
kill -0 "$lpid" || fail "logger died"
ok "logger kept writing: $rows0 -> $(rows) rows"

if [ $fails -ne 0 ]; then
	echo "test_rollback: $fails failure(s)" >&2
	exit 1
fi
echo "test_rollback: all checks passed"
