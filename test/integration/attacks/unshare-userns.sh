# Tries: make a new user namespace and map its root to our uid 0 (unshare --user --map-root-user), hoping
# that uid is the host's root, then use it: write core_pattern back (the value read). The host uid is
# worked out from both uid_maps.
v=$(cat /proc/sys/kernel/core_pattern)
outer=$(uid_map)
r=$(unshare --user --map-root-user sh -c 'printf "MAP %s\n" "$(tr -s " " < /proc/self/uid_map | sed "s/^ //" | head -1)"; if printf "%s\n" "$1" > /proc/sys/kernel/core_pattern; then echo WROTE; fi' sh "$v" 2>&1 | tr '\n' ' ')
case $r in MAP*) ;; *) blocked "unshare --user --map-root-user refused: $r";; esac
set -- $(echo "$r" | sed 's/^MAP //')
inner_lower=$2
hostuid=$(awk -v u="$inner_lower" '{ if (u >= $1 && u < $1 + $3) { print $2 + (u - $1); exit } }' /proc/self/uid_map)
case $r in *WROTE*) escaped "new user namespace (map $1 $2 $3, host uid ${hostuid:-?}) wrote the host's core_pattern";; esac
[ "$hostuid" = 0 ] && escaped "new user namespace's root is the host's uid 0 (inner map $1 $2 $3, outer $outer)"
blocked "the new user namespace's root is host uid ${hostuid:-unmapped} (outer map $outer), core_pattern not writable"
