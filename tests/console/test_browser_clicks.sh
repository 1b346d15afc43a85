#!/usr/bin/env bash
# Real-browser interaction test of the routerd-dpi-console web page: generates test databases,
# starts the real console on a loopback port and lets tests/console/cdp.py drive the page in
# headless Debian chromium over the DevTools protocol (real mouse clicks and key presses):
# flow and firewall paging, the window selector, the source / app filters and Clear, clicking a
# client, and the hourly-chart tooltip, each checked against the console's JSON API.
set -euo pipefail

CHROMIUM=${RDPI_CHROMIUM:-/usr/bin/chromium}
PYTHON=/usr/bin/python3 # Debian's, not a pyenv one on PATH: cdp.py needs the stdlib only
if [ ! -x "$CHROMIUM" ]; then
	echo "SKIP: $CHROMIUM not installed (apt-get install chromium, or run tools/deps.sh)"
	exit 77
fi
if [ ! -x "$PYTHON" ]; then
	echo "SKIP: $PYTHON not installed (apt-get install python3)"
	exit 77
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

console_test_init console-clicks sqlite3 curl

# ---- databases ---------------------------------------------------------------------------
NOW=$(date +%s)
FW=$TMP/firewall-logs.db
TF=$TMP/traffic-flows.db
"$GENDB" --firewall-db "$FW" --traffic-db "$TF" --flows 2000 --logs 600 --seed 7 --now $((NOW - 120)) \
	>"$TMP/gendb.log" 2>&1 || { cat "$TMP/gendb.log"; fail "gendb failed"; }
# The page and the API are asked a few seconds apart, and the 1 h / 24 h windows slide. No row
# may sit where a window edge moves during the test: drop the rows within 10 minutes of
# now-1h and now-24h, so every window holds the same rows for the whole run.
gap() { # <seconds ago> -> SQL range condition on ts (unix ns)
	echo "BETWEEN $(((NOW - $1 - 600) * 1000000000)) AND $(((NOW - $1 + 600) * 1000000000))"
}
sqlite3 "$TF" "DELETE FROM flows WHERE ts_started $(gap 3600) OR ts_started $(gap 86400);" ||
	fail "cannot thin the flows at the window edges"
sqlite3 "$FW" "DELETE FROM firewall_logs WHERE ts $(gap 3600) OR ts $(gap 86400);" ||
	fail "cannot thin the firewall logs at the window edges"

# ---- the real console on a free loopback port --------------------------------------------
console_start "$CONSOLE" "$FW" "$TF" "$TMP" || { cat "$TMP/console.log"; fail "console did not come up"; }
BASE=http://127.0.0.1:$PORT
echo "console on $BASE (pid $CPID)"

# ---- the browser scenario ----------------------------------------------------------------
# cdp.py has its own deadlines and kills chromium on every exit path; the timeout is a backstop.
rc=0
HOME=$TMP timeout -k 10 120 "$PYTHON" "$HERE/cdp.py" --base "$BASE" --chromium "$CHROMIUM" \
	--tmp "$TMP" --artifacts "$ART" || rc=$?
[ "$rc" -eq 0 ] || fail "browser scenario failed (exit $rc)"

console_test_finish
