#!/usr/bin/env bash
# tools/render-nft.sh: values from a dpi.conf (firewallLog.nflogGroup, copyRange,
# acceptSampleRate), flag overrides, the sample match, the deny fragments, bad values; the
# rendered files are checked with `nft -c` in a private network namespace when root.
set -euo pipefail
src=${RDPI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
render=$src/tools/render-nft.sh
tmp=$(mktemp -d /tmp/rdpi-render.XXXXXX)
ns=
cleanup() {
	[ -z "$ns" ] || ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
# rule lines (comments dropped)
rules() { grep -v '^[[:space:]]*#' "$@" | grep 'log prefix' || true; }

# 1. defaults: the shipped file's values, no sample match
out=$("$render" --config /dev/null)
r=$(rules <<<"$out")
[ "$(wc -l <<<"$r")" = 1 ] || fail "one accept log rule expected: $r"
grep -q 'ct state { new, established } log prefix "routerd firewall forward accept " group 1 snaplen 2048$' <<<"$r" ||
	fail "default rule: $r"
grep -q numgen <<<"$r" && fail "no sampling by default: $r"
grep -q 'type filter hook forward priority filter + 10; policy accept;' <<<"$out" ||
	fail "hook/priority line missing"

# 2. from a dpi.conf: the project's own file with changed values; firewallLog.copyRange wins
# over classifier.copyRange; comments and ipc:// values do not confuse the parser
conf=$tmp/dpi.conf
sed -e 's/^\([[:space:]]*nflogGroup = \)[0-9]*;/\1 4242;/' \
	-e 's/^\([[:space:]]*acceptSampleRate = \)[0-9]*;/\1 5;/' "$src/conf/dpi.conf" >"$conf"
awk '/^firewallLog/ { f = 1 } f && /^[[:space:]]*copyRange =/ { sub(/= [0-9]+;/, "= 1400;"); f = 0 } 1' \
	"$conf" >"$conf.2" && mv "$conf.2" "$conf"
grep -q 'copyRange = 1400;' "$conf" || fail "test config not prepared"
r=$(rules <<<"$("$render" --config "$conf")")
grep -q 'ct state { new, established } numgen random mod 5 == 0 log prefix "routerd firewall forward accept " group 4242 snaplen 1400$' <<<"$r" ||
	fail "values from dpi.conf: $r"

# classifier.copyRange when firewallLog has none
cat >"$tmp/small.conf" <<'CONF'
# a minimal file
classifier = { copyRange = 512; engine = "builtin"; };  // trailing comment
firewallLog = {
	nflogGroup = 9;	/* block comment */
	dpiSocket = "ipc:///run/x.ipc";
};
CONF
r=$(rules <<<"$("$render" --config "$tmp/small.conf")")
grep -q 'group 9 snaplen 512$' <<<"$r" || fail "classifier.copyRange fallback: $r"

# copyRange as a libconfig size string
printf 'firewallLog = { copyRange = "1KiB"; nflogGroup = 3; };\n' >"$tmp/size.conf"
r=$(rules <<<"$("$render" --config "$tmp/size.conf")")
grep -q 'group 3 snaplen 1024$' <<<"$r" || fail "size string copyRange: $r"

# 3. flags override the file
r=$(rules <<<"$("$render" --config "$conf" --group 7 --snaplen 256 --sample-rate 1)")
grep -q '} log prefix "routerd firewall forward accept " group 7 snaplen 256$' <<<"$r" ||
	fail "flag overrides: $r"

# 4. --out-dir: every fragment, deny prefixes with the same group/snaplen, comments intact
"$render" --config /dev/null --group 33 --snaplen 1024 --out-dir "$tmp/out"
for f in routerd-dpi.nft routerd-dpi-input-deny.nft routerd-dpi-forward-deny.nft; do
	[ -s "$tmp/out/$f" ] || fail "$f not rendered"
	cmp -s <(grep '^[[:space:]]*#' "$src/conf/nftables/$f") <(grep '^[[:space:]]*#' "$tmp/out/$f") ||
		fail "$f: comments changed"
done
[ "$(rules "$tmp/out/routerd-dpi-input-deny.nft")" = 'log prefix "routerd firewall input deny " group 33 snaplen 1024' ] ||
	fail "input deny: $(rules "$tmp/out/routerd-dpi-input-deny.nft")"
[ "$(rules "$tmp/out/routerd-dpi-forward-deny.nft")" = 'log prefix "routerd firewall forward deny " group 33 snaplen 1024' ] ||
	fail "forward deny: $(rules "$tmp/out/routerd-dpi-forward-deny.nft")"

# 5. bad values are refused with a message, nothing on stdout
for args in "--group 0" "--group 65536" "--snaplen 63" "--snaplen x" "--sample-rate 0" \
	"--config $tmp/missing.conf" "--bogus 1"; do
	# shellcheck disable=SC2086
	if "$render" --config /dev/null $args >"$tmp/o" 2>"$tmp/e"; then
		fail "accepted $args"
	fi
	[ -s "$tmp/o" ] && fail "output for $args"
	grep -q render-nft "$tmp/e" || fail "no message for $args"
done

# 6. real nft accepts what was rendered (root only: nft -c needs netlink)
if [ "$(id -u)" = 0 ] && command -v nft >/dev/null && command -v ip >/dev/null; then
	ns=rdpi-render-$$
	ip netns add "$ns"
	"$render" --config "$conf" --out-dir "$tmp/chk"
	ip netns exec "$ns" nft -c -f "$tmp/chk/routerd-dpi.nft" || fail "nft -c rejected the fragment"
	cat >"$tmp/op.nft" <<NFT
table inet rdpi_op {
	chain input {
		type filter hook input priority filter; policy drop;
		include "$tmp/chk/routerd-dpi-input-deny.nft"
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		include "$tmp/chk/routerd-dpi-forward-deny.nft"
	}
}
NFT
	ip netns exec "$ns" nft -c -f "$tmp/op.nft" || fail "nft -c rejected the deny includes"
else
	echo "note: not root or no nft: nft -c check of the rendered files skipped"
fi

if [ "$fails" -gt 0 ]; then
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "render-nft: all checks passed"
