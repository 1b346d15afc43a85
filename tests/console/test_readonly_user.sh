#!/usr/bin/env bash
# The console as an installed system runs it: another user than the logger, with read access
# to /var/lib/routerd (group, setgid directory, files 0640) and no write access. It must read
# the WAL databases while the logger runs (through the logger's -shm) and while it is stopped
# (no -shm, which the console cannot create), and see new rows after the logger restarts.
set -euo pipefail
bin=${RDPI_BINARY_DIR:?}
L=$bin/services/logger/routerd-firewall-logger
C=$bin/services/console/routerd-dpi-console
[ -x "$L" ] && [ -x "$C" ] || { echo "FAIL: logger or console not built" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (runs the console as user nobody against root-owned files)"
  exit 77
fi
T=$(mktemp -d /tmp/console-ro-XXXXXX)
lpid= cpid=
cleanup() {
  [ -n "$cpid" ] && kill "$cpid" 2>/dev/null && { wait "$cpid" 2>/dev/null || true; }
  [ -n "$lpid" ] && kill "$lpid" 2>/dev/null && { wait "$lpid" 2>/dev/null || true; }
  exec 7>&- 2>/dev/null || true
  rm -rf "$T"
  return 0
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -5 "$T"/*.log >&2 || true; exit 1; }
chmod 755 "$T"
mkdir "$T/lib" "$T/run"
chgrp nogroup "$T/lib"
chmod 2750 "$T/lib"
mkfifo "$T/in.fifo"
# the checkout may sit below a directory nobody cannot enter: run a copy of the binary
install -m 0755 "$C" "$T/routerd-dpi-console"
C=$T/routerd-dpi-console
db=$T/lib/firewall-logs.db
n=0
logger_start() {
  (umask 027; exec "$L" --nflog-group 0 --input-file "$T/in.fifo" --input-format kv --path "$db" \
    --dpi-socket '' --socket "$T/run/l.sock" --ipc "ipc://$T/run/l.ipc" 2>>"$T/logger.log") &
  lpid=$!
  exec 7<>"$T/in.fifo"
}
logger_stop() { kill "$lpid"; wait "$lpid" || true; lpid=; exec 7>&-; }
deny() {
  n=$((n + 1))
  echo "Nov 27 04:00:0$n gw kernel: routerd firewall input deny IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=60 PROTO=TCP SPT=$((40000 + n)) DPT=22 SYN" >&7
}
total() {
  curl -sf "http://127.0.0.1:$port/api/v1/firewall-logs?since=30d" | jq -r '"\(.total) \(.errors | length)"' || true
}
# The waits below poll up to 200 times, 0.1 s apart (20 s and more): the ASan logger and
# console start, read the FIFO and commit slowly on a loaded machine.
wait_total() { # want
  local i got
  for i in $(seq 200); do got=$(total); [ "$got" = "$1 0" ] && return 0; sleep 0.1; done
  fail "firewall-logs total: want '$1 0' (total, errors), got '$got'"
}

logger_start
deny
deny
for _ in $(seq 200); do [ -s "$db-wal" ] && break; sleep 0.1; done
port=$((30000 + $$ % 20000))
console_start() {
  runuser -u nobody -- "$C" --config /dev/null --listen "127.0.0.1:$port" --firewall-db "$db" \
    --traffic-db "$T/lib/traffic-flows.db" --classifier-socket '' --agent-socket '' \
    --logger-socket '' --cache-ttl 0s 2>>"$T/console.log" &
  cpid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
}
console_stop() { kill "$cpid"; wait "$cpid" || true; cpid=; }

console_start
wait_total 2
echo "ok: read while the logger runs (files $(stat -c '%U:%G %a' "$db"))"
logger_stop
wait_total 2
echo "ok: still read after the logger stopped"
console_stop
# a logger run without the console attached removes its -wal/-shm on exit
logger_start
deny
for _ in $(seq 200); do [ "$(sqlite3 "file:$db?mode=ro" 'SELECT count(*) FROM firewall_logs' 2>/dev/null)" = 3 ] && break; sleep 0.1; done
logger_stop
[ ! -e "$db-shm" ] || fail "$db-shm still there after the logger stopped"
console_start
wait_total 3
echo "ok: read with the logger stopped and no -shm (which the console cannot create)"
logger_start
deny
wait_total 4
echo "ok: the restarted logger's new row is seen"
logger_stop
wait_total 4
leftover=$(find "$T/lib" -user nobody)
[ -z "$leftover" ] || fail "the console created files: $leftover"
console_stop
echo "PASS"
