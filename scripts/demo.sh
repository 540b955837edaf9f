#!/usr/bin/env bash
# The README's main job, on a fresh Debian 12 machine, as root:
#   1. installs everything: Debian packages, npm dependencies, the build, the system files (scripts/setup.sh --system)
#   2. starts imgcreated (under systemd when it is PID 1; otherwise as a child of this script, with a
#      system bus and polkitd if the machine has none running)
#   3. adds a demo user to the group imgbuilders and, as that user, builds examples/debian-live.ks
#      into a live ISO with live progress
#   4. boot-tests the ISO in qemu (BIOS; add UEFI with DEMO_UEFI=1)
#   5. stops what it started; nothing is left running.
# Environment: DEMO_USER (default imgcreate-demo), DEMO_OUT (default /var/tmp/imgcreate-demo),
# DEMO_LOGS (default /var/log/imgcreate-demo), DEMO_UEFI=1, DEMO_MARKER (default "Serial Getty on ttyS0").
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "demo.sh: run as root (it installs packages and starts the system service)" >&2; exit 2
fi

user=${DEMO_USER:-imgcreate-demo}
out=${DEMO_OUT:-/var/tmp/imgcreate-demo}
logs=${DEMO_LOGS:-/var/log/imgcreate-demo}
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Installing everything (Debian packages, npm dependencies, build, system files)"
bash scripts/setup.sh --system

# Everything this script starts is remembered here and stopped on the way out, in reverse order.
started=()
cleanup() {
  local i pid
  for (( i=${#started[@]}-1; i>=0; i-- )); do
    pid=${started[i]}
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${under_systemd:-0}" = 1 ]; then systemctl stop imgcreated.service || true; fi
  # A bus we started leaves its socket file behind; a stale one would make the next client wait in vain.
  if [ "${own_bus:-0}" = 1 ]; then rm -f /run/dbus/system_bus_socket; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local t=$1 what=$2; shift 2
  for (( n=0; n < t*10; n++ )); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo.sh: $what did not come up within $t s" >&2; return 1
}
bus_has() { busctl --system status "$1"; }

under_systemd=0
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
  under_systemd=1
  say "Starting imgcreated under systemd"
  systemctl start imgcreated.service
else
  say "systemd is not PID 1: starting the system bus, polkitd and imgcreated as children of this script"
  mkdir -p "$logs"
  echo "(their logs: $logs/)"
  if ! bus_has org.freedesktop.DBus; then
    mkdir -p /run/dbus
    rm -f /run/dbus/system_bus_socket
    own_bus=1
    dbus-daemon --system --nofork --nopidfile >"$logs/dbus.log" 2>&1 & started+=($!)
    wait_for 10 "the system bus" bus_has org.freedesktop.DBus
  else
    # The bus was already running: make it read our policy file, installed after it started.
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
  fi
  if ! bus_has org.freedesktop.PolicyKit1; then
    /usr/lib/polkit-1/polkitd >"$logs/polkitd.log" 2>&1 & started+=($!)
    wait_for 10 "polkitd" bus_has org.freedesktop.PolicyKit1
  fi
  "$repo/bin/imgcreated" >"$logs/imgcreated.log" 2>&1 & started+=($!)
fi
wait_for 30 "imgcreated" bus_has org.imgcreate.ImageCreator1

say "Adding the user $user to the group imgbuilders"
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
usermod -aG imgbuilders "$user"
mkdir -p "$out"
chown "$user" "$out"
# The daemon never overwrites a file in your directory: clear the previous run's ISO first.
rm -f "$out/debian-live.iso" "$out/debian-live.iso.sha256"

say "Building examples/debian-live.ks as $user (Ctrl-C cancels and cleans up)"
# The client runs as the user: it reads the kickstart with the user's rights, the ISO is written as the user.
t0=$SECONDS
runuser -u "$user" -- "$repo/bin/imgcreate" build --type live --name debian-live --fslabel DEBIAN-LIVE \
  -o "$out" "$repo/examples/debian-live.ks"
echo "built in $((SECONDS - t0)) s:"
ls -l "$out"/debian-live.iso

# The example image reports systemd's boot on the serial console: the serial login service starting proves
# it booted. (Not the login prompt: it ends without a newline. Not multi-user.target: systemd stops its
# status lines once a getty owns the console, so that line may never come.)
marker=${DEMO_MARKER:-Serial Getty on ttyS0}
say "Boot-testing the ISO in qemu (BIOS), waiting for '$marker' on the serial console"
runuser -u "$user" -- "$repo/bin/imgcreate" boot-test --bios --marker "$marker" "$out/debian-live.iso"
if [ "${DEMO_UEFI:-0}" = 1 ]; then
  say "Boot-testing the ISO in qemu (UEFI)"
  runuser -u "$user" -- "$repo/bin/imgcreate" boot-test --uefi --marker "$marker" "$out/debian-live.iso"
fi

say "Done: $out/debian-live.iso; stopping what this demo started"
