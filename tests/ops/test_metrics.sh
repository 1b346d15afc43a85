#!/usr/bin/env bash
# /metrics of every daemon, for real: the classifier (builtin engine), the agent, the logger
# (--nflog-group 0, kv lines through a FIFO) and the console run unprivileged on sockets in a
# temp dir; a little traffic goes through each; every exposition must pass
# `promtool check metrics` silently, carry the daemon's routerd_dpi_<svc>_ prefix on every
# line, have HELP and TYPE for every family, and its counters must have moved (and never go
# down between two scrapes).
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_built "$CLS" "$AGT" "$LOG"
with_console=0
if [ -x "$CON" ]; then
	with_console=1
elif [ -e "$src/services/console/main.c" ]; then
	echo "FAIL: $src/services/console/main.c exists but $CON is not built" >&2
	exit 1
fi
need_tools "curl, prometheus" curl promtool

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rdpi-metrics.$$.XXXXXX")
pids=() names=()
cleanup() {
	exec 3>&- 2>/dev/null
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT


alive_sock() { [ -S "$1" ]; }
start() { # start NAME CMD...: background, log in $tmp/NAME.log
	local name=$1
	shift
	"$@" >"$tmp/$name.log" 2>&1 &
	pids+=($!)
	names+=("$name")
}
dump_logs() { for f in "$tmp"/*.log; do sed "s|^|  $(basename "$f"): |" "$f" >&2; done; }

# an empty config file, so an installed /etc/routerd/dpi.conf cannot change the run
: >"$tmp/empty.conf"

start agent "$AGT" daemon --config "$tmp/empty.conf" --socket "$tmp/agent.sock" \
	--ipc "ipc://$tmp/agent.ipc"
start classifier "$CLS" daemon --config "$tmp/empty.conf" --engine builtin \
	--socket "$tmp/classifier.sock" --ipc "ipc://$tmp/classifier.ipc"
mkfifo "$tmp/lines.fifo"
exec 3<>"$tmp/lines.fifo" # held open: the logger keeps reading until we stop it
start logger "$LOG" daemon --config "$tmp/empty.conf" --nflog-group 0 \
	--input-file "$tmp/lines.fifo" --input-format kv --path "$tmp/firewall-logs.db" \
	--dpi-socket "$tmp/classifier.sock" --socket "$tmp/logger.sock" \
	--ipc "ipc://$tmp/logger.ipc"
for s in agent classifier logger; do
	poll 20 alive_sock "$tmp/$s.sock" || {
		dump_logs
		echo "FAIL: $s did not create $tmp/$s.sock" >&2
		exit 1
	}
done

http() { curl -sS -f --max-time 10 --unix-socket "$1" "http://unix$2" "${@:3}"; }

# ---- a little traffic -------------------------------------------------------------------
# one HTTP request with a Host header: a builtin-payload verdict in the classifier
req='{"transportProtocol":"tcp","srcAddress":"192.0.2.10","srcPort":40001,"dstAddress":"198.51.100.10","dstPort":80,"l4Payload":"R0VUIC8gSFRUUC8xLjENCkhvc3Q6IHd3dy5leGFtcGxlLmNvbQ0KDQo="}'
out=$(http "$tmp/classifier.sock" /v1/classify -d "$req") || fail "classifier: /v1/classify failed"
grep -q '"httpHost":"www.example.com"' <<<"$out" || fail "classifier: classify answered $out"
# the same packet to the agent
http "$tmp/agent.sock" /v1/observe-packet -d "$req" >/dev/null || fail "agent: /v1/observe-packet failed"
# one kernel-log line (a forward deny) to the logger
printf '%s\n' "routerd firewall forward deny IN=lan0 OUT=wan0 SRC=192.0.2.10 DST=198.51.100.20 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=4242 DF PROTO=TCP SPT=40001 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0" >&3

# metric NAME FILE -> the value of the sample NAME (with its labels; empty when absent)
metric() { awk -v n="$1" '$1 == n { print $2; exit }' "$2"; }
metric_ge() { # metric_ge SOCK NAME MIN: one scrape, NAME >= MIN
	http "$1" /metrics >"$tmp/poll.prom" || return 1
	local v
	v=$(metric "$2" "$tmp/poll.prom")
	[ -n "$v" ] && awk -v v="$v" -v m="$3" 'BEGIN { exit !(v + 0 >= m + 0) }'
}
poll 20 metric_ge "$tmp/logger.sock" routerd_dpi_logger_writer_entries_total 1 ||
	fail "logger: the kv line never reached the writer"
# the writer counts the entry before it has built its row: the first scrape checks the row too
poll 20 metric_ge "$tmp/logger.sock" routerd_dpi_logger_deny_rows_total 1 ||
	fail "logger: the kv line never became a deny row"
poll 20 metric_ge "$tmp/logger.sock" routerd_dpi_logger_dpi_connected 1 ||
	fail "logger: never connected to the classifier"

# ---- the console ------------------------------------------------------------------------
con_url=
if [ $with_console = 1 ]; then
	start console "$CON" daemon --config "$tmp/empty.conf" --listen 127.0.0.1:0 \
		--firewall-db "$tmp/firewall-logs.db" --traffic-db "$tmp/traffic-flows.db" \
		--classifier-socket "$tmp/classifier.sock" --agent-socket "$tmp/agent.sock" \
		--logger-socket "$tmp/logger.sock"
	con_port() { sed -n 's/.*listening on .*(port \([0-9]*\)).*/\1/p' "$tmp/console.log" | sed -n 1p; }
	has_port() { [ -n "$(con_port)" ]; }
	if poll 20 has_port; then
		con_url=http://127.0.0.1:$(con_port)
		curl -sS -f --max-time 10 "$con_url/healthz" >/dev/null || fail "console: /healthz"
		curl -sS --max-time 10 "$con_url/api/v1/firewall-logs" >/dev/null ||
			fail "console: /api/v1/firewall-logs"
	else
		fail "console: no listening port in its log"
	fi
else
	echo "note: no console in this tree (services/console/main.c absent)"
fi

# ---- scrape, twice, and check -----------------------------------------------------------
scrape() { # scrape SVC FILE
	if [ "$1" = console ]; then
		curl -sS -f --max-time 10 "$con_url/metrics" >"$2"
	else
		http "$tmp/$1.sock" /metrics >"$2"
	fi
}

check_exposition() { # check_exposition SVC FILE
	local svc=$1 f=$2 pre=routerd_dpi_$1_ lint bad
	[ -s "$f" ] || {
		fail "$svc: empty /metrics"
		return
	}
	if lint=$(promtool check metrics <"$f" 2>&1) && [ -z "$lint" ]; then
		ok "$svc: promtool check metrics is silent ($(grep -vc '^#' "$f") samples)"
	else
		fail "$svc: promtool check metrics: $lint"
	fi
	# every sample and every HELP/TYPE line carries the prefix
	bad=$(grep -v '^#' "$f" | grep -v "^$pre" | sed -n 1,3p)
	[ -z "$bad" ] || fail "$svc: samples without the $pre prefix: $bad"
	bad=$(grep -E '^# (HELP|TYPE) ' "$f" | awk -v p="$pre" 'index($3, p) != 1' | sed -n 1,3p)
	[ -z "$bad" ] || fail "$svc: HELP/TYPE without the $pre prefix: $bad"
	# every family has a non-empty HELP and a TYPE; counters end in _total
	bad=$(awk '
		/^# HELP / { if (NF > 3) help[$3] = 1; next }
		/^# TYPE / { type[$3] = $4; next }
		/^#/ { next }
		{ n = $1; sub(/\{.*/, "", n)
		  if (!(n in help)) print "no HELP: " n
		  if (!(n in type)) print "no TYPE: " n
		  else if (type[n] == "counter" && n !~ /_total$/) print "counter without _total: " n }
	' "$f" | sed -n 1,3p)
	[ -z "$bad" ] || fail "$svc: $bad"
	# labels are key="value" with escaped values
	bad=$(grep -v '^#' "$f" | grep '{' |
		grep -Ev '^[a-z_:][a-z0-9_:]*\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*",?)+\} ' | sed -n 1,3p)
	[ -z "$bad" ] || fail "$svc: malformed labels: $bad"
}

counters_monotonic() { # counters_monotonic SVC FIRST SECOND
	local bad
	bad=$(awk '
		FNR == 1 { file++ }
		/^# TYPE / { type[$3] = $4; next }
		/^#/ { next }
		{ n = $1; sub(/\{.*/, "", n); if (type[n] != "counter") next
		  if (file == 1) first[$1] = $2
		  else if (($1 in first) && $2 + 0 < first[$1] + 0) print $1 " went from " first[$1] " to " $2 }
	' "$2" "$3" | sed -n 1,3p)
	[ -z "$bad" ] || fail "$1: counters went down: $bad"
}

svcs="agent classifier logger"
[ -n "$con_url" ] && svcs="$svcs console"
for s in $svcs; do
	scrape "$s" "$tmp/$s.1.prom" || {
		fail "$s: GET /metrics failed"
		continue
	}
	check_exposition "$s" "$tmp/$s.1.prom"
done

# more traffic between the scrapes; the counters must not have gone down
http "$tmp/classifier.sock" /v1/classify -d "$req" >/dev/null || fail "classifier: second classify"
http "$tmp/agent.sock" /v1/observe-packet -d "$req" >/dev/null || fail "agent: second observe"
[ -n "$con_url" ] && { curl -sS --max-time 10 "$con_url/api/v1/clients" >/dev/null || fail "console: /api/v1/clients"; }
for s in $svcs; do
	[ -s "$tmp/$s.1.prom" ] || continue
	scrape "$s" "$tmp/$s.2.prom" && counters_monotonic "$s" "$tmp/$s.1.prom" "$tmp/$s.2.prom"
done

# ---- known counters moved ---------------------------------------------------------------
expect() { # expect SVC FILE NAME OP VALUE
	local v
	v=$(metric "$3" "$2")
	if [ -n "$v" ] && awk -v v="$v" -v w="$5" -v op="$4" \
		'BEGIN { exit !((op == "==" && v + 0 == w + 0) || (op == ">=" && v + 0 >= w + 0)) }'; then
		ok "$1: $3 = $v ($4 $5)"
	else
		fail "$1: $3 is '$v', want $4 $5"
	fi
}
c1=$tmp/classifier.1.prom
expect classifier "$c1" routerd_dpi_classifier_requests_total == 1
expect classifier "$c1" 'routerd_dpi_classifier_results_total{source="builtin-payload"}' == 1
expect classifier "$c1" routerd_dpi_classifier_builtin_packets_total == 1
expect classifier "$tmp/classifier.2.prom" routerd_dpi_classifier_requests_total == 2
expect classifier "$c1" routerd_dpi_classifier_process_resident_memory_bytes '>=' 1
a1=$tmp/agent.1.prom
expect agent "$a1" routerd_dpi_agent_observed_packets_total == 1
expect agent "$tmp/agent.2.prom" routerd_dpi_agent_observed_packets_total == 2
expect agent "$a1" routerd_dpi_agent_process_resident_memory_bytes '>=' 1
l1=$tmp/logger.1.prom
expect logger "$l1" routerd_dpi_logger_packets_in_total == 1
expect logger "$l1" routerd_dpi_logger_input_lines_total == 1
expect logger "$l1" routerd_dpi_logger_deny_rows_total == 1
expect logger "$l1" routerd_dpi_logger_nflog_lost_total == 0
expect logger "$l1" routerd_dpi_logger_dpi_connected == 1
expect logger "$l1" routerd_dpi_logger_process_resident_memory_bytes '>=' 1
if [ -n "$con_url" ]; then
	# /healthz and /api/v1/firewall-logs before the first scrape, /api/v1/clients after it
	expect console "$tmp/console.1.prom" routerd_dpi_console_requests_total '>=' 2
	expect console "$tmp/console.2.prom" routerd_dpi_console_requests_total '>=' 4
	expect console "$tmp/console.1.prom" routerd_dpi_console_process_resident_memory_bytes '>=' 1
fi

# SIGTERM: every daemon exits 0 (sanitizer trees: no leak or error at exit)
exec 3>&- 2>/dev/null
for i in "${!pids[@]}"; do
	kill "${pids[$i]}" 2>/dev/null
	wait "${pids[$i]}"
	rc=$?
	[ $rc -eq 0 ] || fail "${names[$i]} exited $rc after SIGTERM"
done
pids=()

if [ $fails -ne 0 ]; then
	dump_logs
	echo "FAILED: $fails check(s)" >&2
	exit 1
fi
echo "PASS"
