#!/usr/bin/env bash
# tools/render-units.sh output: agent dependency by engine, the logger never on the agent,
# MemoryMax from flowLimit, hardening, `systemd-analyze verify` on every rendered unit (with
# ExecStart at the built binaries), OpenRC scripts (sh -n, depend() lines), and conf/systemd/ +
# conf/openrc/ equal to the renderer's output for conf/dpi.conf.
set -euo pipefail
src=${RDPI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${RDPI_BINARY_DIR:-$src/build}
render=$src/tools/render-units.sh
tmp=$(mktemp -d /tmp/rdpi-units.$$.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

conf() { # name engine classifier-flowLimit agent-flowLimit
	cat >"$tmp/$1.conf" <<EOF
# test config
classifier = {
	engine = "$2";	# comment with "quotes" and { braces }
	flowLimit = $3;
	socket = "/run/routerd/dpi-classifier/default.sock";
};
agent = { flowLimit = $4; /* block */ };
// other sections
firewallLog = { dpiFlowLimit = 100000; path = "/var/lib/routerd/x#y.db"; };
EOF
}
conf builtin builtin 100000 100000
conf auto auto 100000 100000
conf ndpi ndpi-agent 100000 100000
conf big auto 1000000 500000

# -- a prefix whose bin/ holds the built binaries, so verify can check ExecStart
pfx=$tmp/prefix
mkdir -p "$pfx/bin"
for s in agent:routerd-ndpi-agent classifier:routerd-dpi-classifier logger:routerd-firewall-logger \
	console:routerd-dpi-console; do
	b=$bld/services/${s%%:*}/${s#*:}
	if [ -x "$b" ]; then
		ln -s "$b" "$pfx/bin/${s#*:}"
	elif [ "${s#*:}" = routerd-dpi-console ]; then
		# the console may not be built in this tree yet; its unit syntax is still verified
		echo "NOTE: $b not built; verifying the console unit against a stand-in executable"
		cp /bin/true "$pfx/bin/${s#*:}"
	else
		echo "FAIL: $b is not built" >&2
		exit 1
	fi
done

for c in builtin auto ndpi big; do
	"$render" --config "$tmp/$c.conf" --prefix "$pfx" --installed-config "$tmp/$c.conf" \
		--output "$tmp/sd-$c"
	"$render" --config "$tmp/$c.conf" --prefix "$pfx" --installed-config "$tmp/$c.conf" \
		--init openrc --output "$tmp/rc-$c"
done

# -- engine decides the agent dependency
if [ -e "$tmp/sd-builtin/routerd-ndpi-agent.service" ] || [ -e "$tmp/rc-builtin/routerd-ndpi-agent" ]; then
	fail "engine builtin rendered an agent unit/script"
fi
if grep -rl -i 'ndpi-agent' "$tmp/sd-builtin" "$tmp/rc-builtin"; then
	fail "engine builtin: the files above mention the agent"
else
	ok "engine builtin: no agent unit, no agent dependency anywhere"
fi
for c in auto ndpi; do
	u=$tmp/sd-$c/routerd-dpi-classifier.service
	grep -qx 'Wants=routerd-ndpi-agent.service' "$u" || fail "$c: classifier lacks Wants= agent"
	grep -qx 'After=routerd-ndpi-agent.service' "$u" || fail "$c: classifier lacks After= agent"
	grep -q '^Requires=' "$u" && fail "$c: classifier Requires= something (stopping the agent must not stop it)"
	[ -f "$tmp/sd-$c/routerd-ndpi-agent.service" ] || fail "$c: no agent unit"
	[ -f "$tmp/rc-$c/routerd-ndpi-agent" ] || fail "$c: no agent OpenRC script"
	grep -qx 'WantedBy=routerd-dpi.target' "$tmp/sd-$c/routerd-ndpi-agent.service" || fail "$c: agent not WantedBy the target"
done
ok "engine auto / ndpi-agent: classifier Wants= and After= the agent"

# -- the logger depends on the classifier only, never on the agent
for c in builtin auto ndpi big; do
	u=$tmp/sd-$c/routerd-firewall-logger.service
	# no dependency, directive or argument names the agent (the generated-by header names the engine)
	if grep -qi 'agent' <<<"$(grep -v '^#' "$u" "$tmp/rc-$c/routerd-firewall-logger")" ||
		grep -q 'routerd-ndpi-agent' "$u" "$tmp/rc-$c/routerd-firewall-logger"; then
		fail "$c: the logger's unit or script mentions the agent"
	fi
	grep -qx 'Wants=routerd-dpi-classifier.service' "$u" || fail "$c: logger lacks Wants= classifier"
	grep -qx 'After=routerd-dpi-classifier.service' "$u" || fail "$c: logger lacks After= classifier"
	grep -qx 'Restart=always' "$u" || fail "$c: logger is not Restart=always"
	for s in routerd-dpi-classifier routerd-dpi-console; do
		grep -qx 'Restart=on-failure' "$tmp/sd-$c/$s.service" || fail "$c: $s is not Restart=on-failure"
	done
done
for c in builtin auto; do
	for f in "$tmp/sd-$c"/*.service; do
		grep -qx 'WantedBy=routerd-dpi.target' "$f" || fail "$f: not WantedBy=routerd-dpi.target"
	done
	grep -qx 'WantedBy=multi-user.target' "$tmp/sd-$c/routerd-dpi.target" || fail "$c: target not WantedBy=multi-user.target"
done
ok "logger: Wants/After classifier only, Restart=always; others Restart=on-failure; all in routerd-dpi.target"

# -- MemoryMax follows flowLimit (formula: base + bytes x flows, rounded up to 16 MiB)
mm() { sed -n 's/^MemoryMax=//p' "$1"; }
expect() { # base bytes flows [bytes2 count2]
	local mib=$(((($1 * 1048576 + $2 * $3 + ${4:-0} * ${5:-0}) + 1048575) / 1048576))
	echo "$(((mib + 15) / 16 * 16))M"
}
a1=$(mm "$tmp/sd-auto/routerd-ndpi-agent.service")
a2=$(mm "$tmp/sd-big/routerd-ndpi-agent.service")
c1=$(mm "$tmp/sd-auto/routerd-dpi-classifier.service")
c2=$(mm "$tmp/sd-big/routerd-dpi-classifier.service")
[ "$a1" = "$(expect 32 1600 100000)" ] && [ "$a1" = 192M ] || fail "agent MemoryMax $a1 for 100000 flows (want 192M)"
[ "$a2" = "$(expect 32 1600 500000)" ] || fail "agent MemoryMax $a2 for 500000 flows"
[ "$c1" = "$(expect 32 512 100000 256 131072)" ] && [ "$c1" = 128M ] || fail "classifier MemoryMax $c1 for 100000 flows (want 128M)"
[ "$c2" = "$(expect 32 512 1000000 256 131072)" ] || fail "classifier MemoryMax $c2 for 1000000 flows"
[ "$a1" != "$a2" ] && [ "$c1" != "$c2" ] || fail "MemoryMax does not change with flowLimit"
ok "MemoryMax: agent $a1 -> $a2, classifier $c1 -> $c2 as flowLimit grows"

# -- hardening
u=$tmp/sd-auto
for s in routerd-ndpi-agent routerd-dpi-classifier routerd-dpi-console; do
	for k in User=routerd Group=routerd NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
		ProtectHome=yes "RuntimeDirectory=routerd/${s#routerd-}" RuntimeDirectoryMode=0750 \
		'ExecReload=/bin/kill -HUP $MAINPID'; do
		grep -qxF "$k" "$u/$s.service" || fail "$s: missing $k"
	done
	grep -q '^ExecStart=.* --config ' "$u/$s.service" || fail "$s: ExecStart without --config"
done
grep -qx 'RestrictAddressFamilies=AF_UNIX' "$u/routerd-ndpi-agent.service" || fail "agent address families"
grep -qx 'RestrictAddressFamilies=AF_UNIX' "$u/routerd-dpi-classifier.service" || fail "classifier address families"
grep -qx 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' "$u/routerd-dpi-console.service" || fail "console address families"
grep -qx 'ReadOnlyPaths=/var/lib/routerd' "$u/routerd-dpi-console.service" || fail "console: /var/lib/routerd not read-only"
grep -q '^ReadWritePaths=' "$u/routerd-dpi-console.service" && fail "console has ReadWritePaths"
l=$u/routerd-firewall-logger.service
for k in CapabilityBoundingSet=CAP_NET_ADMIN AmbientCapabilities=CAP_NET_ADMIN \
	'RestrictAddressFamilies=AF_UNIX AF_NETLINK' ReadWritePaths=/var/lib/routerd StateDirectory=routerd \
	Group=routerd RuntimeDirectory=routerd/firewall-logger ProtectSystem=strict; do
	grep -qxF "$k" "$l" || fail "logger: missing $k"
done
ok "hardening keys present (unprivileged routerd user; logger CAP_NET_ADMIN only)"

# -- systemd-analyze verify: must pass with no complaint, and must catch a broken unit
verify() { # dir -> 0 when clean
	local out rc=0
	out=$(cd "$1" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no ./*.service ./*.target 2>&1) || rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		printf '%s\n' "$out" >&2
		return 1
	fi
}
if ! command -v systemd-analyze >/dev/null; then
	fail "systemd-analyze not installed (Debian package systemd)"
else
	for c in builtin auto ndpi big; do
		verify "$tmp/sd-$c" || fail "systemd-analyze verify on the $c set"
	done
	ok "systemd-analyze verify: builtin, auto, ndpi-agent and big sets clean"
	for mut in 's/^Restart=on-failure/Restart=sometimes/' 's/^NoNewPrivileges=/NoNewPriviledges=/' \
		"s#^ExecStart=$pfx/bin/#ExecStart=$tmp/nonexistent/#"; do
		rm -rf "$tmp/broken"
		cp -r "$tmp/sd-auto" "$tmp/broken"
		sed -i "$mut" "$tmp/broken/routerd-dpi-classifier.service"
		if verify "$tmp/broken" 2>/dev/null; then fail "verify did not catch: $mut"; fi
	done
	ok "the verify check fails on broken units (bad value, misspelt key, missing binary)"
fi

# -- OpenRC scripts
for c in builtin auto; do
	for f in "$tmp/rc-$c"/*; do
		n=${f##*/}
		sh -n "$f" || fail "sh -n $n"
		[ "$(head -1 "$f")" = '#!/sbin/openrc-run' ] || fail "$n: shebang"
		for k in '^command="' '^command_args="' '^command_user="' '^supervisor=supervise-daemon$' \
			'^extra_started_commands="reload"$' '^start_pre()' '^reload()' "checkpath --directory .*/run/routerd/"; do
			grep -q "$k" "$f" || fail "$n: no $k"
		done
	done
done
dep() { sed -n '/^depend() {/,/^}/p' "$1" | sed '1d;$d' | sed 's/^[[:space:]]*//'; }
want=$'need localmount\nuse routerd-ndpi-agent\nafter routerd-ndpi-agent'
[ "$(dep "$tmp/rc-auto/routerd-dpi-classifier")" = "$want" ] || fail "auto classifier depend(): $(dep "$tmp/rc-auto/routerd-dpi-classifier")"
[ "$(dep "$tmp/rc-builtin/routerd-dpi-classifier")" = "need localmount" ] || fail "builtin classifier depend()"
want=$'need localmount\nuse routerd-dpi-classifier\nafter routerd-dpi-classifier'
for c in builtin auto; do
	[ "$(dep "$tmp/rc-$c/routerd-firewall-logger")" = "$want" ] || fail "$c logger depend(): $(dep "$tmp/rc-$c/routerd-firewall-logger")"
done
[ "$(dep "$tmp/rc-auto/routerd-ndpi-agent")" = "need localmount" ] || fail "agent depend()"
want=$'need localmount\nuse net routerd-firewall-logger\nafter routerd-firewall-logger'
[ "$(dep "$tmp/rc-auto/routerd-dpi-console")" = "$want" ] || fail "console depend()"
grep -qx 'command_user="root:routerd"' "$tmp/rc-auto/routerd-firewall-logger" || fail "logger command_user"
grep -qx 'command_user="routerd:routerd"' "$tmp/rc-auto/routerd-dpi-classifier" || fail "classifier command_user"
ok "OpenRC: sh -n, openrc-run conventions, depend() need/use/after as the rules say"

# -- the committed sets are the renderer's output for conf/dpi.conf (whose engine is auto: all four)
if [ ! -f "$src/conf/dpi.conf" ]; then
	fail "conf/dpi.conf missing"
else
	"$render" --config "$src/conf/dpi.conf" --output "$tmp/committed-sd"
	"$render" --config "$src/conf/dpi.conf" --init openrc --output "$tmp/committed-rc"
	diff -r "$tmp/committed-sd" "$src/conf/systemd" >&2 ||
		fail "conf/systemd/ differs from: tools/render-units.sh --config conf/dpi.conf -o conf/systemd"
	diff -r "$tmp/committed-rc" "$src/conf/openrc" >&2 ||
		fail "conf/openrc/ differs from: tools/render-units.sh --config conf/dpi.conf --init openrc -o conf/openrc"
	for f in "$src"/conf/openrc/*; do [ -x "$f" ] || fail "$f is not executable"; done
	[ -f "$src/conf/systemd/routerd-ndpi-agent.service" ] ||
		fail "conf/systemd/ has no agent unit: conf/dpi.conf should say classifier.engine = \"auto\""
	# and the committed units (ExecStart /usr/local/bin) verify once pointed at the built binaries
	rm -rf "$tmp/cv"
	cp -r "$src/conf/systemd" "$tmp/cv"
	sed -i "s#/usr/local/bin/#$pfx/bin/#; s#--config /etc/routerd/dpi.conf#--config $src/conf/dpi.conf#" "$tmp/cv"/*
	verify "$tmp/cv" || fail "systemd-analyze verify on conf/systemd"
	ok "conf/systemd/ and conf/openrc/ match the renderer's output for conf/dpi.conf and verify"
fi

if [ $fails -ne 0 ]; then
	echo "test_units: $fails failure(s)" >&2
	exit 1
fi
echo "test_units: all checks passed"
