#!/usr/bin/env bash
# Render the routerd-dpi service set (systemd units or OpenRC scripts) from a dpi.conf.
# The classifier's engine decides whether the agent exists and whether the classifier
# wants it; flowLimit values decide MemoryMax. conf/systemd/ and conf/openrc/ hold the
# output for conf/dpi.conf (tests/install/test_units.sh checks they are in sync).
set -euo pipefail

usage() {
	cat <<'EOF'
usage: tools/render-units.sh [--config FILE] [--prefix DIR] [--sysconfdir DIR]
                             [--init systemd|openrc] [--installed-config FILE]
                             [--engine builtin|auto|ndpi-agent] --output DIR

  --config FILE           dpi.conf to read (default: conf/dpi.conf of this checkout;
                          a missing file means all defaults, engine "builtin")
  --prefix DIR            binaries are DIR/bin/routerd-* (default /usr/local)
  --sysconfdir DIR        the units pass --config DIR/routerd/dpi.conf (default /etc)
  --installed-config FILE the path the units pass to --config (overrides --sysconfdir)
  --init systemd|openrc   what to write (default systemd)
  --engine E              use E instead of the file's classifier.engine
  --output DIR            where to write; existing routerd files there are replaced,
                          the agent's file is removed when the engine does not use it
  --print-settings        print the values read from the config and exit

Rules (issue #8):
  engine auto|ndpi-agent  agent unit rendered; classifier Wants=/After= it (OpenRC: use/after)
  engine builtin          no agent unit, nothing mentions the agent
  the logger depends on the classifier only; the console orders after the logger
  MemoryMax = base + per-flow bytes x flowLimit, rounded up to 16 MiB (see the units)
EOF
}

top=$(cd "$(dirname "$0")/.." && pwd)
config=$top/conf/dpi.conf
prefix=/usr/local
sysconfdir=/etc
installed_config=
init=systemd
out=
print_settings=0
engine_override=

while [ $# -gt 0 ]; do
	case $1 in
	--config) config=$2; shift 2 ;;
	--config=*) config=${1#*=}; shift ;;
	--prefix) prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--sysconfdir) sysconfdir=$2; shift 2 ;;
	--sysconfdir=*) sysconfdir=${1#*=}; shift ;;
	--installed-config) installed_config=$2; shift 2 ;;
	--installed-config=*) installed_config=${1#*=}; shift ;;
	--init) init=$2; shift 2 ;;
	--init=*) init=${1#*=}; shift ;;
	--output | -o) out=$2; shift 2 ;;
	--output=*) out=${1#*=}; shift ;;
	--engine) engine_override=$2; shift 2 ;;
	--engine=*) engine_override=${1#*=}; shift ;;
	--print-settings) print_settings=1; shift ;;
	-h | --help | help) usage; exit 0 ;;
	*) echo "render-units: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
done
[ -n "$installed_config" ] || installed_config=$sysconfdir/routerd/dpi.conf
case $init in systemd | openrc) ;; *) echo "render-units: --init must be systemd or openrc" >&2; exit 2 ;; esac

# libconfig -> "group.key<TAB>value" lines for scalar settings (strings unquoted).
# Handles '#', '//' and '/* */' comments, '=' or ':', nested groups, strings with escapes;
# lists and arrays are skipped (nothing here needs them).
parse_config() {
	awk '
	BEGIN { RS = "\001"; depth = 0 }
	{
		s = $0; n = length(s); i = 1; tok = ""; ntok = 0
		while (i <= n) {
			c = substr(s, i, 1)
			if (c == "#" || (c == "/" && substr(s, i + 1, 1) == "/")) {
				while (i <= n && substr(s, i, 1) != "\n") i++
				continue
			}
			if (c == "/" && substr(s, i + 1, 1) == "*") {
				j = index(substr(s, i + 2), "*/")
				if (j == 0) break
				i += j + 3
				continue
			}
			if (c == "\"") {
				v = ""; i++
				while (i <= n) {
					c = substr(s, i, 1)
					if (c == "\\") { v = v substr(s, i + 1, 1); i += 2; continue }
					if (c == "\"") { i++; break }
					v = v c; i++
				}
				# adjacent string literals concatenate
				if (ntok > 0 && toks[ntok] ~ /^S/) toks[ntok] = toks[ntok] v
				else toks[++ntok] = "S" v
				continue
			}
			if (c ~ /[ \t\r\n]/) { i++; continue }
			if (c ~ /[={}();:,\[\]]/) { toks[++ntok] = "P" (c == ":" ? "=" : c); i++; continue }
			v = ""
			while (i <= n) {
				c = substr(s, i, 1)
				if (c ~ /[ \t\r\n={}();:,\[\]#"]/) break
				if (c == "/" && substr(s, i + 1, 1) ~ /[\/*]/) break
				v = v c; i++
			}
			toks[++ntok] = "W" v
		}
		path[0] = ""; skip = 0
		for (t = 1; t <= ntok; t++) {
			k = toks[t]
			if (k ~ /^W/ && toks[t + 1] == "P=") {
				name = substr(k, 2); t += 2; v = toks[t]
				if (v == "P{") {
					depth++; path[depth] = (depth == 1 ? "" : path[depth - 1] ".") name
					continue
				}
				if (v == "P(" || v == "P[") {
					lvl = 1
					while (lvl > 0 && t < ntok) {
						t++
						if (toks[t] == "P(" || toks[t] == "P[" || toks[t] == "P{") lvl++
						if (toks[t] == "P)" || toks[t] == "P]" || toks[t] == "P}") lvl--
					}
					continue
				}
				full = (depth == 0 ? name : path[depth] "." name)
				printf "%s\t%s\n", full, substr(v, 2)
				continue
			}
			if (k == "P}" && depth > 0) depth--
		}
	}' "$1"
}

declare -A cfg=()
if [ -f "$config" ]; then
	while IFS=$'\t' read -r k v; do
		cfg[$k]=$v
	done < <(parse_config "$config")
elif [ "$config" != "$top/conf/dpi.conf" ]; then
	echo "render-units: $config: no such file" >&2
	exit 1
fi

get() { # key default
	if [ -n "${cfg[$1]+x}" ]; then printf '%s' "${cfg[$1]}"; else printf '%s' "$2"; fi
}
int_or_default() { # value default (libconfig ints may carry an L suffix)
	local v=${1%L}
	case $v in '' | *[!0-9]*) printf '%s' "$2" ;; *) printf '%s' "$((10#$v))" ;; esac
}

engine=$(get classifier.engine builtin)
[ -z "$engine_override" ] || engine=$engine_override
case $engine in builtin | auto | ndpi-agent) ;; *)
	echo "render-units: $config: classifier.engine \"$engine\" is not builtin|ndpi-agent|auto" >&2
	exit 1 ;;
esac
classifier_flows=$(int_or_default "$(get classifier.flowLimit 100000)" 100000)
agent_flows=$(int_or_default "$(get agent.flowLimit 100000)" 100000)
[ "$agent_flows" -gt 0 ] || agent_flows=100000 # the agent reads 0 as 100000
dns_cache=$(int_or_default "$(get classifier.dnsCacheLimit 65536)" 65536)
sni_cache=$(int_or_default "$(get classifier.sniCacheLimit 65536)" 65536)
logger_flows=$(int_or_default "$(get firewallLog.dpiFlowLimit 100000)" 100000)
logger_expired=$(int_or_default "$(get firewallLog.expiredFlowLimit 100000)" 100000)

# MemoryMax in MiB: base + flows x bytes per flow, rounded up to a multiple of 16 MiB.
memmax() { # base_mib bytes_per_flow flows [bytes_per_flow2 flows2]
	local bytes=$(($1 * 1048576 + $2 * $3 + ${4:-0} * ${5:-0}))
	local mib=$(((bytes + 1048575) / 1048576))
	echo "$(((mib + 15) / 16 * 16))M"
}
agent_mem=$(memmax 32 1600 "$agent_flows")
classifier_mem=$(memmax 32 512 "$classifier_flows" 256 $((dns_cache + sni_cache)))
logger_mem=$(memmax 128 512 "$logger_flows" 512 "$logger_expired")
console_mem=256M
uses_agent=0
[ "$engine" = builtin ] || uses_agent=1

if [ "$print_settings" = 1 ]; then
	printf 'engine=%s\nusesAgent=%s\nclassifierFlowLimit=%s\nagentFlowLimit=%s\n' \
		"$engine" "$uses_agent" "$classifier_flows" "$agent_flows"
	printf 'classifierDnsCacheLimit=%s\nclassifierSniCacheLimit=%s\n' "$dns_cache" "$sni_cache"
	printf 'loggerDpiFlowLimit=%s\nloggerExpiredFlowLimit=%s\n' "$logger_flows" "$logger_expired"
	printf 'agentMemoryMax=%s\nclassifierMemoryMax=%s\nloggerMemoryMax=%s\nconsoleMemoryMax=%s\n' \
		"$agent_mem" "$classifier_mem" "$logger_mem" "$console_mem"
	exit 0
fi
[ -n "$out" ] || { echo "render-units: --output DIR is required" >&2; exit 2; }
mkdir -p "$out"

bin=$prefix/bin
cf=$installed_config
hdr="# Generated by tools/render-units.sh from dpi.conf (classifier.engine=$engine); edit dpi.conf and re-render."

# ---------------------------------------------------------------- systemd
render_systemd() {
	local f
	# the sandbox every unit gets
	sandbox() {
		cat <<EOF
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
EOF
	}
	# shared hardening for the unprivileged daemons
	hardening() {
		echo "User=routerd"
		echo "Group=routerd"
		sandbox
		echo "CapabilityBoundingSet="
		echo "UMask=0007"
	}
	# [Service] start of every daemon: service_head <binary> <Restart=>
	service_head() {
		cat <<EOF
[Service]
Type=simple
ExecStart=$bin/$1 daemon --config $cf
ExecReload=/bin/kill -HUP \$MAINPID
Restart=$2
RestartSec=2s
EOF
	}
	# runtime_dir <directory under /run/routerd> [preserve]
	runtime_dir() {
		echo "RuntimeDirectory=routerd/$1"
		echo "RuntimeDirectoryMode=0750"
		[ -z "${2:-}" ] || echo "RuntimeDirectoryPreserve=restart"
	}

	if [ "$uses_agent" = 1 ]; then
		f=$out/routerd-ndpi-agent.service
		{
			echo "$hdr"
			cat <<EOF
[Unit]
Description=routerd nDPI agent (optional libndpi analysis for routerd-dpi-classifier)
Documentation=file://$prefix/share/doc/routerd-dpi/README.md
PartOf=routerd-dpi.target

$(service_head routerd-ndpi-agent on-failure)
$(hardening)
RestrictAddressFamilies=AF_UNIX
# Sockets live in /run/routerd/ndpi-agent (0750, group routerd: the classifier
# connects; the daemon creates them 0660). Kept across restarts so a stop of the
# agent never removes a directory a peer is about to redial.
$(runtime_dir ndpi-agent preserve)
# The agent keeps no files; its state is memory only.
# MemoryMax = 32 MiB base (libndpi detection module, RPC buffers, workers)
#           + 1600 bytes x agent.flowLimit (nDPI flow state of flows still being
#             inspected ~1.4 KB, plus the ~180-byte verdict kept until flowTTL),
#           rounded up to 16 MiB: agent.flowLimit=$agent_flows -> $agent_mem
#           (100000 flows -> 192M).
MemoryMax=$agent_mem

[Install]
WantedBy=routerd-dpi.target
EOF
		} >"$f"
	else
		rm -f "$out/routerd-ndpi-agent.service"
	fi

	f=$out/routerd-dpi-classifier.service
	{
		echo "$hdr"
		echo "[Unit]"
		echo "Description=routerd DPI classifier (builtin parsers, verdict cache, optional nDPI agent)"
		echo "Documentation=file://$prefix/share/doc/routerd-dpi/README.md"
		echo "PartOf=routerd-dpi.target"
		if [ "$uses_agent" = 1 ]; then
			echo "# engine=$engine: use the agent when it runs; without it the classifier"
			echo "# falls back to builtin (Wants=, not Requires=: stopping the agent is the rollback)."
			echo "Wants=routerd-ndpi-agent.service"
			echo "After=routerd-ndpi-agent.service"
		fi
		cat <<EOF

$(service_head routerd-dpi-classifier on-failure)
$(hardening)
RestrictAddressFamilies=AF_UNIX
$(runtime_dir dpi-classifier preserve)
# The classifier keeps no files (verdict and name caches are memory only).
# MemoryMax = 32 MiB base (parsers, QUIC/TLS reassembly buffers, RPC workers)
#           + 512 bytes x classifier.flowLimit (verdict cache entry: flow key, LRU links,
#             packed verdict with its names)
#           + 256 bytes x (dnsCacheLimit + sniCacheLimit) (name cache entries),
#           rounded up to 16 MiB: flowLimit=$classifier_flows, caches $dns_cache + $sni_cache
#           -> $classifier_mem (defaults 100000, 65536 + 65536 -> 128M).
MemoryMax=$classifier_mem

[Install]
WantedBy=routerd-dpi.target
EOF
	} >"$f"

	f=$out/routerd-firewall-logger.service
	{
		echo "$hdr"
		cat <<EOF
[Unit]
Description=routerd firewall logger (NFLOG + conntrack -> firewall-logs.db, traffic-flows.db)
Documentation=file://$prefix/share/doc/routerd-dpi/README.md
PartOf=routerd-dpi.target
# DPI comes from the classifier only; the logger writes rows without it when it is down.
Wants=routerd-dpi-classifier.service
After=routerd-dpi-classifier.service

$(service_head routerd-firewall-logger always)
# Root for NFLOG and conntrack netlink, but with CAP_NET_ADMIN only (no
# CAP_DAC_OVERRIDE: it reaches the classifier's socket through group routerd).
User=root
Group=routerd
CapabilityBoundingSet=CAP_NET_ADMIN
AmbientCapabilities=CAP_NET_ADMIN
$(sandbox)
RestrictAddressFamilies=AF_UNIX AF_NETLINK
# /run/routerd/firewall-logger is root:routerd 0750, the sockets 0660: the console
# (group routerd) can connect.
$(runtime_dir firewall-logger preserve)
# The only writer of /var/lib/routerd (firewall-logs.db, traffic-flows.db), so the only
# unit that owns it as StateDirectory: root:routerd 2750 (setgid: files keep group routerd), databases 0640 (UMask), which
# the console (group routerd) opens read-only. The other units do not declare it, since
# systemd would chown it to their user on every start.
StateDirectory=routerd
StateDirectoryMode=2750
ReadWritePaths=/var/lib/routerd
UMask=0027
# MemoryMax = 128 MiB base (SQLite page caches, NFLOG buffers, DPI and writer queues)
#           + 512 bytes x firewallLog.dpiFlowLimit (flow budget + verdict table)
#           + 512 bytes x firewallLog.expiredFlowLimit (recent-expired table),
#           rounded up to 16 MiB: $logger_flows + $logger_expired -> $logger_mem.
MemoryMax=$logger_mem

[Install]
WantedBy=routerd-dpi.target
EOF
	} >"$f"

	f=$out/routerd-dpi-console.service
	{
		echo "$hdr"
		cat <<EOF
[Unit]
Description=routerd DPI console (read-only API and web page over the logger's databases)
Documentation=file://$prefix/share/doc/routerd-dpi/README.md
PartOf=routerd-dpi.target
After=network.target routerd-firewall-logger.service

$(service_head routerd-dpi-console on-failure)
$(hardening)
# TCP listener (console.listen, 127.0.0.1:9780 by default) + the logger's Unix socket.
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
$(runtime_dir dpi-console)
# Reads the databases only: ProtectSystem=strict makes /var/lib/routerd read-only
# (no ReadWritePaths); ReadOnlyPaths says so explicitly.
ReadOnlyPaths=/var/lib/routerd
# MemoryMax: fixed, the console holds no per-flow state (queries stream from SQLite).
MemoryMax=$console_mem

[Install]
WantedBy=routerd-dpi.target
EOF
	} >"$f"

	f=$out/routerd-dpi.target
	{
		echo "$hdr"
		echo "[Unit]"
		echo "Description=routerd DPI observation pipeline"
		echo "# Members join through their [Install] WantedBy=routerd-dpi.target (systemctl enable),"
		echo "# so \`systemctl disable\` takes one out."
		if [ "$uses_agent" = 1 ]; then
			echo "# The classifier still Wants= the agent while classifier.engine is auto|ndpi-agent: to"
			echo "# drop it for good set engine \"builtin\" and rerun install.sh (or mask routerd-ndpi-agent)."
		fi
		echo
		echo "[Install]"
		echo "WantedBy=multi-user.target"
	} >"$f"
}

# ---------------------------------------------------------------- OpenRC
render_openrc() {
	# script name binary command-line description depend-lines user:group runtime-subdir [extra start_pre]
	script() {
		local f=$out/$1 privs
		if [ "$1" = routerd-firewall-logger ]; then
			privs='# root for NFLOG/conntrack netlink, CAP_NET_ADMIN only (OpenRC >= 0.45)
capabilities="^cap_net_admin"'
		else
			privs='no_new_privs="yes"'
		fi
		{
			echo "#!/sbin/openrc-run"
			echo "$hdr"
			cat <<EOF

description="$4"
command="$2"
command_args="$3"
command_user="$6"
$privs
supervisor=supervise-daemon
respawn_delay=2
respawn_max=0
extra_started_commands="reload"
output_log="/var/log/routerd/$1.log"
error_log="/var/log/routerd/$1.log"

depend() {
$5
}

start_pre() {
	checkpath --directory --owner root:root --mode 0755 /run/routerd
	checkpath --directory --owner $6 --mode 0750 /run/routerd/$7
	checkpath --directory --owner root:routerd --mode 0770 /var/log/routerd
EOF
			[ -z "${8:-}" ] || printf '%s\n' "$8"
			cat <<EOF
	# a broken dpi.conf fails the start with file:line instead of a respawn loop
	$2 --check-config --config $cf >/dev/null
}

reload() {
	ebegin "Reloading \${RC_SVCNAME}"
	supervise-daemon "\${RC_SVCNAME}" --signal HUP
	eend \$?
}
EOF
		} >"$f"
		chmod 0755 "$f"
	}

	if [ "$uses_agent" = 1 ]; then
		script routerd-ndpi-agent "$bin/routerd-ndpi-agent" "daemon --config $cf" \
			"routerd nDPI agent (optional libndpi analysis)" \
			"	need localmount" routerd:routerd ndpi-agent
	else
		rm -f "$out/routerd-ndpi-agent"
	fi
	local cdep="	need localmount"
	[ "$uses_agent" = 0 ] || cdep="$cdep
	use routerd-ndpi-agent
	after routerd-ndpi-agent"
	script routerd-dpi-classifier "$bin/routerd-dpi-classifier" "daemon --config $cf" \
		"routerd DPI classifier" "$cdep" routerd:routerd dpi-classifier
	script routerd-firewall-logger "$bin/routerd-firewall-logger" "daemon --config $cf" \
		"routerd firewall logger (NFLOG, conntrack)" \
		"	need localmount
	use routerd-dpi-classifier
	after routerd-dpi-classifier" root:routerd firewall-logger \
		"	checkpath --directory --owner root:routerd --mode 2750 /var/lib/routerd"
	script routerd-dpi-console "$bin/routerd-dpi-console" "daemon --config $cf" \
		"routerd DPI console (read-only)" \
		"	need localmount
	use net routerd-firewall-logger
	after routerd-firewall-logger" routerd:routerd dpi-console
}

if [ "$init" = systemd ]; then render_systemd; else render_openrc; fi
