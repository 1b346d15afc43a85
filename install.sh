#!/usr/bin/env bash
# Install routerd-dpi from this checkout: Debian packages, build, binaries, /etc/routerd/dpi.conf
# (never overwriting an edited one), systemd units or OpenRC scripts rendered from the installed
# config (tools/render-units.sh), the routerd user and /var/lib/routerd; restarts upgraded helpers.
set -euo pipefail

top=$(cd "$(dirname "$0")" && pwd)
BINS=(routerd-ndpi-agent routerd-dpi-classifier routerd-firewall-logger routerd-dpi-console)
REQUIRED_BINS=(routerd-ndpi-agent routerd-dpi-classifier routerd-firewall-logger)
# binary -> service (unit / OpenRC script) name: the same names
SERVICES=(routerd-ndpi-agent routerd-dpi-classifier routerd-firewall-logger routerd-dpi-console)
# runtime (apt) and build packages; libndpi only with --with-ndpi
BUILD_PKGS=(build-essential cmake pkg-config libprotobuf-c-dev protobuf-c-compiler libnng-dev
	libsqlite3-dev libconfig-dev libcmocka-dev libmicrohttpd-dev libjansson-dev libssl-dev
	libnetfilter-log-dev libnetfilter-conntrack-dev libpcap-dev)
RUN_PKGS=(nftables curl nng-utils sqlite3)
NDPI_PKGS=(libndpi-dev libndpi4.2)

usage() {
	cat <<'EOF'
usage: ./install.sh [options]

Builds routerd-dpi and installs it as supervised services. Run as root (or with DESTDIR).

  --prefix DIR            binaries in DIR/bin, docs in DIR/share (default /usr/local)
  --sysconfdir DIR        config in DIR/routerd/dpi.conf, units in DIR/systemd/system,
                          OpenRC scripts in DIR/init.d (default /etc)
  --localstatedir DIR     databases in DIR/lib/routerd (default /var)
  --destdir DIR           stage everything under DIR (also the DESTDIR environment variable):
                          no apt, no user creation, no chown, no service (re)starts
  --build-dir DIR         install the binaries of an existing build tree (DIR/services/*/)
                          instead of building build/ with tools/build.sh
  --init systemd|openrc   which service files to install (default: OpenRC when it is the
                          init system, systemd units otherwise)
  --with-ndpi             install libndpi (libndpi-dev, libndpi4.2), build the agent with it
                          and require that `routerd-ndpi-agent selftest` reports
                          "libndpiLoaded":true; exits non-zero with instructions otherwise.
                          Without it libndpi is neither installed nor required: the classifier
                          runs its builtin engine and the agent answers "unknown".
  --no-deps               do not install Debian packages (default with DESTDIR)
  --deps                  install Debian packages even with DESTDIR
  --restart-unsupervised  also restart upgraded helpers that no supervisor runs (see below)
  --uninstall             stop and remove binaries, units/scripts and docs; keeps
                          /etc/routerd and /var/lib/routerd (and the routerd user)
  --purge                 with --uninstall: also remove /etc/routerd and /var/lib/routerd
  --dry-run               print every action, change nothing
  -h, --help              this text

Config: /etc/routerd/dpi.conf is installed when absent. An existing file that differs from the
default this tree ships is never overwritten: the new default goes to dpi.conf.new and the
installer says so (a file still equal to the previously shipped default is updated). Units are
rendered from the installed dpi.conf: classifier.engine auto|ndpi-agent installs the agent and
makes the classifier want it; builtin leaves the agent out.

Upgrades: after the new files are in place, every running routerd helper whose
/proc/<pid>/exe is one of PREFIX/bin/routerd-* and now reads "(deleted)" (its binary was
replaced), or whose unit/script changed, is restarted by its supervisor:
  systemd is PID 1      systemctl daemon-reload; systemctl try-restart <unit>
  OpenRC                rc-service <service> restart
  no supervisor         listed only. With --restart-unsupervised each one gets SIGTERM, is
                        waited for (10 s, then SIGKILL) and the new binary is started detached
                        with the same argv (read from /proc/<pid>/cmdline), working directory
                        and stdout/stderr files; the new pids are printed.
Helpers running from other paths (build trees, tests) are never touched.
EOF
}

prefix=/usr/local
sysconfdir=/etc
localstatedir=/var
destdir=${DESTDIR:-}
build_dir=
init=
with_ndpi=0
deps=auto
restart_unsup=0
uninstall=0
purge=0
dry=0

need_arg() { [ $# -ge 2 ] || { echo "install.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case $1 in
	--prefix | --sysconfdir | --localstatedir | --destdir | --build-dir | --init) need_arg "$@" ;;
	esac
	case $1 in
	--prefix) prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--sysconfdir) sysconfdir=$2; shift 2 ;;
	--sysconfdir=*) sysconfdir=${1#*=}; shift ;;
	--localstatedir) localstatedir=$2; shift 2 ;;
	--localstatedir=*) localstatedir=${1#*=}; shift ;;
	--destdir) destdir=$2; shift 2 ;;
	--destdir=*) destdir=${1#*=}; shift ;;
	--build-dir) build_dir=$2; shift 2 ;;
	--build-dir=*) build_dir=${1#*=}; shift ;;
	--init) init=$2; shift 2 ;;
	--init=*) init=${1#*=}; shift ;;
	--with-ndpi) with_ndpi=1; shift ;;
	--no-deps) deps=no; shift ;;
	--deps) deps=yes; shift ;;
	--restart-unsupervised) restart_unsup=1; shift ;;
	--uninstall) uninstall=1; shift ;;
	--purge) purge=1; shift ;;
	--dry-run | -n) dry=1; shift ;;
	-h | --help | help) usage; exit 0 ;;
	*) echo "install.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ "$purge" = 0 ] || [ "$uninstall" = 1 ] || { echo "install.sh: --purge goes with --uninstall" >&2; exit 2; }
destdir=${destdir%/}
for v in prefix sysconfdir localstatedir; do
	case ${!v} in /*) ;; *) echo "install.sh: --$v must be an absolute path" >&2; exit 2 ;; esac
	eval "$v=\${$v%/}"
done

bindir=$prefix/bin
sharedir=$prefix/share/routerd-dpi
docdir=$prefix/share/doc/routerd-dpi
confdir=$sysconfdir/routerd
conf=$confdir/dpi.conf
statedir=$localstatedir/lib/routerd
unitdir=$sysconfdir/systemd/system
initddir=$sysconfdir/init.d
D=$destdir

say() { printf 'install.sh: %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
# every change goes through run: printed always, executed unless --dry-run
run() {
	printf '+ %s\n' "$*"
	[ "$dry" = 1 ] || "$@"
}
is_root() { [ "$(id -u)" -eq 0 ]; }
systemd_pid1() { [ -d /run/systemd/system ]; }
openrc_init() { [ -d /run/openrc ] || { ! systemd_pid1 && command -v openrc-run >/dev/null 2>&1; }; }

if [ -z "$init" ]; then
	if openrc_init; then init=openrc; else init=systemd; fi
fi
case $init in systemd | openrc) ;; *) die "--init must be systemd or openrc" ;; esac
[ -n "$D" ] || is_root || [ "$dry" = 1 ] || die "run as root, or stage with --destdir DIR (DESTDIR)"
live=1 # touch the running system (users, ownership, services)
[ -z "$D" ] || live=0
# the service manager is driven only when the files went where it reads them
sd_live() { [ "$live" = 1 ] && [ "$init" = systemd ] && systemd_pid1 && [ "$unitdir" = /etc/systemd/system ]; }
rc_live() { [ "$live" = 1 ] && [ "$init" = openrc ] && [ "$initddir" = /etc/init.d ] &&
	command -v rc-service >/dev/null 2>&1; }
have_group() { getent group routerd >/dev/null 2>&1; }

# ---------------------------------------------------------------- services
running_helpers() { # "pid<TAB>exe" of every process whose /proc/<pid>/exe is in $bindir (one find)
	find /proc/[0-9]*/exe -maxdepth 0 -lname "$bindir/routerd-*" -printf '%h\t%l\n' 2>/dev/null |
		sed 's#^/proc/##'
}
svc_running_pids() { # exe-path -> pids whose /proc/<pid>/exe is that path (or its deleted self)
	local want=$1 p e
	while IFS=$'\t' read -r p e; do
		if [ "$e" = "$want" ] || [ "$e" = "$want (deleted)" ]; then echo "$p"; fi
	done < <(running_helpers)
}
supervisor_of() { # pid -> "systemd:<unit>" | "openrc" | "none"
	local pid=$1 unit ppid pcomm
	if systemd_pid1 && unit=$(grep -o 'routerd-[a-z-]*\.service' "/proc/$pid/cgroup" 2>/dev/null | head -1) &&
		[ -n "$unit" ]; then
		echo "systemd:$unit"
		return
	fi
	ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null || echo 0)
	pcomm=$(cat "/proc/$ppid/comm" 2>/dev/null || true)
	if [ "$pcomm" = supervise-daemon ]; then echo openrc; else echo none; fi
}

stop_services() { # on uninstall: stop and disable what a supervisor runs
	local s
	[ "$live" = 1 ] || return 0
	if sd_live; then
		for s in "${SERVICES[@]}"; do
			[ -f "$unitdir/$s.service" ] && run systemctl disable --now "$s.service" || true
		done
		[ -f "$unitdir/routerd-dpi.target" ] && run systemctl disable --now routerd-dpi.target || true
	elif rc_live; then
		for s in "${SERVICES[@]}"; do
			[ -f "$initddir/$s" ] || continue
			run rc-service "$s" stop || true
			run rc-update del "$s" default || true
		done
	fi
	local b pid
	for b in "${BINS[@]}"; do
		for pid in $(svc_running_pids "$bindir/$b"); do
			warn "$b (pid $pid) still runs from $bindir and no supervisor stopped it; stop it yourself"
		done
	done
}

# ---------------------------------------------------------------- uninstall
if [ "$uninstall" = 1 ]; then
	stop_services
	for b in "${BINS[@]}"; do
		[ ! -e "$D$bindir/$b" ] || run rm -f "$D$bindir/$b"
	done
	for s in "${SERVICES[@]}"; do
		[ ! -e "$D$unitdir/$s.service" ] || run rm -f "$D$unitdir/$s.service"
		[ ! -e "$D$initddir/$s" ] || run rm -f "$D$initddir/$s"
	done
	[ ! -e "$D$unitdir/routerd-dpi.target" ] || run rm -f "$D$unitdir/routerd-dpi.target"
	[ ! -d "$D$sharedir" ] || run rm -rf "$D$sharedir"
	[ ! -d "$D$docdir" ] || run rm -rf "$D$docdir"
	if sd_live; then run systemctl daemon-reload; fi
	if [ "$purge" = 1 ]; then
		[ ! -d "$D$confdir" ] || run rm -rf "$D$confdir"
		[ ! -d "$D$statedir" ] || run rm -rf "$D$statedir"
		[ "$live" = 0 ] || ! getent passwd routerd >/dev/null 2>&1 ||
			say "kept the routerd user and group (userdel routerd removes them)"
	else
		say "kept $D$confdir and $D$statedir (--purge removes them)"
	fi
	if [ "$dry" = 1 ]; then say "dry run: nothing changed"; else say "uninstalled"; fi
	exit 0
fi

# ---------------------------------------------------------------- Debian packages
install_pkgs() { # the tools/deps.sh logic: only missing packages, apt-get update only then
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || { say "packages: all ${#@} present"; return 0; }
	command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get: install them first"
	is_root || [ "$dry" = 1 ] || die "missing packages (${missing[*]}): run as root"
	run env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
if [ "$deps" = yes ] || { [ "$deps" = auto ] && [ "$live" = 1 ]; }; then
	pkgs=("${RUN_PKGS[@]}")
	[ -n "$build_dir" ] || pkgs+=("${BUILD_PKGS[@]}")
	[ "$with_ndpi" = 0 ] || pkgs+=("${NDPI_PKGS[@]}")
	if command -v dpkg-query >/dev/null 2>&1; then
		install_pkgs "${pkgs[@]}"
	else
		warn "not a Debian system: install the equivalents of ${pkgs[*]} yourself"
	fi
fi

# ---------------------------------------------------------------- build
if [ -z "$build_dir" ]; then
	build_dir=$top/build
	args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
	[ "$with_ndpi" = 0 ] || args+=(-DRDPI_NDPI=ON)
	run "$top/tools/build.sh" "$build_dir" "${args[@]}"
fi
if [ -d "$build_dir" ]; then
	build_dir=$(cd "$build_dir" && pwd)
elif [ "$dry" = 0 ]; then
	die "--build-dir $build_dir: no such directory"
fi
bin_src() { # binary name -> path in the build tree
	case $1 in
	routerd-ndpi-agent) echo "$build_dir/services/agent/$1" ;;
	routerd-dpi-classifier) echo "$build_dir/services/classifier/$1" ;;
	routerd-firewall-logger) echo "$build_dir/services/logger/$1" ;;
	routerd-dpi-console) echo "$build_dir/services/console/$1" ;;
	esac
}
if [ "$dry" = 0 ]; then
	for b in "${REQUIRED_BINS[@]}"; do
		[ -x "$(bin_src "$b")" ] || die "$(bin_src "$b") is missing: build first (or drop --build-dir)"
	done
fi

# ---------------------------------------------------------------- libndpi check
# Before anything is installed: --with-ndpi must not leave a half-done install behind.
agent_src=$(bin_src routerd-ndpi-agent)
if [ "$dry" = 1 ]; then
	[ "$with_ndpi" = 0 ] || printf '+ %s selftest | grep -q %s\n' "$agent_src" '"libndpiLoaded":true'
else
	st=$("$agent_src" selftest --config /dev/null 2>&1 || true)
	if grep -q '"libndpiLoaded":true' <<<"$st"; then
		say "routerd-ndpi-agent: libndpi loaded"
	elif [ "$with_ndpi" = 1 ]; then
		cat >&2 <<EOF
install.sh: error: --with-ndpi, but \`$agent_src selftest\` does not report "libndpiLoaded":true:
$(printf '%s' "$st" | head -c 300)

  The agent in $build_dir was built without libndpi (or cannot load it). Nothing was installed.
  Fix: install libndpi and rebuild the agent with it, then rerun:
    apt-get install libndpi-dev libndpi4.2
    cmake -S $top -B $build_dir -DRDPI_NDPI=ON && cmake --build $build_dir
    ./install.sh --with-ndpi --build-dir $build_dir
  (./install.sh --with-ndpi without --build-dir does all of this in build/.)
  Or install without --with-ndpi: the classifier then runs its builtin engine; set
  classifier.engine = "builtin" in $conf to leave the agent out entirely.
EOF
		exit 1
	else
		say "routerd-ndpi-agent: built without libndpi (optional: --with-ndpi adds it)"
	fi
fi

# ---------------------------------------------------------------- user, directories
if [ "$live" = 1 ]; then
	if ! getent passwd routerd >/dev/null 2>&1; then
		if have_group; then
			run useradd --system --gid routerd --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin --comment "routerd DPI daemons" routerd
		else
			run useradd --system --user-group --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin --comment "routerd DPI daemons" routerd
		fi
	else
		say "user routerd exists"
	fi
else
	say "staging in $D: not creating the routerd user (create it on the target: useradd --system --user-group routerd)"
fi
own() { # chown only on a live install where the group exists (or will, in a dry run)
	[ "$live" = 1 ] || return 0
	[ "$dry" = 1 ] || have_group || return 0
	run chown "$@"
}
for d in "$D$bindir" "$D$sharedir" "$D$docdir"; do
	[ -d "$d" ] || run install -d -m 0755 "$d"
done
[ -d "$D$confdir" ] || { run install -d -m 0750 "$D$confdir" && own root:routerd "$D$confdir"; }
[ -d "$D$statedir" ] || { run install -d -m 2750 "$D$statedir" && own root:routerd "$D$statedir"; }

# ---------------------------------------------------------------- binaries
# Copy next to the target and rename over it: a running helper keeps its old inode, whose
# /proc/<pid>/exe then reads "(deleted)" -- that is how upgraded helpers are found below.
replaced=()
for b in "${BINS[@]}"; do
	src=$(bin_src "$b")
	if [ ! -x "$src" ]; then
		if [ "$dry" = 1 ]; then
			printf '+ install -m 0755 %s %s (after the build)\n' "$src" "$D$bindir/$b"
			continue
		fi
		warn "$src not built: $b not installed"
		continue
	fi
	if [ -f "$D$bindir/$b" ] && cmp -s "$src" "$D$bindir/$b"; then
		say "$D$bindir/$b is up to date"
		continue
	fi
	run install -m 0755 "$src" "$D$bindir/.$b.new"
	run mv -f "$D$bindir/.$b.new" "$D$bindir/$b"
	replaced+=("$b")
done
run install -m 0644 "$top/README.md" "$D$docdir/README.md"
[ ! -f "$top/services/agent/README.md" ] ||
	run install -m 0644 "$top/services/agent/README.md" "$D$docdir/README.agent.md"
run install -m 0755 "$top/tools/render-units.sh" "$D$sharedir/render-units.sh"

# ---------------------------------------------------------------- config
new_conf=$top/conf/dpi.conf
shipped=$D$sharedir/dpi.conf.default # the default the previous install shipped
if [ ! -f "$new_conf" ]; then
	die "$new_conf is missing from this checkout"
elif [ ! -e "$D$conf" ]; then
	run install -m 0640 "$new_conf" "$D$conf"
	own root:routerd "$D$conf"
elif cmp -s "$new_conf" "$D$conf"; then
	say "$D$conf is already the current default"
elif [ -f "$shipped" ] && cmp -s "$shipped" "$D$conf"; then
	say "$D$conf was the unedited previous default: updating it"
	run install -m 0640 "$new_conf" "$D$conf.tmp"
	own root:routerd "$D$conf.tmp"
	run mv -f "$D$conf.tmp" "$D$conf"
else
	run install -m 0640 "$new_conf" "$D$conf.new"
	own root:routerd "$D$conf.new"
	say "$D$conf has local edits: kept it; the new default is $D$conf.new (merge by hand)"
fi
run install -m 0644 "$new_conf" "$shipped"

# ---------------------------------------------------------------- units / scripts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
render_conf=$D$conf
[ -f "$render_conf" ] || render_conf=$new_conf # dry run of a first install
if [ "$init" = systemd ]; then svcdir=$unitdir; else svcdir=$initddir; fi
"$top/tools/render-units.sh" --config "$render_conf" --prefix "$prefix" --installed-config "$conf" \
	--init "$init" --output "$tmp" >/dev/null
engine=$("$top/tools/render-units.sh" --config "$render_conf" --print-settings | sed -n 's/^engine=//p')
say "classifier.engine=$engine in $render_conf: rendering $init files for it"
[ -d "$D$svcdir" ] || run install -d -m 0755 "$D$svcdir"
changed_units=()
for f in "$tmp"/*; do
	n=${f##*/}
	if [ -f "$D$svcdir/$n" ] && cmp -s "$f" "$D$svcdir/$n"; then continue; fi
	[ ! -f "$D$svcdir/$n" ] || changed_units+=("${n%.service}")
	if [ "$init" = systemd ]; then m=0644; else m=0755; fi
	run install -m "$m" "$f" "$D$svcdir/$n"
done
removed_units=()
for s in "${SERVICES[@]}"; do
	if [ "$init" = systemd ]; then n=$s.service; else n=$s; fi
	if [ -f "$D$svcdir/$n" ] && [ ! -f "$tmp/$n" ]; then
		removed_units+=("$s")
		if sd_live; then
			run systemctl disable --now "$n" || true
		elif rc_live; then
			run rc-service "$s" stop || true
			run rc-update del "$s" default || true
		fi
		run rm -f "$D$svcdir/$n"
		say "removed $n: classifier.engine=$engine does not use it"
	fi
done
if sd_live; then
	run systemctl daemon-reload
	units=()
	for f in "$tmp"/*.service; do units+=("${f##*/}"); done
	run systemctl enable routerd-dpi.target "${units[@]}"
fi
if rc_live; then
	for f in "$tmp"/*; do run rc-update add "${f##*/}" default; done
fi

# ---------------------------------------------------------------- upgrade restarts
restarted=0
unsupervised=()
if [ "$live" = 1 ]; then
	for b in "${BINS[@]}"; do
		for pid in $(svc_running_pids "$bindir/$b"); do
			exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
			why=
			case $exe in *" (deleted)") why="binary replaced" ;; esac
			for u in "${changed_units[@]}"; do [ "$u" != "$b" ] || why="${why:+$why, }unit changed"; done
			[ -n "$why" ] || continue
			sup=$(supervisor_of "$pid")
			case $sup in
			systemd:*)
				say "$b (pid $pid): $why: restarting ${sup#systemd:}"
				run systemctl try-restart "${sup#systemd:}"
				restarted=$((restarted + 1)) ;;
			openrc)
				say "$b (pid $pid): $why: restarting with rc-service"
				run rc-service "$b" restart
				restarted=$((restarted + 1)) ;;
			*) unsupervised+=("$pid:$b:$why") ;;
			esac
		done
	done
fi

proc_stat() { # pid -> "STATE STARTTIME" from one read of /proc/<pid>/stat (empty when gone)
	local s f
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	read -r -a f <<<"${s##*) }" # the fields after "(comm) ": state is field 3, starttime field 22
	printf '%s %s\n' "${f[0]}" "${f[19]}"
}
proc_start() { local s; s=$(proc_stat "$1"); printf '%s\n' "${s#* }"; }
# same process (pid + start time: pids are reused) and not a zombie, from a single read: two reads
# race with the reaper (a zombie reaped between them looked alive)
proc_alive() { local s; s=$(proc_stat "$1"); [ -n "$s" ] && [ "${s% *}" != Z ] && [ "${s#* }" = "$2" ]; }
restart_one() { # pid binary: SIGTERM, wait, start the new binary with the same argv
	local pid=$1 b=$2 i out err cwd st exe
	local -a argv=()
	st=$(proc_start "$pid")
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
	case $exe in "$bindir/$b" | "$bindir/$b (deleted)") ;; *)
		warn "pid $pid is no longer $bindir/$b: not touched"
		return 1 ;;
	esac
	while IFS= read -r -d '' a; do argv+=("$a"); done <"/proc/$pid/cmdline"
	[ ${#argv[@]} -gt 0 ] || { warn "pid $pid: empty cmdline, not restarted"; return 1; }
	cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || echo /)
	out=$(readlink "/proc/$pid/fd/1" 2>/dev/null || true)
	err=$(readlink "/proc/$pid/fd/2" 2>/dev/null || true)
	[ -f "$out" ] || out=/dev/null
	[ -f "$err" ] || err=/dev/null
	argv[0]=$bindir/$b
	printf '+ kill -TERM %s; wait; (cd %s && setsid %s >>%s 2>>%s &)\n' "$pid" "$cwd" "${argv[*]}" "$out" "$err"
	[ "$dry" = 0 ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		proc_alive "$pid" "$st" || break
		sleep 0.1
	done
	if proc_alive "$pid" "$st"; then
		warn "pid $pid did not stop in 10 s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 20; i++)); do proc_alive "$pid" "$st" || break; sleep 0.1; done
	fi
	(cd "$cwd" && exec setsid "${argv[@]}" </dev/null >>"$out" 2>>"$err") &
	local np=$!
	say "$b: restarted, new pid $np"
}
for e in "${unsupervised[@]}"; do
	pid=${e%%:*}
	rest=${e#*:}
	b=${rest%%:*}
	why=${rest#*:}
	if [ "$restart_unsup" = 1 ]; then
		say "$b (pid $pid, no supervisor): $why: restarting it (--restart-unsupervised)"
		restart_one "$pid" "$b" || true
	else
		say "$b (pid $pid) runs without a supervisor and is out of date ($why): restart it, or rerun with --restart-unsupervised"
	fi
done

# ---------------------------------------------------------------- summary
say "installed to ${D:-/}: binaries $D$bindir, config $D$conf, $init files $D$svcdir, state $D$statedir"
[ ${#removed_units[@]} -eq 0 ] || say "removed: ${removed_units[*]}"
if [ "$dry" = 1 ]; then
	say "dry run: nothing changed"
elif sd_live; then
	say "start: systemctl start routerd-dpi.target"
elif rc_live; then
	say "start: rc-service routerd-dpi-classifier start (and the other routerd-* services)"
fi
