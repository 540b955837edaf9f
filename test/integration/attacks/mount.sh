# Tries: mount a tmpfs, a procfs and a bind of / . Allowed only with the host's CAP_SYS_ADMIN or inside
# namespaces the sandbox owns; in the host user namespace any success is an escape. The test also checks
# that no mount of this attack shows up on the host.
d=/tmp/attack-mnt-$ATTACK_TOKEN
mkdir -p $d/tmpfs $d/proc $d/bind
ok=""; no=""
for spec in "tmpfs:-t tmpfs none $d/tmpfs" "proc:-t proc proc $d/proc" "bind:--bind / $d/bind"; do
  name=${spec%%:*}; args=${spec#*:}
  if err=$( { mount $args; } 2>&1 ); then ok="$ok $name"; else no="$no $name($err)"; fi
done
umount $d/tmpfs $d/proc $d/bind; rm -rf $d
[ -z "$ok" ] && blocked "every mount refused:$no"
in_host_userns && escaped "mounted$ok in the host's user namespace (uid_map $(uid_map))"
blocked "mounted$ok only inside the sandbox's own user and mount namespaces (uid_map $(uid_map)); refused:$no"
