#!/usr/bin/env bash
# install.sh into a scratch root (DESTDIR): files and modes, units rendered from the installed
# dpi.conf, an edited dpi.conf never overwritten (dpi.conf.new), an unedited old default updated,
# --dry-run changes nothing, OpenRC scripts, --with-ndpi, --uninstall and --purge.
set -euo pipefail
src=${RDPI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${RDPI_BINARY_DIR:-$src/build}
tmp=$(mktemp -d /tmp/rdpi-install.$$.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
inst() { bash "$src/install.sh" --build-dir "$bld" "$@"; }
tree() { # listing with mode, size and content hash of every entry under $1
	(cd "$1" 2>/dev/null && find . -printf '%p %m %s\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0r md5sum) || echo "(absent)"
}
mode() { stat -c %a "$1"; }

for b in agent/routerd-ndpi-agent classifier/routerd-dpi-classifier logger/routerd-firewall-logger; do
	[ -x "$bld/services/$b" ] || { echo "FAIL: $bld/services/$b not built" >&2; exit 1; }
done
grep -q -- '--restart-unsupervised' <<<"$(bash "$src/install.sh" --help)" || fail "--help"

D=$tmp/root
# -- a dry run into an empty root changes nothing (not even creating the root)
out=$(inst --destdir "$D" --dry-run 2>&1) || { echo "$out" >&2; fail "dry run of a fresh install failed"; }
[ ! -e "$D" ] || fail "dry run created $D"
grep -q "^+ install -m 0755 .*$D/usr/local/bin/" <<<"$out" || fail "dry run did not print the binary installs"
grep -q "^+ install -m 0640 .*dpi.conf $D/etc/routerd/dpi.conf" <<<"$out" || fail "dry run did not print the config install"
ok "dry run of a first install prints the actions and creates nothing"

# -- first install
inst --destdir "$D" >"$tmp/first.log" 2>&1 || { cat "$tmp/first.log" >&2; fail "first install"; }
for b in routerd-ndpi-agent routerd-dpi-classifier routerd-firewall-logger; do
	f=$D/usr/local/bin/$b
	[ -x "$f" ] && [ "$(mode "$f")" = 755 ] || fail "$f missing or mode $(mode "$f" 2>/dev/null)"
	cmp -s "$f" "$(find "$bld/services" -name "$b" -type f -print -quit)" || fail "$f differs from the build"
done
if [ -x "$bld/services/console/routerd-dpi-console" ]; then
	[ -x "$D/usr/local/bin/routerd-dpi-console" ] || fail "console binary not installed"
fi
grep -q '^\.' <<<"$(ls -A "$D/usr/local/bin")" && fail "temporary files left in bin/"
[ "$(mode "$D/etc/routerd")" = 750 ] || fail "/etc/routerd mode $(mode "$D/etc/routerd")"
[ "$(mode "$D/etc/routerd/dpi.conf")" = 640 ] || fail "dpi.conf mode"
cmp -s "$src/conf/dpi.conf" "$D/etc/routerd/dpi.conf" || fail "dpi.conf is not conf/dpi.conf"
[ -d "$D/var/lib/routerd" ] && [ "$(mode "$D/var/lib/routerd")" = 2750 ] || fail "/var/lib/routerd"
[ -f "$D/usr/local/share/doc/routerd-dpi/README.md" ] || fail "README not installed"
u=$D/etc/systemd/system
for s in routerd-dpi-classifier routerd-firewall-logger routerd-dpi-console; do
	[ -f "$u/$s.service" ] && [ "$(mode "$u/$s.service")" = 644 ] || fail "$s.service missing or mode"
done
[ -f "$u/routerd-dpi.target" ] || fail "routerd-dpi.target missing"
grep -qx 'ExecStart=/usr/local/bin/routerd-dpi-classifier daemon --config /etc/routerd/dpi.conf' \
	"$u/routerd-dpi-classifier.service" || fail "ExecStart path (DESTDIR must not leak into units)"
grep -rq "$D" "$u" && fail "units mention the DESTDIR"
# the units follow the installed config's engine
engine=$(bash "$src/tools/render-units.sh" --config "$D/etc/routerd/dpi.conf" --print-settings | sed -n 's/^engine=//p')
if [ "$engine" = builtin ]; then
	[ ! -e "$u/routerd-ndpi-agent.service" ] || fail "engine builtin but the agent unit was installed"
else
	grep -qx 'Wants=routerd-ndpi-agent.service' "$u/routerd-dpi-classifier.service" || fail "engine $engine: no Wants= agent"
fi
ok "first install: binaries 0755, dpi.conf 0640 in /etc/routerd 0750, /var/lib/routerd 2750 (setgid), units 0644 (engine $engine)"

# -- a dry run over an existing install changes nothing
before=$(tree "$D")
out=$(inst --destdir "$D" --dry-run 2>&1) || fail "dry run over an install failed"
[ "$before" = "$(tree "$D")" ] || fail "dry run changed the tree"
out=$(inst --destdir "$D" --uninstall --purge --dry-run 2>&1) || fail "dry-run uninstall failed"
grep -q "^+ rm -f $D/usr/local/bin/routerd-dpi-classifier" <<<"$out" || fail "dry-run uninstall did not print the removals"
[ "$before" = "$(tree "$D")" ] || fail "dry-run uninstall changed the tree"
ok "--dry-run (install and uninstall --purge) prints actions and leaves the tree identical"

# -- edit dpi.conf (switch the engine): kept, dpi.conf.new next to it, units re-rendered from it
if [ "$engine" = builtin ]; then new_engine=auto; else new_engine=builtin; fi
sed -i "0,/^\([[:space:]]*engine[[:space:]]*=[[:space:]]*\)\"[a-z-]*\"/s//\1\"$new_engine\"/" "$D/etc/routerd/dpi.conf"
echo "# edited by the operator" >>"$D/etc/routerd/dpi.conf"
cp "$D/etc/routerd/dpi.conf" "$tmp/edited"
inst --destdir "$D" >"$tmp/second.log" 2>&1 || { cat "$tmp/second.log" >&2; fail "second install"; }
cmp -s "$tmp/edited" "$D/etc/routerd/dpi.conf" || fail "the edited dpi.conf was overwritten"
cmp -s "$src/conf/dpi.conf" "$D/etc/routerd/dpi.conf.new" || fail "dpi.conf.new is not the new default"
grep -q 'dpi.conf.new' "$tmp/second.log" || fail "the installer did not say where the new default went"
if [ "$new_engine" = builtin ]; then
	[ ! -e "$u/routerd-ndpi-agent.service" ] || fail "edited engine builtin: agent unit still installed"
	grep -q 'ndpi-agent' "$u/routerd-dpi-classifier.service" && fail "edited engine builtin: classifier still wants the agent"
else
	[ -f "$u/routerd-ndpi-agent.service" ] || fail "edited engine auto: no agent unit"
	grep -qx 'Wants=routerd-ndpi-agent.service' "$u/routerd-dpi-classifier.service" || fail "edited engine auto: no Wants="
fi
ok "edited dpi.conf kept, dpi.conf.new installed and announced, units follow the edit (engine $new_engine)"

# -- a config still equal to the previously shipped default is updated in place
printf 'classifier = { engine = "builtin"; };\n' >"$D/etc/routerd/dpi.conf"
cp "$D/etc/routerd/dpi.conf" "$D/usr/local/share/routerd-dpi/dpi.conf.default"
inst --destdir "$D" >"$tmp/third.log" 2>&1 || { cat "$tmp/third.log" >&2; fail "third install"; }
cmp -s "$src/conf/dpi.conf" "$D/etc/routerd/dpi.conf" || fail "an unedited previous default was not updated"
ok "an unedited previous default is updated"

# -- OpenRC scripts
inst --destdir "$D" --init openrc >"$tmp/openrc.log" 2>&1 || { cat "$tmp/openrc.log" >&2; fail "openrc install"; }
for s in routerd-dpi-classifier routerd-firewall-logger routerd-dpi-console; do
	f=$D/etc/init.d/$s
	[ -x "$f" ] && [ "$(mode "$f")" = 755 ] && sh -n "$f" || fail "init.d/$s"
	grep -qx "command=\"/usr/local/bin/$s\"" "$f" || fail "init.d/$s command"
done
ok "--init openrc installs /etc/init.d scripts (0755, sh -n)"

# -- --with-ndpi: passes only when the agent reports libndpiLoaded:true
if grep -q '"libndpiLoaded":true' <<<"$("$bld/services/agent/routerd-ndpi-agent" selftest 2>/dev/null)"; then
	inst --destdir "$tmp/ndpi" --with-ndpi >"$tmp/ndpi.log" 2>&1 || { cat "$tmp/ndpi.log" >&2; fail "--with-ndpi with a libndpi agent"; }
	ok "--with-ndpi accepts an agent with libndpi"
else
	echo "NOTE: this tree's agent has no libndpi; --with-ndpi must refuse it"
	if inst --destdir "$tmp/ndpi" --with-ndpi >"$tmp/ndpi.log" 2>&1; then fail "--with-ndpi accepted an agent without libndpi"; fi
	grep -q 'libndpiLoaded' "$tmp/ndpi.log" || fail "--with-ndpi failure without instructions"
fi
nd=$src/build-nondpi/services/agent/routerd-ndpi-agent
if [ -x "$nd" ] && ! grep -q '"libndpiLoaded":true' <<<"$("$nd" selftest 2>/dev/null)"; then
	mkdir -p "$tmp/bd/services"/{agent,classifier,logger}
	cp "$nd" "$tmp/bd/services/agent/"
	cp "$bld/services/classifier/routerd-dpi-classifier" "$tmp/bd/services/classifier/"
	cp "$bld/services/logger/routerd-firewall-logger" "$tmp/bd/services/logger/"
	if bash "$src/install.sh" --build-dir "$tmp/bd" --destdir "$tmp/nondpi" --with-ndpi >"$tmp/nondpi.log" 2>&1; then
		fail "--with-ndpi accepted the build-nondpi agent"
	fi
	grep -q 'RDPI_NDPI=ON\|libndpi-dev' "$tmp/nondpi.log" || fail "--with-ndpi refusal gives no instructions"
	[ ! -e "$tmp/nondpi" ] || fail "--with-ndpi refusal installed files anyway"
	ok "--with-ndpi refuses an agent built without libndpi, with instructions"
else
	echo "NOTE: no build-nondpi tree: the --with-ndpi refusal path is not exercised here"
fi

# -- uninstall keeps config and state; --purge removes them
inst --destdir "$D" --uninstall >"$tmp/un.log" 2>&1 || { cat "$tmp/un.log" >&2; fail "uninstall"; }
for f in usr/local/bin/routerd-dpi-classifier usr/local/bin/routerd-ndpi-agent usr/local/bin/routerd-firewall-logger \
	etc/systemd/system/routerd-dpi-classifier.service etc/systemd/system/routerd-dpi.target \
	etc/init.d/routerd-dpi-classifier usr/local/share/routerd-dpi usr/local/share/doc/routerd-dpi; do
	[ ! -e "$D/$f" ] || fail "uninstall left $f"
done
[ -f "$D/etc/routerd/dpi.conf" ] && [ -d "$D/var/lib/routerd" ] || fail "uninstall removed config or state"
inst --destdir "$D" --uninstall --purge >"$tmp/purge.log" 2>&1 || fail "purge"
[ ! -e "$D/etc/routerd" ] && [ ! -e "$D/var/lib/routerd" ] || fail "purge left /etc/routerd or /var/lib/routerd"
left=$(cd "$D" && find . -type f | sed -n 1,5p)
[ -z "$left" ] || fail "files left after purge: $left"
ok "--uninstall removes binaries/units/scripts/docs and keeps config+state; --purge removes those too"

if [ $fails -ne 0 ]; then
	echo "test_install: $fails failure(s)" >&2
	exit 1
fi
echo "test_install: all checks passed"
