# Sourced by the console's browser tests and tools/bench_console_page.sh: the real console on
# a free loopback port, over test databases, with nothing from /etc/routerd.

# console_start <console-bin> <firewall-db> <traffic-db> <dir> [console flags...]
# Sets CPID and PORT; 1 when no attempt answered /healthz (its log: <dir>/console.log).
# The DPI daemons' sockets point to nothing in <dir>: the probes report them unreachable.
console_start() {
	local bin=$1 fw=$2 tf=$3 dir=$4 p attempt deadline
	shift 4
	: >"$dir/console.conf"
	PORT=
	CPID=
	for attempt in 1 2 3 4 5 6; do
		p=$((20000 + (RANDOM * 32768 + RANDOM + $$ + attempt) % 40000))
		"$bin" daemon --config "$dir/console.conf" --listen "127.0.0.1:$p" \
			--firewall-db "$fw" --traffic-db "$tf" \
			--classifier-socket "$dir/no-classifier.sock" --agent-socket "$dir/no-agent.sock" \
			--logger-socket "$dir/no-logger.sock" "$@" >>"$dir/console.log" 2>&1 &
		CPID=$!
		deadline=$((SECONDS + 15))
		while [ $SECONDS -lt $deadline ] && kill -0 "$CPID" 2>/dev/null; do
			if curl -fsS -m 2 "http://127.0.0.1:$p/healthz" >/dev/null 2>&1; then
				PORT=$p
				return 0
			fi
			sleep 0.1
		done
		kill "$CPID" 2>/dev/null || true
		wait "$CPID" 2>/dev/null || true
		CPID=
	done
	return 1
}

# console_kill: for an EXIT trap; stops CPID when it still runs.
console_kill() {
	if [ -n "${CPID:-}" ] && kill -0 "$CPID" 2>/dev/null; then
		kill "$CPID" 2>/dev/null || true
		wait "$CPID" 2>/dev/null || true
	fi
	CPID=
}
