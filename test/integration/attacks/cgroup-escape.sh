# Tries: move a process out of the sandbox's cgroup (and so out of its limits) into the host's root
# cgroups: a short-lived child writes its own pid into /sys/fs/cgroup/*/cgroup.procs.
moved=""; no=""
for f in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs; do
  [ -e $f ] || continue
  if err=$( { sh -c 'echo $$ > "$1"' sh $f; } 2>&1 ); then moved="$moved $f"; else no="$no ${f#/sys/fs/cgroup/}(${err##*: })"; fi
done
[ -n "$moved" ] && escaped "a process moved itself into the host's$moved"
blocked "${no:-no cgroup.procs visible}"
