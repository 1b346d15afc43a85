#!/usr/bin/env bash
# install.sh for real, as root, without systemd: install to a temp --prefix/--sysconfdir/
# --localstatedir (creates the routerd user), start the installed daemons directly, check
# /v1/healthz, upgrade with rebuilt binaries: the running daemons are found with a
# "(deleted)" /proc/<pid>/exe, reported, and restarted by --restart-unsupervised (new pids,
# same argv, answering healthz); then stop and uninstall --purge.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (creates the routerd user, runs install.sh without DESTDIR)"
	exit 77
fi
src=${RDPI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${RDPI_BINARY_DIR:-$src/build}
T=$(mktemp -d /tmp/rdpi-iroot.$$.XXXXXX)
chmod 0755 "$T"
P=$T/prefix
cleanup() {
	local p
	# every process running a binary from our prefix (old or replaced)
	for p in $(find /proc/[0-9]*/exe -maxdepth 0 -lname "$P/bin/*" -printf '%h\n' 2>/dev/null); do
		kill -KILL "${p#/proc/}" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
inst() { bash "$src/install.sh" --prefix "$P" --sysconfdir "$T/etc" --localstatedir "$T/var" --no-deps "$@"; }

# -- the "old" build: the real binaries, plus the console when this tree has it
B1=$T/build1
mkdir -p "$B1/services"/{agent,classifier,logger,console}
cp "$bld/services/agent/routerd-ndpi-agent" "$B1/services/agent/"
cp "$bld/services/classifier/routerd-dpi-classifier" "$B1/services/classifier/"
cp "$bld/services/logger/routerd-firewall-logger" "$B1/services/logger/"
console=0
if [ -x "$bld/services/console/routerd-dpi-console" ]; then
	cp "$bld/services/console/routerd-dpi-console" "$B1/services/console/"
	console=1
else
	echo "NOTE: routerd-dpi-console not built in $bld: the console is left out"
fi
# the "new" build: the same programs with an extra ELF note, i.e. different files
B2=$T/build2
cp -r "$B1" "$B2"
echo "rebuilt $$ $(date +%s%N)" >"$T/note"
for f in "$B2"/services/*/routerd-*; do
	if command -v objcopy >/dev/null; then
		objcopy --add-section .note.rdpi-rebuild="$T/note" "$f"
	else
		cat "$T/note" >>"$f" # trailing bytes: still the same runnable ELF
	fi
done

inst --build-dir "$B1" >"$T/install1.log" 2>&1 || { cat "$T/install1.log" >&2; echo "FAIL: install" >&2; exit 1; }
getent passwd routerd >/dev/null || fail "install did not create the routerd user"
getent group routerd >/dev/null || fail "install did not create the routerd group"
[ "$(stat -c '%U:%G %a' "$T/var/lib/routerd")" = "root:routerd 2750" ] || fail "/var/lib/routerd owner/mode: $(stat -c '%U:%G %a' "$T/var/lib/routerd")"
[ "$(stat -c '%U:%G %a' "$T/etc/routerd/dpi.conf")" = "root:routerd 640" ] || fail "dpi.conf owner/mode: $(stat -c '%U:%G %a' "$T/etc/routerd/dpi.conf")"
[ -f "$T/etc/systemd/system/routerd-dpi-classifier.service" ] || fail "units not installed"
grep -qx "ExecStart=$P/bin/routerd-dpi-classifier daemon --config $T/etc/routerd/dpi.conf" \
	"$T/etc/systemd/system/routerd-dpi-classifier.service" || fail "unit ExecStart does not use the prefix/sysconfdir"
ok "installed to $P (routerd user, root:routerd modes, units for the temp prefix)"

# -- start the installed daemons directly (no supervisor), sockets in the temp dir
R=$T/run
mkdir -p "$R" "$T/log"
cfg=$T/etc/routerd/dpi.conf
start() { # name args...: start $P/bin/name detached, log to $T/log/name.log
	local n=$1
	shift
	setsid "$P/bin/$n" "$@" </dev/null >>"$T/log/$n.log" 2>&1 &
	echo $!
}
declare -A pid sock
sock[routerd-ndpi-agent]=$R/agent.sock
sock[routerd-dpi-classifier]=$R/cls.sock
sock[routerd-firewall-logger]=$R/logger.sock
pid[routerd-ndpi-agent]=$(start routerd-ndpi-agent daemon --config "$cfg" --socket "$R/agent.sock" --ipc "ipc://$R/agent.ipc")
pid[routerd-dpi-classifier]=$(start routerd-dpi-classifier daemon --config "$cfg" --engine auto \
	--socket "$R/cls.sock" --ipc "ipc://$R/cls.ipc" --ndpi-agent-socket "$R/agent.sock")
pid[routerd-firewall-logger]=$(start routerd-firewall-logger daemon --config "$cfg" --nflog-group 0 \
	--path "$T/var/lib/routerd/firewall-logs.db" --traffic-path "" --dpi-socket "$R/cls.sock" \
	--socket "$R/logger.sock" --ipc "ipc://$R/logger.ipc")
if [ "$console" = 1 ]; then
	sock[routerd-dpi-console]=$R/console.sock
	pid[routerd-dpi-console]=$(start routerd-dpi-console daemon --config "$cfg" --listen "$R/console.sock" \
		--firewall-db "$T/var/lib/routerd/firewall-logs.db" --traffic-db "$T/var/lib/routerd/traffic-flows.db" \
		--classifier-socket "$R/cls.sock" --agent-socket "$R/agent.sock" --logger-socket "$R/logger.sock")
fi
health() { # name -> HTTP code of its health endpoint ("000" when nothing answers)
	local path=/v1/healthz
	[ "$1" != routerd-dpi-console ] || path=/healthz
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 --unix-socket "${sock[$1]}" "http://unix$path" || true
}
healthy() { # name: 200; the agent may answer 503 when it has no libndpi (it says so itself)
	local c
	c=$(health "$1")
	[ "$c" = 200 ] || { [ "$1" = routerd-ndpi-agent ] && [ "$c" = 503 ]; }
}
wait_healthy() { # name deadline-seconds
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt "$end" ]; do
		healthy "$1" && return 0
		sleep 0.1
	done
	return 1
}
for n in "${!pid[@]}"; do
	wait_healthy "$n" 20 || { cat "$T/log/$n.log" >&2; fail "$n (pid ${pid[$n]}) does not answer its healthz: $(health "$n")"; }
done
[ $fails -eq 0 ] || exit 1
ok "installed daemons answer healthz: ${!pid[*]}"
declare -A argv0 start0
pstat() { # pid -> "STATE STARTTIME" from one read of /proc/<pid>/stat (empty when gone)
	local s f
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	read -r -a f <<<"${s##*) }" # the fields after "(comm) ": state is field 3, starttime field 22
	printf '%s %s\n' "${f[0]}" "${f[19]}"
}
starttime() { local s; s=$(pstat "$1"); printf '%s\n' "${s#* }"; }
for n in "${!pid[@]}"; do
	argv0[$n]=$(tr '\0' ' ' <"/proc/${pid[$n]}/cmdline")
	start0[$n]=$(starttime "${pid[$n]}")
done
# the same process (pid + start time: pids get reused on a busy machine), not a zombie; one read
# of stat (with two, a zombie reaped between them looked alive: CI failed on that once)
alive() { local s; s=$(pstat "$1"); [ -n "$s" ] && [ "${s% *}" != Z ] && [ "${s#* }" = "$2" ]; }

# -- upgrade without --restart-unsupervised: detected ("(deleted)"), reported, left running
inst --build-dir "$B2" >"$T/install2.log" 2>&1 || { cat "$T/install2.log" >&2; fail "upgrade install"; }
for n in "${!pid[@]}"; do
	cmp -s "$B2/services/"*"/$n" "$P/bin/$n" 2>/dev/null || cmp -s "$(ls "$B2"/services/*/"$n")" "$P/bin/$n" || fail "$n not upgraded"
	e=$(readlink "/proc/${pid[$n]}/exe" || true)
	[ "$e" = "$P/bin/$n (deleted)" ] || fail "$n: /proc/${pid[$n]}/exe is '$e', not the deleted old binary"
	grep -q "$n (pid ${pid[$n]}) runs without a supervisor and is out of date (binary replaced)" "$T/install2.log" ||
		fail "upgrade did not report $n (pid ${pid[$n]})"
	healthy "$n" || fail "$n was disturbed without --restart-unsupervised"
done
ok "upgrade: every running daemon detected through its '(deleted)' exe and reported, none touched"

# -- --restart-unsupervised: SIGTERM + start the new binary with the same argv
inst --build-dir "$B2" --restart-unsupervised >"$T/install3.log" 2>&1 || { cat "$T/install3.log" >&2; fail "restart install"; }
declare -A npid
for n in "${!pid[@]}"; do
	np=$(sed -n "s/^install.sh: $n: restarted, new pid \([0-9]*\)$/\1/p" "$T/install3.log")
	[ -n "$np" ] || { fail "$n: no restart reported"; continue; }
	npid[$n]=$np
	[ "$np" != "${pid[$n]}" ] || fail "$n: same pid after restart"
	end=$((SECONDS + 10))
	while alive "${pid[$n]}" "${start0[$n]}" && [ $SECONDS -lt $end ]; do sleep 0.1; done
	if alive "${pid[$n]}" "${start0[$n]}"; then
		fail "$n: old pid ${pid[$n]} still running"
		grep -E "^(\+ kill|install.sh)" "$T/install3.log" >&2 || true
		grep -E '^(State|PPid)' "/proc/${pid[$n]}/status" >&2 || true
		tail -5 "$T/log/$n.log" >&2
	fi
	wait_healthy "$n" 20 || { tail -5 "$T/log/$n.log" >&2; fail "$n: restarted pid $np does not answer healthz"; }
	e=$(readlink "/proc/$np/exe" || true)
	[ "$e" = "$P/bin/$n" ] || fail "$n: new pid runs '$e'"
	a=$(tr '\0' ' ' <"/proc/$np/cmdline")
	[ "$a" = "$P/bin/$n ${argv0[$n]#* }" ] || fail "$n: argv changed: '$a' vs '${argv0[$n]}'"
done
[ $fails -eq 0 ] && ok "--restart-unsupervised: new pids (${npid[*]}) run the new binaries with the same argv and answer healthz"
# a second run finds nothing to do
inst --build-dir "$B2" --restart-unsupervised >"$T/install4.log" 2>&1 || fail "idempotent install"
grep -q 'restarted, new pid' "$T/install4.log" && fail "a second install restarted up-to-date daemons"

# -- a config edit that changes a unit restarts that daemon ("unit changed"), and only it
sed -i '/^classifier[[:space:]]*=/,/^};/s/^\([[:space:]]*flowLimit[[:space:]]*=[[:space:]]*\)[0-9]*/\1400000/' "$cfg"
grep -q 'flowLimit = 400000' "$cfg" || fail "could not edit classifier.flowLimit in $cfg"
inst --build-dir "$B2" --restart-unsupervised >"$T/install5.log" 2>&1 || { cat "$T/install5.log" >&2; fail "reinstall after the edit"; }
grep -q "^MemoryMax=272M" "$T/etc/systemd/system/routerd-dpi-classifier.service" || fail "classifier unit not re-rendered for flowLimit 400000"
n=routerd-dpi-classifier
grep -q "$n (pid ${npid[$n]}, no supervisor): unit changed: restarting" "$T/install5.log" || fail "changed classifier unit did not restart it"
np=$(sed -n "s/^install.sh: $n: restarted, new pid \([0-9]*\)$/\1/p" "$T/install5.log")
[ "$(grep -c 'restarted, new pid' "$T/install5.log")" = 1 ] || fail "other daemons restarted for a classifier unit change"
if [ -n "$np" ]; then
	wait_healthy "$n" 20 || fail "$n after the unit-change restart does not answer healthz"
	npid[$n]=$np
fi
ok "a dpi.conf edit that changes the classifier unit restarts the classifier only (pid $np)"

# -- stop and uninstall
for n in "${!npid[@]}"; do kill -TERM "${npid[$n]}" 2>/dev/null || true; done
for n in "${!npid[@]}"; do
	end=$((SECONDS + 10))
	while [ -e "/proc/${npid[$n]}" ] && [ $SECONDS -lt $end ]; do sleep 0.1; done
	[ ! -e "/proc/${npid[$n]}" ] || fail "$n (pid ${npid[$n]}) did not stop on SIGTERM"
done
inst --uninstall --purge >"$T/uninstall.log" 2>&1 || { cat "$T/uninstall.log" >&2; fail "uninstall"; }
left=$(find "$P" "$T/etc" "$T/var" -type f 2>/dev/null | sed -n 1,5p)
[ -z "$left" ] || fail "files left after uninstall --purge: $left"
ok "stopped with SIGTERM; uninstall --purge removed everything it installed"

if [ $fails -ne 0 ]; then
	echo "test_install_root: $fails failure(s)" >&2
	exit 1
fi
echo "test_install_root: all checks passed"
