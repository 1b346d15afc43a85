#!/usr/bin/env bash
# Benchmark the conntrack side of routerd-firewall-logger (issue 6, "Benchmark"):
# bring the nflog lab up, turn conntrack accounting on in netns dpilab, run the
# nDPI agent, the classifier and the logger (--conntrack-events --traffic-path)
# inside dpilab, generate real short connections with `nflog-lab.sh gen` in
# steps and read the logger's /v1/status before and after each step. Prints one
# table row per step, then the share of traffic-flows.db `flows` rows per
# source. Everything it starts is stopped on exit and the lab is taken down.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
harness="$top/../shared/harness"

usage() {
	cat <<EOF
usage: tools/bench_conntrack.sh [options]

Benchmarks the conntrack writer of routerd-firewall-logger (traffic-flows.db)
against real connections generated in the nflog lab ($harness/nflog-lab.sh),
end to end with routerd-ndpi-agent and routerd-dpi-classifier (--engine auto).
Needs root and the lab's Debian packages. Only one lab may be up on a machine:
the script waits (--wait-lab) until no lab is up and no bench_logger.sh runs.

options:
  --build DIR          build tree holding services/*/routerd-* (default: \$top/build)
  --steps "LIST"       connections per step for 'gen' (default: "500 2000 5000"; each <= 200000).
                       A step "udp:N" (N <= 500000) instead sends one UDP datagram on each of N
                       distinct 5-tuples from dpilab-cli to 198.18.2.2:10000-59999 (closed ports)
                       as fast as python can: a conntrack NEW/DESTROY burst, far faster than gen.
                       "udp:N@R" paces the same at R new flows/s (checked every 100 flows).
  --parallel P         gen --parallel (default 8, max 32)
  --mix LIST           gen --mix (default dns,http,https)
  --no-short-timeouts  keep the kernel's conntrack timeouts (TIME_WAIT 120 s, UDP 30 s);
                       by default TCP TIME_WAIT/CLOSE/FIN_WAIT/CLOSE_WAIT/LAST_ACK and UDP
                       timeouts are set to 2 s in dpilab so DESTROY events come promptly
  --quiet-seconds S    drain: the logger counts as drained when its conntrack/flows
                       counters did not change for S seconds (default 10)
  --drain-timeout S    max seconds to wait for the drain after a step (default 240)
  --cpu N              CPU the daemons are pinned to (default 1)
  --wait-lab S         wait up to S s (polling every 20 s) for another lab / bench_logger.sh
                       to finish before bringing the lab up (default 1200; 0 = fail at once)
  --out PREFIX         raw outputs go to PREFIX-*.txt
                       (default /work/notes/bench/conntrack-YYYYmmdd-HHMMSS)
  --keep-db DIR        copy traffic.db and fw.db (and the daemons' logs) to DIR before cleaning up
  -h, --help           this text

Columns per step: n (connections asked), gen_cps (gen flows / gen seconds), gen_fail,
ct_ev / ct_destroy / enobufs / resyncs (ct_events, ct_destroy_events, ct_enobufs,
ct_resyncs deltas), upserts (traffic_upserts delta), rows_c (rows_traffic_flows delta),
rows_db (new rows in flows), rows/s (rows_db over gen start .. last change), pk_ups/s
(peak traffic_upserts rate over >= 1 s, from a ~0.2-0.5 s sampler saved as PREFIX-samples-STEP.txt), drain_s
(last counter change after gen ended), wq_drops (writer_queue_drops delta), cpu%
(logger utime+stime over gen start .. last change, % of one core), rss/hwm KiB
(VmRSS/VmHWM after the step), act_flows (the logger's in-memory flow table, writer_flows).
EOF
}

log() { printf '%s bench_conntrack: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
posint() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || die "$4 must be an integer in [$2, $3] (got '$1')"; }

build="$top/build"
steps="500 2000 5000"
par=8 mix=dns,http,https short=1 quiet_s=10 drain_timeout=240 cpu=1 wait_lab=1200
keep_db=""
out="/work/notes/bench/conntrack-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	--steps) steps=${2:?--steps needs a list}; shift 2 ;;
	--parallel) posint "${2:-}" 1 32 --parallel; par=$2; shift 2 ;;
	--mix) mix=${2:?--mix needs a list}; shift 2 ;;
	--no-short-timeouts) short=0; shift ;;
	--quiet-seconds) posint "${2:-}" 2 600 --quiet-seconds; quiet_s=$2; shift 2 ;;
	--drain-timeout) posint "${2:-}" 5 3600 --drain-timeout; drain_timeout=$2; shift 2 ;;
	--cpu) posint "${2:-}" 0 4095 --cpu; cpu=$2; shift 2 ;;
	--wait-lab) posint "${2:-}" 0 7200 --wait-lab; wait_lab=$2; shift 2 ;;
	--keep-db) keep_db=${2:?--keep-db needs a directory}; shift 2 ;;
	--out) out=${2:?--out needs a prefix}; shift 2 ;;
	-h | --help | help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done
for n in $steps; do
	case $n in
	udp:*@*) m=${n#udp:}; posint "${m%@*}" 1 500000 "udp step"; posint "${m#*@}" 1 1000000 "udp step rate" ;;
	udp:*) posint "${n#udp:}" 1 500000 "udp step" ;;
	*) posint "$n" 1 200000 "step" ;;
	esac
done
[ -n "${steps// /}" ] || die "--steps is empty"

[ "$(id -u)" = 0 ] || die "run as root (network namespaces, nftables, NFLOG, conntrack)"
[ -x "$harness/nflog-lab.sh" ] || die "nflog lab not found at $harness/nflog-lab.sh"
lab="$harness/nflog-lab.sh"
build=$(readlink -f "$build" 2>/dev/null || echo "$build")
logger_bin="$build/services/logger/routerd-firewall-logger"
cls_bin="$build/services/classifier/routerd-dpi-classifier"
agent_bin="$build/services/agent/routerd-ndpi-agent"
for b in "$logger_bin" "$cls_bin" "$agent_bin"; do [ -x "$b" ] || die "binary not found: $b (build it, or pass --build DIR)"; done
for c in curl python3 ip dig taskset sqlite3; do command -v "$c" >/dev/null || die "missing command: $c"; done
mkdir -p "$(dirname "$out")"

hz=$(getconf CLK_TCK)
tmp="" lab_owned=0
spawned=(ctb-logger ctb-classifier ctb-agent)

cleanup() {
	local rc=$? n
	trap - EXIT INT TERM
	[ -z "${sampler_pid:-}" ] || { kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null; } || true
	if [ -n "$tmp" ] && [ -d "$tmp" ]; then
		for n in "${spawned[@]}"; do [ ! -f "$tmp/$n.log" ] || cp "$tmp/$n.log" "$out-$n.log.txt" 2>/dev/null || true; done
		if [ -n "$keep_db" ]; then
			mkdir -p "$keep_db" && for n in "${spawned[@]}"; do "$lab" stop "$n" >/dev/null 2>&1 || true; done
			cp -a "$tmp"/*.db* "$tmp"/*.log "$keep_db"/ 2>/dev/null || true
		fi
	fi
	for n in "${spawned[@]}"; do "$lab" stop "$n" >/dev/null 2>&1 || true; done
	[ $lab_owned = 0 ] || "$lab" down >/dev/null 2>&1 || log "warning: '$lab down' failed"
	[ -z "$tmp" ] || rm -rf -- "$tmp"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- wait for the lab to be free
busy_lab() { [ "$(ip netns list | grep -c dpilab || true)" != 0 ] || pgrep -f 'bench_logger\.sh' >/dev/null; }
waited=0
while busy_lab; do
	[ $waited -lt "$wait_lab" ] || die "another nflog lab or bench_logger.sh is still active after ${waited}s"
	log "another lab or bench_logger.sh is active; waiting (${waited}/${wait_lab}s)"
	sleep 20; waited=$((waited + 20))
done

# ---------------------------------------------------------------- lab
prefix="routerd firewall forward accept "
log "lab up (prefix: '$prefix')"
lab_owned=1
NFLOG_PREFIX="$prefix" "$lab" up >/dev/null
tmp=$(mktemp -d /tmp/bench-conntrack.XXXXXX)
sysctls=(net.netfilter.nf_conntrack_acct=1)
[ $short = 0 ] || sysctls+=(
	net.netfilter.nf_conntrack_tcp_timeout_time_wait=2
	net.netfilter.nf_conntrack_tcp_timeout_close=2
	net.netfilter.nf_conntrack_tcp_timeout_fin_wait=2
	net.netfilter.nf_conntrack_tcp_timeout_close_wait=2
	net.netfilter.nf_conntrack_tcp_timeout_last_ack=2
	net.netfilter.nf_conntrack_udp_timeout=2
	net.netfilter.nf_conntrack_udp_timeout_stream=2
)
for s in "${sysctls[@]}"; do "$lab" exec -- sysctl -w "$s" >/dev/null || die "sysctl -w $s failed in dpilab"; done
log "dpilab sysctls: ${sysctls[*]}"

# ---------------------------------------------------------------- helpers
cat >"$tmp/udpburst.py" <<'PY'
import socket, sys, time
n = int(sys.argv[1]); rate = float(sys.argv[2]) if len(sys.argv) > 2 else 0; per = 50000; sent = 0; fail = 0
t0 = time.time()
socks = []
while sent + fail < n:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.1.2", 0)); socks.append(s)
    for p in range(10000, 10000 + min(per, n - sent - fail)):
        try:
            s.sendto(b"x", ("198.18.2.2", p)); sent += 1
        except OSError:
            fail += 1
        if rate > 0 and (sent + fail) % 100 == 0:
            ahead = t0 + (sent + fail) / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
dt = time.time() - t0
print("gen: flows=%d mix=udp-burst parallel=1 failed=%d seconds=%.3f sockets=%d" % (sent, fail, dt, len(socks)))
PY

cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
vm_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
now() { date +%s.%N; }
alive() { [ -d "/proc/$1" ] || die "$2 (pid $1) exited; see its log: $(tail -5 "$tmp/$2.log" 2>/dev/null | tr '\n' '|')"; }
status() {
	curl -s --max-time 5 --unix-socket "$1" http://unix/v1/status | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k, v in (d.get("stats") or {}).items():
    try: print(k, int(v))
    except (TypeError, ValueError): pass
r = d.get("resources") or {}
for k in ("rssBytes", "activeFlows", "flowTableBytes"):
    if r.get(k) is not None: print(k, int(r[k]))
'
}
stat_of() { awk -v k="$2" '$1 == k {print $2; f = 1} END {if (!f) print 0}' <<<"$1"; }
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
db() { sqlite3 -cmd '.timeout 5000' "file:$tmp/traffic.db?mode=ro" "$@"; }

# ---------------------------------------------------------------- daemons
agent_pid=$(spawn ctb-agent "$tmp/a.sock" "$agent_bin" daemon --socket "$tmp/a.sock" --ipc "ipc://$tmp/a.ipc")
cls_pid=$(spawn ctb-classifier "$tmp/c.sock" "$cls_bin" daemon --engine auto --ndpi-agent-socket "$tmp/a.sock" \
	--socket "$tmp/c.sock" --ipc "ipc://$tmp/c.ipc")
lsock="$tmp/l.sock"
logger_pid=$(spawn ctb-logger "$lsock" "$logger_bin" daemon --nflog-group 7 --path "$tmp/fw.db" \
	--traffic-path "$tmp/traffic.db" --conntrack-events --dpi-socket "$tmp/c.sock" \
	--socket "$lsock" --ipc "ipc://$tmp/l.ipc")
for _ in $(seq 50); do
	bound=$("$lab" exec -- awk '$1 == 7 {print $2}' /proc/net/netfilter/nfnetlink_log)
	[ -n "$bound" ] && break
	sleep 0.1
done
[ -n "${bound:-}" ] || { tail -20 "$tmp/ctb-logger.log" >&2; die "the logger did not bind NFLOG group 7 in dpilab"; }
s=$(status "$lsock")
log "agent $agent_pid, classifier $cls_pid, logger $logger_pid (NFLOG portid $bound); logger rss $(vm_kib "$logger_pid" VmRSS) KiB, ct_acct_off=$(stat_of "$s" ct_acct_off)"
status "$lsock" >"$out-status-start.txt"

# drain: counters unchanged for quiet_s seconds and writer queue empty; sets LAST_CHANGE
drain() {
	local last="" cur quiet=0 deadline polls=$((quiet_s * 2)) st
	LAST_CHANGE=$(now)
	deadline=$(($(date +%s) + drain_timeout))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		sleep 0.5
		alive "$logger_pid" ctb-logger
		st=$(status "$lsock") || continue
		cur="$(stat_of "$st" ct_events) $(stat_of "$st" rows_traffic_flows) $(stat_of "$st" traffic_upserts) $(stat_of "$st" rows_expired_flows) q$(stat_of "$st" writer_queue_depth)"
		if [ "$cur" != "$last" ] || [[ $cur != *q0 ]]; then
			[ -z "$last" ] || LAST_CHANGE=$(now)
			last=$cur; quiet=0
		else
			quiet=$((quiet + 1))
			[ $quiet -ge $polls ] && return 0
		fi
	done
	log "drain: the logger was still changing after ${drain_timeout}s"
}

# sampler FILE: every ~0.3 s "epoch ct_events traffic_upserts rows_traffic_flows writer_queue_depth
# cpu_ticks rss_kib" until killed (bounded to 2 h)
sampler_pid=""
sampler() {
	local st
	for _ in $(seq 14400); do
		st=$(status "$lsock" 2>/dev/null) || st=""
		printf '%s %s %s %s\n' "$(now)" "$(awk '{v[$1] = $2} END {printf "%d %d %d %d", v["ct_events"], v["traffic_upserts"], v["rows_traffic_flows"], v["writer_queue_depth"]}' <<<"$st")" \
			"$(cpu_ticks "$logger_pid" 2>/dev/null || echo 0)" "$(vm_kib "$logger_pid" VmRSS 2>/dev/null || echo 0)" >>"$1"
		sleep 0.2
	done
}

# ---------------------------------------------------------------- steps
raw="$out-steps.txt"
{
	echo "# bench_conntrack $(date -Is) build=$build steps='$steps' parallel=$par mix=$mix short_timeouts=$short quiet=${quiet_s}s"
	echo "# dpilab sysctls: ${sysctls[*]}"
} >"$raw"
hdr=$(printf '%-10s %8s %5s %8s %8s %7s %7s %8s %8s %8s %8s %8s %7s %8s %6s %9s %9s %9s' \
	n gen_cps fail ct_ev ct_destr enobufs resyncs upserts rows_c rows_db rows/s pk_ups/s drain_s wq_drops cpu% rss_kib hwm_kib act_flows)
echo "$hdr" | tee -a "$raw"
drain
for n in $steps; do
	s0=$(status "$lsock") || die "cannot read /v1/status"
	r0=$(db 'select count(*) from flows' 2>/dev/null || echo 0)
	samples="$out-samples-${n//[:@]/-}.txt"
	sampler "$samples" &
	sampler_pid=$!
	c0=$(cpu_ticks "$logger_pid"); t0=$(now)
	if [[ $n == udp:* ]]; then
		m=${n#udp:}; uargs=("${m%@*}"); [[ $m != *@* ]] || uargs+=("${m#*@}")
		gout=$(ip netns exec dpilab-cli timeout 900 python3 "$tmp/udpburst.py" "${uargs[@]}" 2>&1) || { echo "$gout" >&2; die "udp burst $n failed"; }
	else
		gout=$("$lab" gen "$n" --parallel "$par" --mix "$mix" 2>&1) || { echo "$gout" >&2; die "gen $n failed"; }
	fi
	t1=$(now)
	echo "$gout" >>"$raw"
	drain
	c2=$(cpu_ticks "$logger_pid")
	kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""
	# peak upserts/s: max over windows of >= 1 s between samples
	pk=$(awk '{ t[NR] = $1; u[NR] = $3; j = NR - 1; while (j > 1 && t[NR] - t[j] < 1) j--; if (j >= 1 && t[NR] - t[j] >= 1) { r = (u[NR] - u[j]) / (t[NR] - t[j]); if (r > m) m = r } } END { printf "%.0f", m + 0 }' "$samples")
	s1=$(status "$lsock") || die "cannot read /v1/status"
	r1=$(db 'select count(*) from flows')
	{ echo "# status after step $n:"; echo "$s1" | tr '\n' ' '; echo; } >>"$raw"
	gl=$(grep '^gen:' <<<"$gout" | tail -1)
	flows=$(grep -o 'flows=[0-9]*' <<<"$gl" | cut -d= -f2)
	fails=$(grep -o 'failed=[0-9]*' <<<"$gl" | cut -d= -f2)
	gsec=$(grep -o 'seconds=[0-9.]*' <<<"$gl" | cut -d= -f2)
	d() { echo $(($(stat_of "$s1" "$1") - $(stat_of "$s0" "$1"))); }
	line=$(awk -v n="$n" -v fl="${flows:-0}" -v gs="${gsec:-0}" -v fail="${fails:-0}" \
		-v ev="$(d ct_events)" -v de="$(d ct_destroy_events)" -v eb="$(d ct_enobufs)" -v rs="$(d ct_resyncs)" \
		-v up="$(d traffic_upserts)" -v rc="$(d rows_traffic_flows)" -v rdb="$((r1 - r0))" -v wd="$(d writer_queue_drops)" \
		-v t0="$t0" -v t1="$t1" -v tl="$LAST_CHANGE" -v c0="$c0" -v c2="$c2" -v hz="$hz" \
		-v rss="$(vm_kib "$logger_pid" VmRSS)" -v hwm="$(vm_kib "$logger_pid" VmHWM)" -v af="$(stat_of "$s1" activeFlows)" -v pk="$pk" 'BEGIN {
		win = (tl > t1 ? tl : t1) - t0; lag = tl - t1; if (lag < 0) lag = 0
		cps = gs > 0 ? fl / gs : 0; if (gs > 0 && gs < 0.1) cps = fl / 0.1
		printf "%-10s %8.1f %5d %8d %8d %7d %7d %8d %8d %8d %8.1f %8.0f %7.1f %8d %6.1f %9d %9d %9d\n",
			n, cps, fail, ev, de, eb, rs, up, rc, rdb, (win > 0 ? rdb / win : 0), pk, lag, wd,
			(win > 0 ? 100 * (c2 - c0) / hz / win : 0), rss, hwm, af }')
	echo "$line" | tee -a "$raw"
done

# ---------------------------------------------------------------- summary
alive "$logger_pid" ctb-logger
status "$lsock" >"$out-status-end.txt"
sum="$out-summary.txt"
{
	echo "# flows rows per source ($tmp/traffic.db, after all steps; short_timeouts=$short: ${sysctls[*]})"
	db -header -column "select coalesce(source, 'NULL (unidentified)') as source, count(*) as rows,
		printf('%.1f', 100.0 * count(*) / (select count(*) from flows)) as pct from flows group by source order by rows desc"
	echo
	echo "# flows rows per source, without the udp:N burst rows (udp to 198.18.2.2 ports 10000-59999)"
	db -header -column "with g as (select * from flows where not (protocol = 'udp' and peer_address = '198.18.2.2' and peer_port between 10000 and 59999))
		select coalesce(source, 'NULL (unidentified)') as source, count(*) as rows,
		printf('%.1f', 100.0 * count(*) / (select count(*) from g)) as pct from g group by source order by rows desc"
	echo
	echo "# per protocol / peer_port"
	db -header -column "select protocol, peer_port, count(*) rows, sum(source is null) unidentified,
		sum(bytes_in > 0) bytes_in_gt0, sum(bytes_out > 0) bytes_out_gt0, sum(ts_ended is not null) ended
		from flows group by protocol, peer_port order by rows desc limit 20"
	echo
	echo "# bytes and ts_ended"
	db -header -column "select count(*) rows, sum(bytes_in > 0) bytes_in_gt0, sum(bytes_out > 0) bytes_out_gt0,
		sum(bytes_in > 0 and bytes_out > 0) both_gt0, sum(coalesce(bytes_in,0) = 0 and coalesce(bytes_out,0) = 0) no_bytes,
		sum(ts_ended is not null) ts_ended_set, sum(tls_sni is not null and tls_sni != '') with_sni,
		sum(http_host is not null and http_host != '') with_host, sum(dns_query is not null and dns_query != '') with_dns_query,
		sum(resolved_hostname is not null and resolved_hostname != '') with_resolved from flows"
	echo
	echo "# app_name x source (top 20)"
	db -header -column "select coalesce(source,'NULL') source, coalesce(app_name,'NULL') app, engine, count(*) rows
		from flows group by 1, 2, 3 order by rows desc limit 20"
	echo
	echo "# sample rows without bytes (up to 5)"
	db -header -column "select id, flow_key, ts_started, ts_ended, client_address, client_port, peer_address, peer_port,
		protocol, bytes_out, bytes_in, packets_out, packets_in, source, app_name from flows
		where coalesce(bytes_in,0) = 0 or coalesce(bytes_out,0) = 0 limit 5"
	echo
	echo "# sample rows (5)"
	db -header -column "select * from flows order by id limit 5"
	echo
	echo "# expired_flows rows in fw.db"
	sqlite3 -cmd '.timeout 5000' "file:$tmp/fw.db?mode=ro" "select count(*) from expired_flows" 2>&1 || true
	echo
	echo "# conntrack in dpilab now"
	"$lab" exec -- conntrack -C 2>&1 || true
	echo
	echo "# logger log: warnings/errors (counts, first lines)"
	grep -ciE 'warn|err|fail|drop|overrun' "$tmp/ctb-logger.log" || true
	grep -iE 'warn|err|fail|drop|overrun' "$tmp/ctb-logger.log" | head -20 || true
	echo "# classifier/agent log: warnings/errors"
	grep -ihE 'warn|err|fail' "$tmp/ctb-classifier.log" "$tmp/ctb-agent.log" | head -10 || true
} >"$sum" 2>&1
cat "$sum"
log "raw outputs: $out-*.txt"
