#!/usr/bin/env bash
# Real-browser test of the routerd-dpi-console web page: generates test databases, starts the
# real console on a loopback port, loads the page in headless Debian chromium and checks the
# rendered numbers against the JSON API, HTML escaping of packet-derived names, that the page
# requests nothing but the console, and saves a screenshot under $RDPI_BINARY_DIR/artifacts/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM=${RDPI_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	echo "SKIP: $CHROMIUM not installed (apt-get install chromium, or run tools/deps.sh)"
	exit 77
fi

console_test_init console-browser jq sqlite3 curl

XSS='<img src=x onerror=alert(1)>'
XSS_ESC='&lt;img src=x onerror=alert(1)&gt;'
XSS2='"><script>document.title="pwned"</script>'
XSS_CLIENT=10.99.0.7

# ---- databases: generated through the logger's schema, plus hostile names ------------------
NOW=$(date +%s)
FW=$TMP/firewall-logs.db
TF=$TMP/traffic-flows.db
"$GENDB" --firewall-db "$FW" --traffic-db "$TF" --flows 2000 --logs 600 --seed 7 --now $((NOW - 120)) \
	>"$TMP/gendb.log" 2>&1 || { cat "$TMP/gendb.log"; fail "gendb failed"; }
NS=$(((NOW - 60) * 1000000000)) # newer than every generated row: first in both tables
sqlite3 "$TF" "INSERT INTO flows (flow_key, ts_started, ts_ended, client_address, client_port,
	peer_address, peer_port, protocol, bytes_out, bytes_in, packets_out, packets_in, app_name,
	app_confidence, source, engine, tls_sni, resolved_hostname)
	VALUES ('xss-$$', $NS, $NS, '$XSS_CLIENT', 40123, '203.0.113.66', 443, 'tcp', 1234, 56789,
	3, 5, 'tls', 80, 'builtin-payload', 'builtin', '$XSS2', '$XSS');" ||
	fail "cannot insert the hostile flow"
sqlite3 "$FW" "INSERT INTO firewall_logs (ts, zone_from, zone_to, rule_name, action, src_address,
	src_port, dst_address, dst_port, protocol, l3_proto, packet_bytes, dpi_app, dpi_tls_sni,
	dpi_http_host) VALUES ($NS, 'wan', 'lan', 'drop-in', 'drop', '203.0.113.66', 443,
	'$XSS_CLIENT', 40123, 'tcp', 'ipv4', 60, 'tls', '$XSS2', '$XSS');" || fail "cannot insert the hostile firewall row"
FLOWS_IN_DB=$(sqlite3 "$TF" "SELECT count(*) FROM flows")

# ---- the real console on a free loopback port --------------------------------------------
console_start "$CONSOLE" "$FW" "$TF" "$TMP" || { cat "$TMP/console.log"; fail "console did not come up"; }
BASE=http://127.0.0.1:$PORT
echo "console on $BASE (pid $CPID), $FLOWS_IN_DB flows in the test db"
# the page and the later API calls must see the same probe results: wait for the first probes
deadline=$((SECONDS + 20))
until curl -fsS -m 5 "$BASE/api/v1/summary?since=1h" |
	jq -e '.dpi.classifier.checkedAt and .dpi.agent.checkedAt and .dpi.logger.checkedAt' >/dev/null; do
	[ $SECONDS -lt $deadline ] || fail "the console never probed the DPI daemons"
	sleep 0.2
done

api() {
	curl -fsS -m 10 "$BASE/api/v1/$1" || fail "GET /api/v1/$1"
}

# ---- headless chromium -------------------------------------------------------------------
# Background features are off and every name resolves to nothing, so the browser itself
# cannot reach anything but the loopback console.
chromium_run() { # <tag> <chromium action args...> (URL last)
	local tag=$1
	shift
	HOME=$TMP timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-default-apps --disable-extensions --no-pings --disable-domain-reliability \
		--disable-client-side-phishing-detection --disable-spell-checking \
		--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate \
		--host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' \
		--user-data-dir="$TMP/profile-$tag" --log-net-log="$TMP/net-$tag.json" \
		--virtual-time-budget=5000 "$@" 2>"$TMP/chromium-$tag.log"
}

load_dom() { # <tag> <url> -> $TMP/dom-<tag>.html, flattened to one line
	echo "chromium: $2" >&2
	local tag=$1 url=$2
	chromium_run "$tag" --dump-dom "$url" >"$TMP/dom-$tag.raw" ||
		{ tail -20 "$TMP/chromium-$tag.log"; fail "chromium --dump-dom $url"; }
	tr '\n' ' ' <"$TMP/dom-$tag.raw" >"$TMP/dom-$tag.html"
	grep -q '<body data-ready="1"' "$TMP/dom-$tag.html" ||
		{ head -c 3000 "$TMP/dom-$tag.html"; fail "page $url did not finish rendering"; }
}

# Values rendered by the page. use_dom splits the one-line DOM once: $TMP/tags holds every
# start tag that has an id (with the text right after it), $TMP/tables one <table> per line.
DOM=
use_dom() { # <tag>
	DOM=$(cat "$TMP/dom-$1.html")
	grep -o '<[a-zA-Z][a-zA-Z0-9]* [^>]*id="[^"]*"[^>]*>[^<]*' <<<"$DOM" >"$TMP/tags" || true
	sed 's/<table /\n<table /g' <<<"$DOM" | grep '^<table id=' | sed 's/<\/table>.*//' >"$TMP/tables" || true
}
tagof() { grep -m1 " id=\"$1\"" "$TMP/tags" || true; }
dval() { tagof "$1" | sed -n 's/.*data-value="\([^"]*\)".*/\1/p'; }
dtext() { tagof "$1" | sed -n 's/.*>\([^<]*\)$/\1/p'; }
dattr() { tagof "$1" | sed -n "s/.* $2=\"\([^\"]*\)\".*/\1/p"; }
table() { grep -m1 "^<table id=\"$1\"" "$TMP/tables" || true; }
numeq() { awk -v a="$1" -v b="$2" -v t="${3:-1e-9}" \
	'BEGIN { if (a == "" || b == "") exit 1; d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
check_eq() { # <what> <page> <api>
	[ "$2" = "$3" ] || fail "$1: page shows '$2', API says '$3'"
}
check_num() { # <what> <page> <api> [tolerance]
	numeq "$2" "$3" "${4:-1e-9}" || fail "$1: page shows '$2', API says '$3'"
}

# Only the console may be contacted on behalf of the page (the main frame and everything it
# initiates); the browser's own background requests have no page initiator.
check_requests() { # <tag>
	local net=$TMP/net-$1.json bad n
	[ -s "$net" ] || fail "no net log from chromium"
	bad=$(grep '"method":' "$net" | grep -E "\"initiator\":\"http[^\"]*\"|\"request_type\":\"main frame\"" |
		grep -o '"url":"[^"]*"' | grep -v "\"url\":\"$BASE/" || true)
	[ -z "$bad" ] || fail "page requested something other than the console: $bad"
	n=$(grep '"method":' "$net" | grep -c "\"initiator\":\"$BASE\".*\"url\":\"$BASE/api/v1/" || true)
	[ "$n" -ge 4 ] || fail "page made $n API requests, expected >= 4"
}

# ---- 1: the default view (7 days, so no generated row sits on the window edge) ------------
load_dom main "$BASE/#since=7d"
use_dom main
api "summary?since=7d" >"$TMP/summary.json"
api "traffic-flows?since=7d&limit=50&offset=0" >"$TMP/flows.json"
api "clients?window=7d&limit=50" >"$TMP/clients.json"
api "firewall-logs?since=7d&action=deny&limit=50&offset=0" >"$TMP/fw.json"
S=$TMP/summary.json

# source ratios, both bars: raw value and the printed percentage
sum=0
for k in ndpi-agent builtin-payload dns-cache sni-cache port-fallback unidentified; do
	for by in Flows Bytes; do
		id=ratio-$k
		[ $by = Bytes ] && id=ratio-bytes-$k
		want=$(jq -r ".sourceRatios.by$by[\"$k\"]" "$S")
		got=$(dval "$id")
		check_num "$id" "$got" "$want"
		txt=$(dtext "$id")
		[[ $txt =~ ^[0-9]+\.[0-9]%$ ]] || fail "$id text '$txt' is not a percentage"
		check_num "$id text" "${txt%\%}" "$(awk -v f="$want" 'BEGIN { printf "%.4f", f * 100 }')" 0.051
	done
	sum=$(awk -v a="$sum" -v b="$(dval "ratio-$k")" 'BEGIN { print a + b }')
done
check_num "ratio sum" "$sum" 1 1e-6
check_num "summary flows" "$(dval summary-flows)" "$(jq .flows "$S")"
check_num "summary flows vs db" "$(dval summary-flows)" "$FLOWS_IN_DB"
check_num "summary bytes" "$(dval summary-bytes)" "$(jq .bytes "$S")"
seg=$(table ratio-legend | grep -o '<tr data-source="[^"]*"' | wc -l)
[ "$seg" -eq 6 ] || fail "ratio legend has $seg rows, expected 6"
grep -q 'id="ratio-bar-flows"[^>]*><div class="seg src-' <<<"$DOM" || fail "flows ratio bar is empty"

# health: reachability from the probes (no daemon is running, so all are down)
for s in classifier agent logger; do
	want=$(jq -r ".dpi.$s.reachable" "$S")
	check_eq "health-$s reachable" "$(dattr "health-$s" data-reachable)" "$want"
done
check_eq "classifier reachable" "$(jq -r .dpi.classifier.reachable "$S")" false
# the errors banner shows what the API reported
nerr=$(jq '.errors | length' "$S")
[ "$nerr" -gt 0 ] || fail "summary reports no errors although no DPI daemon runs"
all_err=$(jq -s '[.[].errors[]] | unique | length' "$S" "$TMP/flows.json" "$TMP/clients.json" "$TMP/fw.json")
check_eq "errors banner entries" "$(dattr errors data-count)" "$all_err"
grep -q '<div id="errors"[^>]* hidden' <<<"$DOM" && fail "errors banner is hidden"
first_err=$(jq -r '.errors[0]' "$S" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g')
grep -qF "<li>$first_err</li>" <<<"$DOM" || fail "error '$first_err' not in the banner"

# top apps, in order
check_eq "top apps" "$(table top-apps | grep -o '<tr data-app="[^"]*"' | sed 's/.*="//; s/"$//')" \
	"$(jq -r '.topApps[] | .app // ""' "$S")"
check_eq "top talkers" "$(table top-talkers | grep -o '<tr data-client="[^"]*"' | sed 's/.*="//; s/"$//')" \
	"$(jq -r '.topTalkers[] | .client // ""' "$S")"

# flows table: total, the page of rows in API order, first row is the hostile flow
F=$TMP/flows.json
check_num "flows-total" "$(dval flows-total)" "$(jq .total "$F")"
check_num "flows-total vs db" "$(dval flows-total)" "$FLOWS_IN_DB"
keys=$(table flows-table | grep -o '<tr data-flow-key="[^"]*"' | sed 's/.*="//; s/"$//')
check_eq "flow rows" "$keys" "$(jq -r '.flows[].flowKey' "$F")"
[ "$(wc -l <<<"$keys")" -eq 50 ] || fail "flows table shows $(wc -l <<<"$keys") rows, expected 50"
check_eq "first flow key" "$(head -1 <<<"$keys")" "xss-$$"
check_eq "flow sources" "$(table flows-table | grep -o '<tr [^>]*data-source="[^"]*"' | sed 's/.*data-source="//; s/"$//')" \
	"$(jq -r '.flows[] | .source // ""' "$F")"
check_eq "source badges" "$(table flows-table | grep -o '<span class="badge src-' | wc -l)" 50
first_client=$(table flows-table | grep -o '<td class="client">[^<]*' | sed -n '1s/.*>//p')
check_eq "first flow client" "$first_client" "$(jq -r '.flows[0] | "\(.clientAddress):\(.clientPort)"' "$F")"
check_eq "flows-range" "$(dattr flows-range data-count)" "50"
grep -q "<td class=\"proto\"[^>]*>$(jq -r '.flows[0].displayProtocol' "$F")</td>" <<<"$(table flows-table)" ||
	fail "first flow's displayProtocol not shown"

# clients: one row (with a 24-bar chart) per client, same order as the API
C=$TMP/clients.json
check_num "client-count" "$(dval client-count)" "$(jq '.clients | length' "$C")"
ct=$(table clients-table)
check_eq "client rows" "$(grep -o '<tr data-client="[^"]*"' <<<"$ct" | sed 's/.*="//; s/"$//')" \
	"$(jq -r '.clients[].client' "$C")"
ncl=$(jq '.clients | length' "$C")
[ "$ncl" -gt 1 ] || fail "only $ncl clients"
[ "$(grep -o 'data-bars="24"' <<<"$ct" | wc -l)" -eq "$ncl" ] || fail "not every client has a 24-bar chart"
check_eq "hourly bytes" "$(grep -o 'data-values="[^"]*"' <<<"$ct" | sed 's/.*="//; s/"$//')" \
	"$(jq -r '.clients[] | [.hourly[].bytes | tostring] | join(",")' "$C")"
[ "$(grep -o '<path d="M' <<<"$ct" | wc -l)" -ge "$ncl" ] || fail "hourly charts have no bars"
grep -q "<tr data-client=\"$XSS_CLIENT\"" <<<"$ct" || fail "client $XSS_CLIENT missing"

# firewall denies
W=$TMP/fw.json
check_num "fw-total" "$(dval fw-total)" "$(jq .total "$W")"
check_num "fw-denies" "$(dval fw-denies)" "$(jq .firewall.denies "$S")"
check_eq "firewall rows" "$(table fw-table | grep -o '<tr data-log-id="[^"]*"' | sed 's/.*="//; s/"$//')" \
	"$(jq -r '.logs[].id' "$W")"
[ "$(jq '.logs | length' "$W")" -gt 0 ] || fail "no firewall rows to show"
ft=$(table fw-table)
for c in orphan_return true_suspicious; do
	check_eq "$c badges" "$(grep -o "class=\"badge corr-$c\"" <<<"$ft" | wc -l)" \
		"$(jq "[.logs[] | select(.correlation == \"$c\")] | length" "$W")"
done
check_eq "cache-hit badges" "$(grep -o 'class="badge cachehit"' <<<"$ft" | wc -l)" \
	"$(jq '[.logs[] | select(.cacheHit)] | length' "$W")"

# hostile names: shown as text, never parsed as markup
grep -qF ">$XSS_ESC<" <<<"$DOM" || fail "hostile hostname not shown as text"
tags_only=$(sed 's/="[^"]*"//g' <<<"$DOM") # drop attribute values, where '<' is just data
grep -qi '<img' <<<"$tags_only" && fail "hostile hostname became an <img> element"
[ "$(grep -oi '<script' <<<"$tags_only" | wc -l)" -eq 1 ] || fail "an injected <script> element exists"
grep -q '<title>routerd-dpi console</title>' <<<"$DOM" || fail "page title changed"
grep -qF '&lt;script&gt;document.title=' <<<"$DOM" || fail "hostile SNI not shown as text"

check_requests main
# the assets themselves reference nothing outside the console (the SVG namespace is a name)
for a in "" app.js style.css; do
	curl -fsS -m 10 -o "$TMP/asset" "$BASE/$a" || fail "GET /$a"
	ext=$(grep -oE 'https?://[^"'"'"' )]*' "$TMP/asset" | grep -v '^http://www.w3.org/2000/svg$' || true)
	[ -z "$ext" ] || fail "/$a references $ext"
done
echo "ok: default view matches the API ($FLOWS_IN_DB flows, $ncl clients)"

# ---- 2: a filtered, paged view (client filter from the URL, second page of one source) ----
load_dom client "$BASE/#since=7d&client=$XSS_CLIENT"
use_dom client
want=$(api "traffic-flows?since=7d&client=$XSS_CLIENT&limit=50" | jq .total)
check_num "client filter total" "$(dval flows-total)" "$want"
check_eq "client filter rows" "$(table flows-table | grep -o '<tr data-flow-key="[^"]*"' | sed 's/.*="//; s/"$//')" \
	"xss-$$"
others=$(table flows-table | grep -o '<tr [^>]*data-client="[^"]*"' | grep -vc "data-client=\"$XSS_CLIENT\"" || true)
[ "$others" -eq 0 ] || fail "$others rows of another client in the client view"
check_requests client

load_dom page2 "$BASE/#since=7d&source=dns-cache&offset=50"
use_dom page2
api "traffic-flows?since=7d&source=dns-cache&limit=50&offset=50" >"$TMP/page2.json"
check_num "dns-cache total" "$(dval flows-total)" "$(jq .total "$TMP/page2.json")"
check_eq "dns-cache page 2" "$(table flows-table | grep -o '<tr data-flow-key="[^"]*"' | sed 's/.*="//; s/"$//')" \
	"$(jq -r '.flows[].flowKey' "$TMP/page2.json")"
check_eq "dns-cache offset" "$(dattr flows-range data-offset)" 50
others=$(table flows-table | grep -o '<tr [^>]*data-source="[^"]*"' | grep -vc 'data-source="dns-cache"' || true)
[ "$others" -eq 0 ] || fail "$others rows of another source in the dns-cache view"
[ "$(jq .total "$TMP/page2.json")" -gt 50 ] || fail "too few dns-cache flows for a second page"
echo "ok: filtered and paged views match the API"

# ---- 3: screenshot artifact ----------------------------------------------------------------
mkdir -p "$ART"
rm -f "$ART/console-page.png"
chromium_run shot --hide-scrollbars --window-size=1400,2000 --screenshot="$ART/console-page.png" \
	"$BASE/#since=7d" >/dev/null || { tail -20 "$TMP/chromium-shot.log"; fail "chromium --screenshot"; }
[ "$(head -c 8 "$ART/console-page.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "$ART/console-page.png is not a PNG"
size=$(stat -c %s "$ART/console-page.png")
[ "$size" -gt 20000 ] || fail "screenshot is only $size bytes"
echo "ok: screenshot $ART/console-page.png ($size bytes)"
console_test_finish
