# Tries: see the host's processes (the test's canary process, the daemon) in /proc and signal one: the
# canary (a "sleep" the test started) gets SIGTERM; the test checks on the host whether it died.
tag=$(canary_tag)
n=0; seen=""; canary=""
for p in /proc/[0-9]*; do
  n=$((n+1)); c=$(tr '\0' ' ' < $p/cmdline)
  case $c in
    "$tag"*) canary=${p#/proc/}; seen="$seen canary(pid ${p#/proc/})";;
    *ATTACK_*) ;; # this sandbox's own processes (the shell's argv holds this script)
    *imgcreated*|*daemon/main.*|*dbus-daemon*|*polkitd*) seen="$seen $(echo "$c" | cut -c1-40)(pid ${p#/proc/})";;
  esac
done
if [ -n "$canary" ]; then
  kill -TERM $canary && escaped "sees $n processes incl.$seen; SIGTERM sent to the host's canary pid $canary"
  escaped "sees $n processes incl.$seen (signal refused)"
fi
[ -n "$seen" ] && escaped "sees host processes:$seen"
blocked "sees $n processes, none of the host's (no canary, no daemon, bus or polkitd)"
