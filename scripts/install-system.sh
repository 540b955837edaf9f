#!/usr/bin/env bash
# Puts imgcreate's system integration in place, as root, on a Debian-like machine:
#   PREFIX/sbin/imgcreated, PREFIX/bin/imgcreate      -> this checkout's bin/ (run `npm run build` first)
#   PREFIX/lib/systemd/system/imgcreated.service      the service (ExecStart rewritten for PREFIX)
#   /usr/share/dbus-1/system-services/...service      D-Bus activation
#   /usr/share/dbus-1/system.d/...conf                who may own and call the bus name
#   /usr/share/polkit-1/actions/org.imgcreate.policy  the polkit actions
#   /etc/polkit-1/rules.d/50-imgcreate.rules          example rules (imgbuilders may build), never overwritten
#   /usr/lib/tmpfiles.d/imgcreated.conf               /run/imgcreated, /var/lib/imgcreated, /var/cache/imgcreated
#   group imgbuilders
# Usage: install-system.sh [--prefix DIR] [--destdir DIR] [--uninstall]
#   --destdir stages everything under DIR (for packaging); nothing on the running system changes then.
#   --uninstall removes what install put there; state, cache, the group and an edited rules file stay.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

prefix=/usr/local destdir="" action=install
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
    --uninstall) action=uninstall; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "install-system.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ] && [ -z "$destdir" ]; then
  echo "install-system.sh: run as root (it installs system files), or stage with --destdir DIR" >&2; exit 2
fi

unitdir=$prefix/lib/systemd/system
sbin_link=$prefix/sbin/imgcreated
bin_link=$prefix/bin/imgcreate
activation=/usr/share/dbus-1/system-services/org.imgcreate.ImageCreator1.service
busconf=/usr/share/dbus-1/system.d/org.imgcreate.ImageCreator1.conf
policy=/usr/share/polkit-1/actions/org.imgcreate.policy
rules=/etc/polkit-1/rules.d/50-imgcreate.rules
tmpfiles=/usr/lib/tmpfiles.d/imgcreated.conf
# The GNOME frontend (imgcreate-gtk): launcher, desktop entry, icon, AppStream metainfo.
gtk_link=$prefix/bin/imgcreate-gtk
desktop=$prefix/share/applications/org.imgcreate.Gtk.desktop
icon=$prefix/share/icons/hicolor/scalable/apps/org.imgcreate.Gtk.svg
metainfo=$prefix/share/metainfo/org.imgcreate.Gtk.metainfo.xml

# systemd is the init system only when /run/systemd/system exists (sd_booted()'s test).
systemd_running() { [ -z "$destdir" ] && [ -d /run/systemd/system ]; }

# install MODE SRC DEST, with DEST's directory created; the command name is install(1)'s.
put() { install -D -m "$1" "$2" "$destdir$3"; }

# The unit and the activation file name the daemon by path: follow --prefix.
put_with_prefix() {
  mkdir -p "$(dirname "$destdir$3")"
  sed "s#/usr/local/sbin/imgcreated#$sbin_link#g" "$2" > "$destdir$3"
  chmod "$1" "$destdir$3"
}

do_install() {
  if [ ! -f dist/daemon/main.js ]; then
    echo "install-system.sh: note: dist/daemon/main.js is missing; run \`npm run build\` before starting the service" >&2
  fi
  mkdir -p "$destdir$prefix/sbin" "$destdir$prefix/bin"
  ln -sfn "$src/bin/imgcreated" "$destdir$sbin_link"
  ln -sfn "$src/bin/imgcreate" "$destdir$bin_link"
  ln -sfn "$src/bin/imgcreate-gtk" "$destdir$gtk_link"
  put 0644 gtk/data/org.imgcreate.Gtk.desktop "$desktop"
  put 0644 gtk/data/org.imgcreate.Gtk.svg "$icon"
  put 0644 gtk/data/org.imgcreate.Gtk.metainfo.xml "$metainfo"
  put_with_prefix 0644 systemd/imgcreated.service "$unitdir/imgcreated.service"
  put_with_prefix 0644 systemd/org.imgcreate.ImageCreator1.service "$activation"
  put 0644 systemd/org.imgcreate.ImageCreator1.conf "$busconf"
  put 0644 polkit/org.imgcreate.policy "$policy"
  put 0644 systemd/imgcreated.conf "$tmpfiles"
  # polkitd reads rules.d as its own user; the directory itself is root/polkitd 0700 on Debian.
  if [ ! -e "$destdir$rules" ]; then put 0644 polkit/org.imgcreate.rules.example "$rules"; fi

  if [ -z "$destdir" ]; then
    getent group imgbuilders >/dev/null || groupadd --system imgbuilders
  fi
  if command -v systemd-tmpfiles >/dev/null; then
    if [ -n "$destdir" ]; then systemd-tmpfiles --root="$destdir" --create "$destdir$tmpfiles"
    else systemd-tmpfiles --create "$tmpfiles"; fi
  else
    install -d -m 0755 "$destdir/run/imgcreated"
    install -d -m 0711 "$destdir/var/lib/imgcreated"
    install -d -m 0700 "$destdir/var/cache/imgcreated"
  fi
  if systemd_running; then
    systemctl daemon-reload
    # dbus-daemon notices new policy files itself; reloading makes it certain for activation files too.
    systemctl reload dbus.service 2>/dev/null || true
  fi
  echo "imgcreate: installed (add users to the group imgbuilders to let them build: usermod -aG imgbuilders USER)"
}

do_uninstall() {
  if systemd_running; then systemctl stop imgcreated.service 2>/dev/null || true; fi
  rm -f "$destdir$sbin_link" "$destdir$bin_link" "$destdir$unitdir/imgcreated.service" \
    "$destdir$activation" "$destdir$busconf" "$destdir$policy" "$destdir$tmpfiles" \
    "$destdir$gtk_link" "$destdir$desktop" "$destdir$icon" "$destdir$metainfo"
  # The rules file is the admin's once installed: remove it only if it is still our example.
  if [ -f "$destdir$rules" ] && cmp -s "$destdir$rules" polkit/org.imgcreate.rules.example; then
    rm -f "$destdir$rules"
  fi
  if systemd_running; then
    systemctl daemon-reload
    systemctl reload dbus.service 2>/dev/null || true
  fi
  echo "imgcreate: uninstalled (kept /var/lib/imgcreated, /var/cache/imgcreated and the group imgbuilders)"
}

"do_$action"
