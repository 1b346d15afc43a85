# Sourced by the shell tests (tests/<area>/test_*.sh, run by ctest with RDPI_SOURCE_DIR and
# RDPI_BINARY_DIR set): the build's binaries and the checks those tests start with.
src=${RDPI_SOURCE_DIR:?RDPI_SOURCE_DIR not set (run through ctest)}
bin=${RDPI_BINARY_DIR:?RDPI_BINARY_DIR not set (run through ctest)}
CLS=$bin/services/classifier/routerd-dpi-classifier
AGT=$bin/services/agent/routerd-ndpi-agent
LOG=$bin/services/logger/routerd-firewall-logger
CON=$bin/services/console/routerd-dpi-console
GEN=$bin/trafficgen

# need_built FILE...: FAIL (exit 1) unless each is an executable of this build.
need_built() {
	local b
	for b; do
		[ -x "$b" ] || {
			echo "FAIL: $b not built" >&2
			exit 1
		}
	done
}

# need_tools "<Debian packages>" TOOL...: SKIP (exit 77) naming the packages unless each tool
# is installed (tools/deps.sh, which the README's test command runs, installs them).
need_tools() {
	local pkgs=$1 t
	shift
	for t; do
		command -v "$t" >/dev/null || {
			echo "SKIP: $t is needed (Debian packages $pkgs)" >&2
			exit 77
		}
	done
}

# Checks count failures instead of stopping: fail MSG, ok MSG; the test ends with
# [ "$fails" -eq 0 ].
fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
ok() { echo "ok: $*"; }

# poll SECONDS CMD...: run CMD every 0.1 s until it succeeds (0) or SECONDS pass (1).
poll() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@" 2>/dev/null; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}
