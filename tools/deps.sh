#!/usr/bin/env bash
# Install the Debian 12 packages routerd-dpi builds, tests and runs with.
# Idempotent: only missing packages are installed; apt-get update runs only then.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libprotobuf-c-dev protobuf-c-compiler
  libnng-dev nng-utils
  libsqlite3-dev sqlite3 libconfig-dev libcmocka-dev
  libmicrohttpd-dev libjansson-dev libssl-dev
  libndpi-dev
  libnetfilter-log-dev libnetfilter-conntrack-dev libpcap-dev
  curl nftables iproute2 openssl
  chromium fonts-dejavu-core prometheus systemd jq python3
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
