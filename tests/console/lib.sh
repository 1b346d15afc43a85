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

# For the browser tests (not the benchmark). fail MSG: FAIL and exit 1.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# console_test_init NAME TOOL...: B, CONSOLE, GENDB and ART of this build (ctest's
# RDPI_BINARY_DIR), FAIL unless each TOOL is installed and both binaries are built, and TMP, a
# fresh directory removed with the console at exit.
console_test_init() {
	local name=$1 t
	shift
	B=${RDPI_BINARY_DIR:?RDPI_BINARY_DIR not set (run through ctest)}
	CONSOLE=$B/services/console/routerd-dpi-console
	GENDB=$B/services/console/routerd-console-gendb
	ART=$B/artifacts
	for t; do
		command -v "$t" >/dev/null || fail "$t is required (tools/deps.sh installs it)"
	done
	[ -x "$CONSOLE" ] || fail "$CONSOLE not built"
	[ -x "$GENDB" ] || fail "$GENDB not built"
	TMP=$(mktemp -d "/tmp/rdpi-$name.$$.XXXXXX")
	CPID=
	trap 'console_kill; rm -rf "$TMP"' EXIT
	trap 'exit 130' INT TERM
}

# console_test_finish: FAIL unless the console (CPID) is still running, exits 0 on SIGTERM and
# logged no sanitizer report; then PASS.
console_test_finish() {
	local rc=0
	kill -0 "$CPID" 2>/dev/null || fail "console died during the test"
	kill "$CPID"
	wait "$CPID" || rc=$?
	CPID=
	if [ "$rc" -ne 0 ] || grep -qE 'Sanitizer|runtime error' "$TMP/console.log"; then
		cat "$TMP/console.log"
		fail "console exited with $rc on SIGTERM or reported a sanitizer error"
	fi
	echo "PASS"
}
