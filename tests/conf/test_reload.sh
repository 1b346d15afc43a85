#!/usr/bin/env bash
# SIGHUP reload of the real daemons (classifier, logger, agent), unprivileged, sockets in a
# temp dir: change limits in the file, send SIGHUP, poll /v1/status until its "config" shows
# the new values (and, for the classifier, see the new firstPayloadPackets budget act on a
# flow); keys that need a restart keep their running value and the log says so; flags keep
# overriding the file across reloads; a broken file keeps the daemon running with the old
# values and the log names file:line.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_built "$CLS" "$LOG" "$AGT"
need_tools "curl, jq" curl jq

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rdpi-reload.$$.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT


DEADLINE=20 # seconds for every poll

status() { curl -sf --max-time 5 --unix-socket "$1" http://unix/v1/status; }
# cfg SOCK KEY -> status .config[KEY]
cfg() { status "$1" | jq -r --arg k "$2" '.config[$k] // "<missing>"'; }
cfg_is() { [ "$(cfg "$1" "$2")" = "$3" ]; }
alive() { kill -0 "$1" 2>/dev/null; }

# stop WHO PID LOG: SIGTERM, clean exit, no sanitizer report (ASan/UBSan trees)
stop() {
	kill -TERM "$2" 2>/dev/null
	wait "$2"
	local rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$1 exited with $rc after SIGTERM: $(tail -n20 "$3")"
	elif grep -qE "Sanitizer|runtime error:" "$3"; then
		fail "$1 sanitizer report: $(grep -m3 -E "Sanitizer|runtime error:" "$3")"
	else
		ok "$1 stopped cleanly"
	fi
}

# expect_cfg WHO SOCK KEY VALUE: poll until the status shows it
expect_cfg() {
	if poll "$DEADLINE" cfg_is "$2" "$3" "$4"; then
		ok "$1 status config.$3 = $4"
	else
		fail "$1 status config.$3 is $(cfg "$2" "$3"), want $4"
	fi
}

# expect_log WHO FILE FIXED-STRING: poll the daemon's stderr for the text
expect_log() {
	if poll "$DEADLINE" grep -qF -- "$3" "$2"; then
		ok "$1 log: $(grep -F -- "$3" "$2" | tail -n1)"
	else
		fail "$1 log lacks \"$3\": $(tail -n5 "$2")"
	fi
}

# ---------------------------------------------------------------- classifier ----
c=$tmp/c
mkdir -p "$c"
write_cls() { # firstPayloadPackets requestTimeout flowLimit
	cat >"$c/dpi.conf" <<-EOF
		classifier = {
			socket = "$c/c.sock";
			ipc = "ipc://$c/c.ipc";
			firstPayloadPackets = $1;
			requestTimeout = "$2";
			flowLimit = $3;
		};
		firewallLog = { nflogGroup = 3; };
	EOF
}

# packets of a fresh UDP flow with an unrecognisable payload until "final":true (max 12)
packets_to_final() {
	local port=$1 i r
	for i in $(seq 1 12); do
		r=$(curl -sf --max-time 5 --unix-socket "$c/c.sock" http://unix/v1/classify -d \
			"{\"transportProtocol\":\"udp\",\"srcAddress\":\"192.0.2.7\",\"srcPort\":$port,\"dstAddress\":\"198.51.100.7\",\"dstPort\":40001,\"l4Payload\":\"AAECAwQFBgcICQ==\"}") || {
			echo "error"
			return
		}
		if [ "$(jq -r '.final // false' <<<"$r")" = true ]; then
			echo "$i"
			return
		fi
	done
	echo "never"
}

write_cls 10 200ms 100000
"$CLS" daemon --config "$c/dpi.conf" 2>"$c/log" &
cpid=$!
pids+=("$cpid")
if ! poll "$DEADLINE" status "$c/c.sock" >/dev/null; then
	fail "classifier did not start: $(cat "$c/log")"
else
	expect_cfg classifier "$c/c.sock" firstPayloadPackets 10
	n=$(packets_to_final 41001)
	[ "$n" = 10 ] && ok "classifier: flow final after 10 payload packets" ||
		fail "classifier: flow final after $n packets, want 10"

	write_cls 3 350ms 5000
	kill -HUP "$cpid"
	expect_cfg classifier "$c/c.sock" firstPayloadPackets 3
	expect_cfg classifier "$c/c.sock" requestTimeout 350ms
	expect_cfg classifier "$c/c.sock" flowLimit 100000 # needs a restart: running value kept
	expect_log classifier "$c/log" "applied live: requestTimeout, firstPayloadPackets;"
	expect_log classifier "$c/log" "need a restart (running values kept): flowLimit"
	n=$(packets_to_final 41002)
	[ "$n" = 3 ] && ok "classifier: after SIGHUP a new flow is final after 3 payload packets" ||
		fail "classifier: after SIGHUP flow final after $n packets, want 3"

	# broken: unknown key on line 5
	write_cls 7 200ms 100000
	sed -i '5a\	noSuchKey = 1;' "$c/dpi.conf"
	kill -HUP "$cpid"
	expect_log classifier "$c/log" "reload failed, keeping the running configuration: $c/dpi.conf:6: unknown key \"noSuchKey\""
	alive "$cpid" && ok "classifier still running" || fail "classifier died on a broken file"
	expect_cfg classifier "$c/c.sock" firstPayloadPackets 3
	expect_cfg classifier "$c/c.sock" requestTimeout 350ms

	# broken: out of range
	write_cls 0 200ms 100000
	kill -HUP "$cpid"
	expect_log classifier "$c/log" "$c/dpi.conf:4: classifier.firstPayloadPackets: 0 out of range"
	alive "$cpid" && ok "classifier still running" || fail "classifier died on a broken file"
	expect_cfg classifier "$c/c.sock" firstPayloadPackets 3
	stop classifier "$cpid" "$c/log"
fi

# -------------------------------------------------------------------- logger ----
l=$tmp/l
mkdir -p "$l"
write_log() { # dpiFlowFirstPackets batchRows retention rowLimit
	cat >"$l/dpi.conf" <<-EOF
		classifier = { flowLimit = 10; };
		firewallLog = {
			path = "$l/fw.db";
			socket = "$l/l.sock";
			ipc = "ipc://$l/l.ipc";
			nflogGroup = 0;
			dpiSocket = "";
			dpiFlowFirstPackets = $1;
			batchRows = $2;
			dpiFlowLimit = 100000;
		};
		flows = {
			path = "$l/flows.db";
			retention = "$3";
			rowLimit = $4;
		};
	EOF
}
write_log 10 512 168h 1000000
# --nflog-group 0 without an input: the logger only serves its status (unprivileged);
# --dpi-flow-limit must keep overriding the file across reloads
"$LOG" daemon --config "$l/dpi.conf" --dpi-flow-limit 777 2>"$l/log" &
lpid=$!
pids+=("$lpid")
if ! poll "$DEADLINE" status "$l/l.sock" >/dev/null; then
	fail "logger did not start: $(cat "$l/log")"
else
	expect_cfg logger "$l/l.sock" dpiFlowFirstPackets 10
	expect_cfg logger "$l/l.sock" dpiFlowLimit 777
	write_log 4 64 24h 5000
	kill -HUP "$lpid"
	expect_cfg logger "$l/l.sock" dpiFlowFirstPackets 4
	expect_cfg logger "$l/l.sock" flows.retention 24h0m0s
	expect_cfg logger "$l/l.sock" flows.rowLimit 5000
	expect_cfg logger "$l/l.sock" batchRows 512 # needs a restart
	expect_cfg logger "$l/l.sock" dpiFlowLimit 777 # the flag still wins
	expect_log logger "$l/log" "applied live: dpiFlowFirstPackets, flows.retention, flows.rowLimit;"
	expect_log logger "$l/log" "need a restart (running values kept): batchRows"

	write_log 5 512 168h 1000000
	sed -i 's/retention = "168h";/retention = "forever";/' "$l/dpi.conf"
	line=$(grep -n 'retention = "forever"' "$l/dpi.conf" | cut -d: -f1)
	kill -HUP "$lpid"
	expect_log logger "$l/log" "reload failed, keeping the running configuration: $l/dpi.conf:$line: flows.retention"
	alive "$lpid" && ok "logger still running" || fail "logger died on a broken file"
	expect_cfg logger "$l/l.sock" dpiFlowFirstPackets 4
	expect_cfg logger "$l/l.sock" flows.retention 24h0m0s

	printf 'firewallLog = {\n\tdpiFlowFirstPackets = 5\n' >"$l/dpi.conf" # syntax error
	kill -HUP "$lpid"
	expect_log logger "$l/log" "reload failed, keeping the running configuration: $l/dpi.conf:3: syntax error"
	alive "$lpid" && ok "logger still running after a syntax error" ||
		fail "logger died on a syntax error"
	expect_cfg logger "$l/l.sock" dpiFlowFirstPackets 4
	stop logger "$lpid" "$l/log"
fi

# --------------------------------------------------------------------- agent ----
a=$tmp/a
mkdir -p "$a"
write_agent() { # flowLimit timeout
	cat >"$a/dpi.conf" <<-EOF
		agent = {
			socket = "$a/a.sock";
			ipc = "ipc://$a/a.ipc";
			flowLimit = $1;
			timeout = "$2";
		};
		flows = { rowLimit = 1; };
	EOF
}
write_agent 100000 200ms
"$AGT" daemon --config "$a/dpi.conf" >/dev/null 2>"$a/log" &
apid=$!
pids+=("$apid")
if ! poll "$DEADLINE" status "$a/a.sock" >/dev/null; then
	fail "agent did not start: $(cat "$a/log")"
else
	expect_cfg agent "$a/a.sock" flowLimit 100000
	write_agent 5000 300ms
	kill -HUP "$apid"
	expect_cfg agent "$a/a.sock" flowLimit 5000
	if poll "$DEADLINE" sh -c "curl -sf --unix-socket '$a/a.sock' http://unix/v1/status | jq -e '.flowLimit == 5000' >/dev/null"; then
		ok "agent status flowLimit (the running flow table's) = 5000"
	else
		fail "agent status flowLimit is $(status "$a/a.sock" | jq .flowLimit), want 5000"
	fi
	expect_cfg agent "$a/a.sock" timeout 200ms # needs a restart
	expect_log agent "$a/log" "applied live: flowLimit;"
	expect_log agent "$a/log" "need a restart (running values kept): timeout"

	write_agent 100000000000 200ms
	kill -HUP "$apid"
	expect_log agent "$a/log" "reload failed, keeping the running configuration: $a/dpi.conf:4: agent.flowLimit"
	alive "$apid" && ok "agent still running" || fail "agent died on a broken file"
	expect_cfg agent "$a/a.sock" flowLimit 5000
	stop agent "$apid" "$a/log"
fi

if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "all reload checks passed"
