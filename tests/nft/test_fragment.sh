#!/usr/bin/env bash
# conf/nftables/routerd-dpi.nft loaded for real (root): rendered with a test group, `nft -c -f`
# and `nft -f` (twice: re-loading replaces, never duplicates) in a fresh network namespace;
# the chain hooks forward after the filter priority with policy accept, its only rule logs
# new/established packets with the legacy prefix, group and snaplen, and no rule holds a
# verdict; the sample-rate variant; the deny fragments included inside an operator's chains.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (nft in a private network namespace)"
	exit 77
fi
for t in nft ip jq; do
	if ! command -v "$t" >/dev/null; then
		echo "skipped: $t not installed"
		exit 77
	fi
done
src=${RDPI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
render=$src/tools/render-nft.sh
ns=rdpi-nftfrag-$$
tmp=$(mktemp -d /tmp/rdpi-nftfrag.XXXXXX)
created=0
cleanup() {
	[ "$created" = 0 ] || ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
if ! ip netns add "$ns" 2>/dev/null; then
	echo "skipped: ip netns add failed (no network namespaces here)"
	exit 77
fi
created=1
nsnft() { ip netns exec "$ns" nft "$@"; }

fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
group=$((4000 + $$ % 1000))

# The table as JSON: chain attributes, rules' expressions.
check_table() { # label sample_rate
	local label=$1 rate=$2 js
	js=$(nsnft -j list table inet routerd_dpi)
	local chains
	chains=$(jq -c '[.nftables[] | select(.chain) | .chain | {name, type, hook, prio, policy}]' <<<"$js")
	[ "$chains" = '[{"name":"forward","type":"filter","hook":"forward","prio":10,"policy":"accept"}]' ] ||
		fail "$label: chains $chains"
	local nrules
	nrules=$(jq '[.nftables[] | select(.rule)] | length' <<<"$js")
	[ "$nrules" = 1 ] || fail "$label: $nrules rules (want 1)"
	# no verdict of any kind in any rule (verdicts are objects keyed accept/drop/...)
	local verdicts
	verdicts=$(jq -c '[.nftables[] | select(.rule) | .rule.expr[] | keys[] |
		select(IN("accept", "drop", "reject", "queue", "jump", "goto", "return", "continue"))]' <<<"$js")
	[ "$verdicts" = '[]' ] || fail "$label: verdicts in rules: $verdicts"
	local log
	log=$(jq -c '[.nftables[] | select(.rule) | .rule.expr[] | select(.log) | .log]' <<<"$js")
	[ "$log" = "[{\"prefix\":\"routerd firewall forward accept \",\"group\":$group,\"snaplen\":1500}]" ] ||
		fail "$label: log $log"
	local states
	states=$(jq -c '[.nftables[] | select(.rule) | .rule.expr[] | select(.match.left.ct.key == "state") | .match.right.set | sort]' <<<"$js")
	[ "$states" = '[["established","new"]]' ] || fail "$label: ct state match $states"
	local ng
	ng=$(jq -c '[.nftables[] | select(.rule) | .rule.expr[] | select(.match.left.numgen) | [.match.left.numgen.mode, .match.left.numgen.mod, .match.right]]' <<<"$js")
	if [ "$rate" -gt 1 ]; then
		[ "$ng" = "[[\"random\",$rate,0]]" ] || fail "$label: numgen $ng"
	else
		[ "$ng" = '[]' ] || fail "$label: unexpected numgen $ng"
	fi
	# the text listing says the same (what an operator sees)
	# (listing captured first: grep -q closing the pipe early would fail it under pipefail)
	local listing
	listing=$(nsnft list chain inet routerd_dpi forward)
	grep -q 'type filter hook forward priority filter + 10; policy accept;' <<<"$listing" ||
		fail "$label: listing lacks the hook line"
}

# 1. the plain fragment
"$render" --config /dev/null --group "$group" --snaplen 1500 --out-dir "$tmp/plain"
nsnft -c -f "$tmp/plain/routerd-dpi.nft" || fail "nft -c -f rejected the fragment"
nsnft -f "$tmp/plain/routerd-dpi.nft" || fail "nft -f failed"
check_table plain 1
nsnft -f "$tmp/plain/routerd-dpi.nft" || fail "second nft -f failed"
check_table reloaded 1
[ "$(nsnft list tables | grep -c 'table inet routerd_dpi')" = 1 ] || fail "table duplicated"

# 2. the sample-rate variant replaces it
"$render" --config /dev/null --group "$group" --snaplen 1500 --sample-rate 4 --out-dir "$tmp/sampled"
nsnft -c -f "$tmp/sampled/routerd-dpi.nft" || fail "nft -c -f rejected the sampled fragment"
nsnft -f "$tmp/sampled/routerd-dpi.nft" || fail "nft -f (sampled) failed"
check_table sampled 4
grep -q 'numgen random mod 4 ' <<<"$(nsnft list chain inet routerd_dpi forward)" || fail "sampled listing"

# 3. the include line an operator puts in /etc/nftables.conf, and the deny fragments inside
# his own policy-drop chains (the operator's table keeps his verdicts; ours adds none)
cat >"$tmp/nftables.conf" <<NFT
flush ruleset
table inet operator {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		include "$tmp/plain/routerd-dpi-input-deny.nft"
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		include "$tmp/plain/routerd-dpi-forward-deny.nft"
	}
}
include "$tmp/plain/routerd-dpi.nft"
NFT
nsnft -c -f "$tmp/nftables.conf" || fail "nft -c rejected an nftables.conf with the includes"
nsnft -f "$tmp/nftables.conf" || fail "nft -f nftables.conf failed"
check_table included 1
js=$(nsnft -j list table inet operator)
for c in input forward; do
	last=$(jq -c --arg c "$c" '[.nftables[] | select(.rule) | .rule | select(.chain == $c) | .expr] | last' <<<"$js")
	[ "$last" = "[{\"log\":{\"prefix\":\"routerd firewall $c deny \",\"group\":$group,\"snaplen\":1500}}]" ] ||
		fail "operator $c: last rule $last"
done
# the forward hook now has both chains, ours after the operator's
prios=$(nsnft -j list chains | jq -c '[.nftables[] | select(.chain.hook == "forward") | .chain | [.table, .prio]] | sort_by(.[1])')
[ "$prios" = '[["operator",0],["routerd_dpi",10]]' ] || fail "forward hook order $prios"

# 4. the shipped file itself (default values) loads as is
nsnft -c -f "$src/conf/nftables/routerd-dpi.nft" || fail "shipped fragment rejected"

if [ "$fails" -gt 0 ]; then
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "nft fragment: all checks passed (group $group)"
