# Tries: nothing active: finds which namespaces the sandbox shares with the host (ids from the test
# process). Sharing the user namespace means uid 0 here IS the host's root; sharing net, mount, pid, ipc
# or uts opens the doors the other attacks try.
shared=""; own=""
for t in user mnt pid net ipc uts cgroup; do
  mine=$(readlink /proc/self/ns/$t); host=$(host_ns $t)
  if [ "$mine" = "$host" ]; then shared="$shared $t"; else own="$own $t"; fi
done
s=$(echo $shared | sed 's/cgroup//')
[ -n "$(echo $s)" ] && escaped "shares the host's namespaces:$shared (own:$own; uid_map $(uid_map))"
blocked "own namespaces:$own${shared:+; shared: $shared} (uid_map $(uid_map))"
