#!/usr/bin/env bash
# conf/dpi.conf against every daemon's own config table:
#  - each daemon's --check-config accepts the shipped file (with the other daemons' sections);
#  - the file lists every key of every daemon (compared with the daemon's --print-config, or for
#    the console, while it has no --print-config, with the key table in its main.c), and
#    nothing more;
#  - each daemon's --print-config of the shipped file equals its defaults (the file documents
#    the defaults), except the deliberate choices in NOT_DEFAULT;
#  - a copy with an unknown key or an out-of-range value in a section makes the owning daemon
#    exit non-zero naming file:line, while the daemons that do not own it still accept the copy.
set -uo pipefail

src=${RDPI_SOURCE_DIR:?RDPI_SOURCE_DIR not set}
bin=${RDPI_BINARY_DIR:?RDPI_BINARY_DIR not set}
conf=$src/conf/dpi.conf
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rdpi-conf.$$.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
ok() { echo "ok: $*"; }

[ -f "$conf" ] || {
	echo "FAIL: $conf missing" >&2
	exit 1
}

# daemon name -> binary, sections it owns
declare -A BIN SECS
BIN[classifier]=$bin/services/classifier/routerd-dpi-classifier
SECS[classifier]="classifier"
BIN[agent]=$bin/services/agent/routerd-ndpi-agent
SECS[agent]="agent"
BIN[logger]=$bin/services/logger/routerd-firewall-logger
SECS[logger]="firewallLog flows"
daemons=(classifier agent logger)
if [ -d "$src/services/console" ]; then
	BIN[console]=$bin/services/console/routerd-dpi-console
	SECS[console]="console"
	daemons+=(console)
fi
# a daemon whose sources exist must be built: fail (never skip), and check the others anyway
built=()
for d in "${daemons[@]}"; do
	if [ -x "${BIN[$d]}" ]; then
		built+=("$d")
	else
		fail "$d: ${BIN[$d]} not built (its source directory exists)"
	fi
done
daemons=("${built[@]}")

# Values the shipped file sets on purpose to something else than the daemon's default.
declare -A NOT_DEFAULT
NOT_DEFAULT[classifier]='engine = "auto";'

# A daemon without --print-config: its keys from the key table in its main.c, written as
# K("name", RDPI_CFG_..., ...) or {"name", RDPI_CFG_..., ...} entries.
table_keys() {
	grep -hoE '^[[:space:]]*(K\(|\{)"[A-Za-z][A-Za-z0-9]*",[[:space:]]*RDPI_CFG_' \
		"$src/services/$1/main.c" 2>/dev/null | sed -E 's/.*"([^"]+)".*/\1/' | sort
}

# keys of section $2 in libconfig text file $1, sorted, one per line (comments stripped)
section_keys() {
	awk -v want="$2" '
		{ sub(/#.*/, ""); sub(/\/\/.*/, "") }
		$0 ~ "^[[:space:]]*" want "[[:space:]]*[=:][[:space:]]*\\{" { ins = 1; next }
		ins && /^[[:space:]]*\}[[:space:]]*;?[[:space:]]*$/ { ins = 0; next }
		ins && match($0, /^[[:space:]]*[A-Za-z][A-Za-z0-9_]*[[:space:]]*[=:]/) {
			k = substr($0, RSTART, RLENGTH); gsub(/[[:space:]=:]/, "", k); print k
		}' "$1" | sort
}

# line number of key $3 inside section $2 of file $1
key_line() {
	awk -v want="$2" -v key="$3" '
		{ line = $0; sub(/#.*/, "", line) }
		line ~ "^[[:space:]]*" want "[[:space:]]*[=:][[:space:]]*\\{" { ins = 1; next }
		ins && line ~ /^[[:space:]]*\}/ { ins = 0; next }
		ins && line ~ "^[[:space:]]*" key "[[:space:]]*[=:]" { print NR; exit }' "$1"
}

has_print_config() { grep -q -- "print-config" <<<"$("${BIN[$1]}" --help 2>&1)"; }

# 1. the shipped file passes every daemon's check
for d in "${daemons[@]}"; do
	if out=$("${BIN[$d]}" --check-config --config "$conf" 2>&1); then
		ok "$d --check-config accepts conf/dpi.conf"
	else
		fail "$d --check-config --config conf/dpi.conf: $out"
	fi
done

# 2. every key of every daemon is in the file, with its default
for d in "${daemons[@]}"; do
	if has_print_config "$d"; then
		"${BIN[$d]}" --print-config --config "$conf" >"$tmp/$d.file.out" 2>&1 ||
			fail "$d --print-config --config conf/dpi.conf failed: $(cat "$tmp/$d.file.out")"
		"${BIN[$d]}" --print-config --config /dev/null >"$tmp/$d.def.out" 2>&1 ||
			fail "$d --print-config --config /dev/null failed: $(cat "$tmp/$d.def.out")"
		for s in ${SECS[$d]}; do
			want=$(section_keys "$tmp/$d.def.out" "$s")
			have=$(section_keys "$conf" "$s")
			if [ -z "$want" ]; then
				fail "$d --print-config printed no section $s"
			elif [ "$want" != "$have" ]; then
				fail "section $s: conf/dpi.conf keys differ from $d's table:" \
					"$(diff <(echo "$want") <(echo "$have") | grep '^[<>]' | tr '\n' ' ')"
			else
				ok "section $s lists all $(echo "$want" | wc -l) keys of $d"
			fi
		done
		# the file's values, with the deliberate exceptions, equal the defaults
		diffs=$(diff "$tmp/$d.def.out" "$tmp/$d.file.out" | grep '^>' | sed 's/^>[[:space:]]*//')
		expected=${NOT_DEFAULT[$d]:-}
		if [ "$diffs" = "$expected" ]; then
			ok "$d: conf/dpi.conf holds the defaults${expected:+ (except $expected)}"
		else
			fail "$d: conf/dpi.conf values differ from the defaults:" \
				"$(diff "$tmp/$d.def.out" "$tmp/$d.file.out" | grep '^[<>]' | tr '\n' ' ')"
		fi
	elif [ "$d" = console ]; then
		want=$(table_keys console)
		have=$(section_keys "$conf" console)
		if [ -z "$want" ]; then
			fail "console: no --print-config and no key table found in services/console/main.c"
		elif [ "$want" != "$have" ]; then
			fail "section console: keys differ from the console's key table:" \
				"$(diff <(echo "$want") <(echo "$have") | grep '^[<>]' | tr '\n' ' ')"
		else
			ok "section console lists the $(echo "$want" | wc -l) keys of the console's table (no --print-config)"
		fi
	else
		fail "$d has no --print-config"
	fi
done

# 3. broken copies: an unknown key / an out-of-range value in one section
# section -> key and bad value replacing its line
declare -A BAD_KEY BAD_VAL OWNER
BAD_KEY[classifier]=flowLimit BAD_VAL[classifier]=0 OWNER[classifier]=classifier
BAD_KEY[agent]=workers BAD_VAL[agent]=65 OWNER[agent]=agent
BAD_KEY[firewallLog]=dpiFlowFirstPackets BAD_VAL[firewallLog]=1001 OWNER[firewallLog]=logger
BAD_KEY[flows]=dumpInterval BAD_VAL[flows]='"2h"' OWNER[flows]=logger
BAD_KEY[console]=maxLimit BAD_VAL[console]=-1 OWNER[console]=console

# expect_reject FILE SECTION LINE WHAT [foreign]: the owner rejects the file naming file:line;
# with "foreign", every other daemon still accepts it (it ignores sections it does not own)
expect_reject() {
	local f=$1 s=$2 line=$3 what=$4 foreign=${5:-} owner=${OWNER[$2]} out rc
	out=$("${BIN[$owner]}" --check-config --config "$f" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		fail "$owner accepted $what in section $s"
	elif ! grep -qF "$f:$line" <<<"$out"; then
		fail "$owner rejected $what in section $s (rc $rc) without $f:$line: $out"
	else
		ok "$owner rejects $what in $s: $(head -n1 <<<"$out")"
	fi
	[ -n "$foreign" ] || return 0
	for d in "${daemons[@]}"; do
		[ "$d" = "$owner" ] && continue
		if out=$("${BIN[$d]}" --check-config --config "$f" 2>&1); then
			ok "$d ignores the unknown key in foreign section $s"
		else
			fail "$d rejected a file whose error is only in section $s (not its own): $out"
		fi
	done
}

for d in "${daemons[@]}"; do
	for s in ${SECS[$d]}; do
		# unknown key: inserted right after the section's opening line
		start=$(grep -n -m1 -E "^[[:space:]]*$s[[:space:]]*=[[:space:]]*\{" "$conf" | cut -d: -f1)
		if [ -z "$start" ]; then
			fail "no section $s in conf/dpi.conf"
			continue
		fi
		f=$tmp/unknown-$s.conf
		sed "${start}a\\	noSuchKey$$ = 1;" "$conf" >"$f"
		expect_reject "$f" "$s" $((start + 1)) "unknown key noSuchKey$$" foreign

		# out of range: the key's own line rewritten
		k=${BAD_KEY[$s]}
		line=$(key_line "$conf" "$s" "$k")
		if [ -z "$line" ]; then
			fail "no key $s.$k in conf/dpi.conf"
			continue
		fi
		f=$tmp/range-$s.conf
		sed -E "${line}s/^([[:space:]]*$k[[:space:]]*=[[:space:]]*)[^;]*;/\\1${BAD_VAL[$s]};/" \
			"$conf" >"$f"
		grep -q "$k = ${BAD_VAL[$s]};" "$f" || fail "could not rewrite $s.$k"
		expect_reject "$f" "$s" "$line" "$k = ${BAD_VAL[$s]}"
	done
done

# 4. a section nobody knows is an error for every daemon (a typo in a section name must not
# silently fall back to the defaults)
f=$tmp/unknown-section.conf
{ cat "$conf"; printf 'clasifier = {\n\tflowLimit = 5;\n};\n'; } >"$f"
for d in "${daemons[@]}"; do
	if out=$("${BIN[$d]}" --check-config --config "$f" 2>&1); then
		fail "$d accepted an unknown section \"clasifier\""
	else
		ok "$d rejects unknown section: $(head -n1 <<<"$out")"
	fi
done

if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "all config checks passed"
