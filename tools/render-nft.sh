#!/usr/bin/env bash
# Render the routerd-dpi nftables fragments (conf/nftables/*.nft) with the NFLOG group, snaplen
# and accept sample rate of a dpi.conf: nft takes no variables after "group", "snaplen" or
# "mod", so the numbers are written into the files.
#
# usage: tools/render-nft.sh [--config FILE] [--group N] [--snaplen N] [--sample-rate N]
#                            [--out-dir DIR] [--source-dir DIR]
#   --config       dpi.conf to read (default /etc/routerd/dpi.conf when readable, else the
#                  built-in defaults); flags override the file
#   --group        firewallLog.nflogGroup (1 .. 65535)
#   --snaplen      firewallLog.copyRange, else classifier.copyRange (64 .. 65535; "2k" ok)
#   --sample-rate  firewallLog.acceptSampleRate (1 .. 1000000): N > 1 adds
#                  "numgen random mod N == 0" to the accept log rule
#   --out-dir      write every fragment there (routerd-dpi.nft, routerd-dpi-*-deny.nft);
#                  without it the main fragment goes to stdout
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/conf/nftables
config=
config_explicit=0
group='' snaplen='' rate='' outdir=''

die() {
	echo "render-nft: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die "$1 needs a value"
	case $1 in
	--config) config=$2 config_explicit=1 ;;
	--group) group=$2 ;;
	--snaplen) snaplen=$2 ;;
	--sample-rate) rate=$2 ;;
	--out-dir) outdir=$2 ;;
	--source-dir) src=$2 ;;
	*) die "unknown option $1" ;;
	esac
	shift 2
done

if [ -z "$config" ] && [ -r /etc/routerd/dpi.conf ]; then
	config=/etc/routerd/dpi.conf
fi
if [ "$config_explicit" = 1 ] && [ ! -r "$config" ]; then
	die "cannot read $config"
fi

# section.key=value lines from a libconfig file (scalars only; #, // and one-line /* */
# comments are dropped).
conf_values() {
	awk '
	# a comment starts a line or follows a blank ("ipc:///run/..." is a value)
	{ sub(/\/\*.*\*\//, ""); sub(/(^|[ \t;])(#|\/\/).*/, ";"); buf = buf " " $0 }
	END {
		gsub(/\{/, " { ;", buf); gsub(/\}/, "; } ;", buf)
		n = split(buf, st, ";")
		depth = 0; sect = ""
		for (i = 1; i <= n; i++) {
			s = st[i]; gsub(/^[ \t]+|[ \t]+$/, "", s)
			if (s == "") continue
			if (s ~ /\{$/) {
				name = s; sub(/[ \t]*[=:].*/, "", name)
				if (depth++ == 0) sect = name
				continue
			}
			if (s == "}") { if (--depth == 0) sect = ""; continue }
			if (s !~ /[=:]/) continue
			key = s; sub(/[ \t]*[=:].*/, "", key)
			val = s; sub(/^[^=:]*[=:][ \t]*/, "", val); gsub(/"/, "", val)
			print sect "." key "=" val
		}
	}' "$1"
}

conf_get() { # key; prints the value or nothing
	[ -n "$config" ] || return 0
	conf_values "$config" | sed -n "s/^$1=//p" | tail -n 1
}

[ -n "$group" ] || group=$(conf_get firewallLog.nflogGroup)
[ -n "$snaplen" ] || snaplen=$(conf_get firewallLog.copyRange)
[ -n "$snaplen" ] || snaplen=$(conf_get classifier.copyRange)
[ -n "$rate" ] || rate=$(conf_get firewallLog.acceptSampleRate)
group=${group:-1} snaplen=${snaplen:-2048} rate=${rate:-1}

# copyRange is a libconfig size: "1500", "2k", "1KiB" (bytes; k = 1024)
shopt -s nocasematch
if [[ $snaplen =~ ^([0-9]{1,6})(k|kb|kib)$ ]]; then
	snaplen=$((10#${BASH_REMATCH[1]} * 1024))
elif [[ $snaplen =~ ^([0-9]{1,9})b$ ]]; then
	snaplen=${BASH_REMATCH[1]}
fi
shopt -u nocasematch

check_int() { # name value min max
	if ! [[ $2 =~ ^[0-9]{1,9}$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		die "$1 must be an integer in $3 .. $4 (got '$2')"
	fi
}
check_int "NFLOG group (firewallLog.nflogGroup)" "$group" 1 65535
check_int "snaplen (copyRange)" "$snaplen" 64 65535
check_int "acceptSampleRate" "$rate" 1 1000000

# Rule lines only (comments keep the documented defaults): group/snaplen everywhere, the
# sample match on the accept log rule.
render() { # file
	local sample=
	[ "$rate" -gt 1 ] && sample="numgen random mod $rate == 0 "
	sed -E \
		-e "/^[[:space:]]*#/b" \
		-e "s/ group [0-9]+ snaplen [0-9]+/ group $group snaplen $snaplen/" \
		-e "s/^([[:space:]]*ct state \{ new, established \} )(log prefix \"routerd firewall forward accept \")/\1$sample\2/" \
		"$1"
}

[ -r "$src/routerd-dpi.nft" ] || die "no fragment in $src"
if [ -z "$outdir" ]; then
	render "$src/routerd-dpi.nft"
	exit 0
fi
mkdir -p "$outdir"
for f in "$src"/*.nft; do
	render "$f" >"$outdir/$(basename "$f").tmp"
	mv "$outdir/$(basename "$f").tmp" "$outdir/$(basename "$f")"
done
