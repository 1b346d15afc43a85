#!/usr/bin/env bash
# Benchmark routerd-firewall-logger on the real kernel NFLOG path, the way
# ../shared/harness/ulogd-baseline.sh measures ulogd2: bring the nflog lab up,
# run the logger (optionally with the classifier and the nDPI agent) inside netns
# dpilab, replay a capture at increasing rates and read the logger's /v1/status
# before and after each step. Prints one table row per rate and the highest
# lossless rate. Everything it starts is stopped on exit and the lab is taken down.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
harness="$top/../shared/harness"

usage() {
	cat <<EOF
usage: tools/bench_logger.sh [options]

Benchmarks routerd-firewall-logger against real NFLOG group 7 traffic from the
nflog lab ($harness/nflog-lab.sh). Needs root and the lab's Debian packages
(see the harness README). Only one lab may be up on a machine: the script
refuses to run when a lab is already up (unless --reuse-lab).

options:
  --build DIR          build tree holding services/*/routerd-* (default: \$top/build)
  --pcap FILE          capture to replay (default: \$top/../shared/corpus/mixed/merged.pcap)
  --rates "LIST"       replay steps in packets/s, "topspeed" (or "top") for tcpreplay
                       --topspeed (default: "5000 10000 20000 40000 80000 120000 160000 topspeed")
  --step-seconds N     packets per step = rate * N, within [--min-packets, --max-packets]
                       (default 10)
  --min-packets N      (default 5000)      --max-packets N   (default 400000)
  --top-packets N      packets in a topspeed step (default 300000)
  --stop-after N       skip further pps steps after N consecutive steps losing > 20%
                       (default 2; topspeed still runs)
  --with-classifier    also run routerd-dpi-classifier --engine builtin; the logger gets
                       --dpi-socket ipc://TMP/c.ipc
  --with-agent         like --with-classifier, but --engine auto plus routerd-ndpi-agent
  --prefix STR         nft log prefix for the lab rule (NFLOG_PREFIX). Default: none
                       (logger-only), "routerd firewall forward accept " with a
                       classifier (so packets take the DPI path). --prefix '' forces none.
  --cpu N              CPU the daemons are pinned to (default 1; tcpreplay uses CPU 0)
  --drain-timeout S    max seconds to wait for the logger to go quiet after a step (default 120)
  --csv FILE           also write the results as CSV to FILE
  --keep-logs DIR      copy the daemons' logs and the database there before cleaning up
  --reuse-lab          use a lab that is already up (it is then left up on exit)
  -h, --help           this text

Columns: rate (offered), sent (tcpreplay), hook_hits (nflog_rp counter delta),
logger_packets (nflog_packets delta), lost (nflog_lost + nflog_enobufs delta),
enobufs (nflog_enobufs delta), cpu% (logger utime+stime over the step until the
logger went quiet, % of one core), rss_kib/hwm_kib (VmRSS/VmHWM after the step),
rows (rows_firewall_logs + rows_dpi_flow delta). A step is lossless when lost = 0
and logger_packets >= hook_hits. After each step a marker DNS query goes through
the lab so a loss at the end of the step shows up as a sequence gap.
EOF
}

log() { printf '%s bench_logger: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
posint() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || die "$4 must be an integer in [$2, $3] (got '$1')"; }

build="$top/build"
pcap="$top/../shared/corpus/mixed/merged.pcap"
rates="5000 10000 20000 40000 80000 120000 160000 topspeed"
step_seconds=10 min_pkts=5000 max_pkts=400000 top_pkts=300000 stop_after=2
with_cls=0 with_agent=0 prefix_set=0 prefix="" cpu=1 drain_timeout=120
csv="" keep_logs="" reuse_lab=0

while [ $# -gt 0 ]; do
	case $1 in
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	--pcap) pcap=${2:?--pcap needs a file}; shift 2 ;;
	--rates) rates=${2:?--rates needs a list}; shift 2 ;;
	--step-seconds) posint "${2:-}" 1 600 --step-seconds; step_seconds=$2; shift 2 ;;
	--min-packets) posint "${2:-}" 1 200000000 --min-packets; min_pkts=$2; shift 2 ;;
	--max-packets) posint "${2:-}" 1 200000000 --max-packets; max_pkts=$2; shift 2 ;;
	--top-packets) posint "${2:-}" 1 200000000 --top-packets; top_pkts=$2; shift 2 ;;
	--stop-after) posint "${2:-}" 1 1000 --stop-after; stop_after=$2; shift 2 ;;
	--with-classifier) with_cls=1; shift ;;
	--with-agent) with_cls=1; with_agent=1; shift ;;
	--prefix) [ $# -ge 2 ] || die "--prefix needs a value"; prefix=$2; prefix_set=1; shift 2 ;;
	--cpu) posint "${2:-}" 0 4095 --cpu; cpu=$2; shift 2 ;;
	--drain-timeout) posint "${2:-}" 5 3600 --drain-timeout; drain_timeout=$2; shift 2 ;;
	--csv) csv=${2:?--csv needs a file}; shift 2 ;;
	--keep-logs) keep_logs=${2:?--keep-logs needs a directory}; shift 2 ;;
	--reuse-lab) reuse_lab=1; shift ;;
	-h | --help | help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done

for r in $rates; do
	case $r in
	top | topspeed) ;;
	*) posint "$r" 1 2000000 "rate" ;;
	esac
done
[ -n "${rates// /}" ] || die "--rates is empty"
[ "$min_pkts" -le "$max_pkts" ] || die "--min-packets > --max-packets"
[ $prefix_set = 1 ] || { [ $with_cls = 1 ] && prefix="routerd firewall forward accept "; } || true

[ "$(id -u)" = 0 ] || die "run as root (network namespaces, nftables, NFLOG)"
[ -d "$harness" ] && [ -x "$harness/nflog-lab.sh" ] ||
	die "nflog lab not found at $harness/nflog-lab.sh (this script needs ../shared/harness next to the repo)"
lab="$harness/nflog-lab.sh"
[ -r "$pcap" ] || die "cannot read capture $pcap"
pcap=$(readlink -f "$pcap")
build=$(readlink -f "$build" 2>/dev/null || echo "$build")
logger_bin="$build/services/logger/routerd-firewall-logger"
cls_bin="$build/services/classifier/routerd-dpi-classifier"
agent_bin="$build/services/agent/routerd-ndpi-agent"
[ -x "$logger_bin" ] || die "logger binary not found: $logger_bin (build it, or pass --build DIR)"
[ $with_cls = 0 ] || [ -x "$cls_bin" ] || die "classifier binary not found: $cls_bin"
[ $with_agent = 0 ] || [ -x "$agent_bin" ] || die "agent binary not found: $agent_bin"
for c in curl python3 ip dig taskset; do command -v "$c" >/dev/null || die "missing command: $c"; done

hz=$(getconf CLK_TCK)
tmp="" lab_owned=0
# spawn names, unique to this script; stopping one that is not running is a no-op
spawned=(bench-logger bench-classifier bench-agent)

cleanup() {
	local rc=$? n
	trap - EXIT INT TERM
	if [ -n "$keep_logs" ] && [ -n "$tmp" ] && [ -d "$tmp" ]; then
		mkdir -p "$keep_logs" && cp -a "$tmp"/*.log "$tmp"/*.db* "$keep_logs"/ 2>/dev/null || true
	fi
	for n in "${spawned[@]}"; do "$lab" stop "$n" >/dev/null 2>&1 || true; done
	[ $lab_owned = 0 ] || "$lab" down >/dev/null 2>&1 || log "warning: '$lab down' failed"
	[ -z "$tmp" ] || rm -rf -- "$tmp"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- lab
if grep -q '^lab: up' <<<"$("$lab" status)"; then
	[ $reuse_lab = 1 ] || die "an nflog lab is already up (only one may run at a time); bring it down or pass --reuse-lab"
	[ $prefix_set = 0 ] && [ $with_cls = 0 ] || log "note: --reuse-lab keeps the running lab's log prefix; --prefix is not applied"
else
	lab_owned=1
	log "lab up (prefix: '${prefix}')"
	NFLOG_PREFIX="$prefix" "$lab" up >/dev/null
fi
tmp=$(mktemp -d /tmp/bench-logger.XXXXXX)

frames=$(python3 "$harness/pcaptool.py" count "$("$lab" prepare "$pcap")" | grep -o 'frames=[0-9]*' | cut -d= -f2)
posint "${frames:-0}" 1 1000000000 "frame count of $pcap"

# ---------------------------------------------------------------- helpers
cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; } # utime+stime
vm_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
now() { date +%s.%N; }
alive() { [ -d "/proc/$1" ] || die "$2 (pid $1) exited; see its log: $(tail -5 "$tmp/$2.log" 2>/dev/null | tr '\n' '|')"; }

# status SOCK -> "key value" lines: every stat plus rss_bytes (uint64 may be strings)
status() {
	curl -s --max-time 5 --unix-socket "$1" http://unix/v1/status | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k, v in (d.get("stats") or {}).items():
    try: print(k, int(v))
    except (TypeError, ValueError): pass
r = (d.get("resources") or {}).get("rssBytes")
if r is not None: print("rss_bytes", int(r))
'
}
stat_of() { awk -v k="$2" '$1 == k {print $2; f = 1} END {if (!f) print 0}' <<<"$1"; }

# spawn NAME SOCK CMD... : start CMD in dpilab on $cpu, wait until it answers /v1/status on SOCK
spawn() {
	local name=$1 sock=$2 pid; shift 2
	pid=$("$lab" spawn "$name" --cpu "$cpu" --log "$tmp/$name.log" -- "$@")
	for _ in $(seq 100); do
		[ -d "/proc/$pid" ] || break
		curl -s --max-time 1 --unix-socket "$sock" -o /dev/null http://unix/v1/status && { echo "$pid"; return 0; }
		sleep 0.1
	done
	cat "$tmp/$name.log" >&2 || true
	die "$name did not come up (no /v1/status on $sock after 10 s)"
}

# ---------------------------------------------------------------- daemons
dpi_sock=""
if [ $with_agent = 1 ]; then
	agent_pid=$(spawn bench-agent "$tmp/a.sock" "$agent_bin" daemon --socket "$tmp/a.sock" --ipc "ipc://$tmp/a.ipc")
	log "agent pid $agent_pid"
fi
if [ $with_cls = 1 ]; then
	cls_args=(daemon --engine builtin --socket "$tmp/c.sock" --ipc "ipc://$tmp/c.ipc")
	[ $with_agent = 0 ] || cls_args=(daemon --engine auto --ndpi-agent-socket "ipc://$tmp/a.ipc" --socket "$tmp/c.sock" --ipc "ipc://$tmp/c.ipc")
	cls_pid=$(spawn bench-classifier "$tmp/c.sock" "$cls_bin" "${cls_args[@]}")
	log "classifier pid $cls_pid (${cls_args[*]:1:2})"
	dpi_sock="ipc://$tmp/c.ipc"
fi
lsock="$tmp/l.sock"
logger_pid=$(spawn bench-logger "$lsock" "$logger_bin" daemon --nflog-group 7 --path "$tmp/fw.db" \
	--socket "$lsock" --ipc "ipc://$tmp/l.ipc" --dpi-socket "$dpi_sock")
# the logger must hold NFLOG group 7 in dpilab, or every step would just measure loss
for _ in $(seq 50); do
	bound=$("$lab" exec -- awk '$1 == 7 {print $2}' /proc/net/netfilter/nfnetlink_log)
	[ -n "$bound" ] && break
	sleep 0.1
done
[ -n "${bound:-}" ] || { tail -20 "$tmp/bench-logger.log" >&2; die "the logger did not bind NFLOG group 7 in dpilab"; }
log "logger pid $logger_pid bound NFLOG group 7 (portid $bound), rss $(vm_kib "$logger_pid" VmRSS) KiB"

# drain: wait until the logger is idle for 2.5 s: queues and its netlink receive queue
# empty, and at most 2 new packets per 0.25 s poll (IPv6 ND/MLD on the lab links keeps
# trickling in; NFLOG flushes a held partial batch after 1 s, which shows as a jump).
# CPU time is not used: answering our own /v1/status polls costs the logger CPU.
# Sets LAST_BUSY (time of the last real activity).
nl_rmem() { "$lab" exec -- awk -v p="$bound" 'NR > 1 && $2 == 12 && $3 == p {print $5}' /proc/net/netlink; }
drain() {
	local last="" cur quiet=0 deadline s busy
	LAST_BUSY=$(now)
	deadline=$(($(date +%s) + drain_timeout))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		sleep 0.25
		alive "$logger_pid" bench-logger
		s=$(status "$lsock") || continue
		cur="$(stat_of "$s" nflog_packets) $(($(stat_of "$s" rows_firewall_logs) + $(stat_of "$s" rows_dpi_flow))) $(stat_of "$s" writer_queue_depth) $(stat_of "$s" dpi_queue_depth) $(nl_rmem)"
		busy=$(awk -v c="$cur" -v l="$last" 'BEGIN {
			n = split(c, a, " "); m = split(l, b, " ")
			if (m < 2) { print 1; exit }
			print (a[1] - b[1] > 2 || a[2] - b[2] > 2 || a[3] + a[4] + a[5] > 0) ? 1 : 0 }')
		last=$cur
		if [ "$busy" = 1 ]; then
			LAST_BUSY=$(now); quiet=0
		else
			quiet=$((quiet + 1))
			[ $quiet -ge 10 ] && return 0
		fi
	done
	log "drain: the logger was still busy after ${drain_timeout}s"
}
marker() { ip netns exec dpilab-cli dig @198.18.2.2 +tries=1 +time=1 marker.lab.test >/dev/null 2>&1 || true; }

# ---------------------------------------------------------------- steps
cols="rate sent hook_hits logger_packets lost enobufs cpu% rss_kib hwm_kib rows"
[ -z "$csv" ] || echo "rate,sent,hook_hits,logger_packets,lost,enobufs,cpu_pct,rss_kib,hwm_kib,rows,replay_s,drain_lag_s,cpu_pct_replay,seq_gaps,truncated,parse_errors,writer_drops,rows_lost,dpi_classified,dpi_queue_drops,dpi_errors,cls_cpu_pct,agent_cpu_pct" >"$csv"
# shellcheck disable=SC2086 # word-split the column names on purpose
{
	printf '%-9s %9s %9s %14s %8s %8s %6s %8s %8s %9s' $cols
	[ $with_cls = 0 ] || printf ' %14s %9s %8s' dpi_classified dpi_drops cls_cpu%
	[ $with_agent = 0 ] || printf ' %10s' agent_cpu%
	echo
}
best="" best_top="" first_lossy="" bad=0
marker
drain
for rate in $rates; do
	if [ "$rate" = top ] || [ "$rate" = topspeed ]; then
		n=$top_pkts; ropt=(--topspeed); rate=topspeed
	else
		if [ $bad -ge "$stop_after" ]; then log "skip $rate pps (the last $bad steps lost > 20%)"; continue; fi
		n=$((rate * step_seconds))
		[ "$n" -ge "$min_pkts" ] || n=$min_pkts
		[ "$n" -le "$max_pkts" ] || n=$max_pkts
		ropt=(--pps "$rate")
	fi
	loops=$(((n + frames - 1) / frames))
	s0=$(status "$lsock") || die "cannot read the logger's /v1/status on $lsock"
	c0=$(cpu_ticks "$logger_pid")
	cc0=0 ca0=0
	[ $with_cls = 0 ] || cc0=$(cpu_ticks "$cls_pid")
	[ $with_agent = 0 ] || ca0=$(cpu_ticks "$agent_pid")
	t0=$(now)
	out=$("$lab" replay "$pcap" "${ropt[@]}" --loop "$loops" --limit "$n" --quiet)
	t1=$(now); c1=$(cpu_ticks "$logger_pid")
	drain
	marker
	t_busy=$LAST_BUSY
	drain
	c2=$(cpu_ticks "$logger_pid")
	s1=$(status "$lsock") || die "cannot read the logger's /v1/status on $lsock"
	cc2=0 ca2=0
	[ $with_cls = 0 ] || { alive "$cls_pid" bench-classifier; cc2=$(cpu_ticks "$cls_pid"); }
	[ $with_agent = 0 ] || { alive "$agent_pid" bench-agent; ca2=$(cpu_ticks "$agent_pid"); }
	sent=$(grep -o 'sent=[0-9]*' <<<"$out" | cut -d= -f2)
	rs=$(grep -o 'seconds=[0-9.]*' <<<"$out" | cut -d= -f2)
	hits=$(grep -o 'hook_hits=[0-9]*' <<<"$out" | cut -d= -f2)
	d() { echo $(($(stat_of "$s1" "$1") - $(stat_of "$s0" "$1"))); }
	pk=$(d nflog_packets); nl=$(d nflog_lost); eb=$(d nflog_enobufs)
	rows=$(($(d rows_firewall_logs) + $(d rows_dpi_flow)))
	lost=$((nl + eb))
	line=$(awk -v rate="$rate" -v sent="$sent" -v hits="$hits" -v pk="$pk" -v lost="$lost" -v eb="$eb" \
		-v t0="$t0" -v t1="$t1" -v tb="$t_busy" -v c0="$c0" -v c1="$c1" -v c2="$c2" -v hz="$hz" \
		-v cc0="$cc0" -v cc2="$cc2" -v ca0="$ca0" -v ca2="$ca2" -v rs="${rs:-0}" \
		-v rss="$(vm_kib "$logger_pid" VmRSS)" -v hwm="$(vm_kib "$logger_pid" VmHWM)" -v rows="$rows" \
		-v gaps="$(d nflog_seq_gaps)" -v tr="$(d nflog_truncated)" -v pe="$(d nflog_parse_errors)" \
		-v wd="$(d writer_queue_drops)" -v rl="$(d rows_lost)" -v dc="$(d dpi_classified)" \
		-v dd="$(d dpi_queue_drops)" -v de="$(d dpi_errors)" 'BEGIN {
		win = (tb > t1 ? tb : t1) - t0; rw = t1 - t0; lag = tb - t1; if (lag < 0) lag = 0
		cpu = win > 0 ? 100 * (c2 - c0) / hz / win : 0
		cpur = rw > 0 ? 100 * (c1 - c0) / hz / rw : 0
		ccpu = win > 0 ? 100 * (cc2 - cc0) / hz / win : 0
		acpu = win > 0 ? 100 * (ca2 - ca0) / hz / win : 0
		printf "%s,%d,%d,%d,%d,%d,%.1f,%d,%d,%d,%.2f,%.2f,%.1f,%d,%d,%d,%d,%d,%d,%d,%d,%.1f,%.1f\n",
			rate, sent, hits, pk, lost, eb, cpu, rss, hwm, rows, rs, lag, cpur, gaps, tr, pe, wd, rl, dc, dd, de, ccpu, acpu }')
	[ -z "$csv" ] || echo "$line" >>"$csv"
	IFS=, read -r f_rate f_sent f_hits f_pk f_lost f_eb f_cpu f_rss f_hwm f_rows _ _ _ _ _ _ _ _ f_dc f_dd _ f_cc f_ac <<<"$line"
	ext=""
	[ $with_cls = 0 ] || ext=$(printf ' %14s %9s %8s' "$f_dc" "$f_dd" "$f_cc")
	[ $with_agent = 0 ] || ext="$ext $(printf '%10s' "$f_ac")"
	printf '%-9s %9s %9s %14s %8s %8s %6s %8s %8s %9s%s\n' "$f_rate" "$f_sent" "$f_hits" "$f_pk" "$f_lost" "$f_eb" "$f_cpu" "$f_rss" "$f_hwm" "$f_rows" "$ext"
	if [ "$lost" = 0 ] && [ "$pk" -ge "$hits" ]; then
		bad=0
		if [ "$rate" = topspeed ]; then
			ach=$(awk -v s="$sent" -v r="${rs:-0}" 'BEGIN {printf "%.0f", (r > 0 ? s / r : 0)}')
			best_top="topspeed (~$ach pps achieved)"
		elif [ -z "$best" ] || [ "$rate" -gt "$best" ]; then
			best=$rate
		fi
		continue
	fi
	[ -n "$first_lossy" ] || first_lossy=$rate
	if awk -v l="$lost" -v h="$hits" -v p="$pk" 'BEGIN {m = h - p; if (l > m) m = l; exit !(h > 0 && 100 * m / h > 20)}'; then
		bad=$((bad + 1))
	else
		bad=0
	fi
done
if [ -n "$best_top" ]; then best=$best_top; elif [ -n "$best" ]; then best="$best pps"; fi
echo "highest lossless rate: ${best:-none}; first lossy step: ${first_lossy:-none}"
