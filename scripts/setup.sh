#!/usr/bin/env bash
# Installs everything imgcreate needs on a Debian 12 machine, as root:
# the Debian packages in scripts/debian-packages.txt, the npm dependencies, the build,
# and (with --system) the systemd, D-Bus and polkit files.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (it installs Debian packages)" >&2; exit 2
fi

pkgs=$(grep -v '^\s*#' scripts/debian-packages.txt | grep -v '^\s*$' | xargs)
missing=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $pkgs 2>/dev/null | awk '$2!="installed"{print $1}' || true)
# dpkg-query says nothing for packages it has never heard of: count those as missing too.
for p in $pkgs; do dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$(echo $missing)" ]; then
  echo "setup: installing Debian packages:$missing"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs
fi

# slirp4netns (outbound network for %post, --network=outbound) opens /dev/net/tun as the sandbox's
# unprivileged uid: Debian's udev makes it 0666 (50-udev-default.rules); without udev it stays 0600.
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" = 600 ]; then chmod 0666 /dev/net/tun; fi

# Native addons (dbus-next's usocket for fd passing, node-pty) build against the system's Node headers.
export npm_config_nodedir=${npm_config_nodedir:-/usr}
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build

if [ "${1:-}" = "--system" ]; then
  bash scripts/install-system.sh
fi
