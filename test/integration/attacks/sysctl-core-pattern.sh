# Tries: write the host's kernel.core_pattern (with "|/proc/%P/root/x" one crash would run image code as
# host root). Writes back exactly the value read, so success changes nothing; the test compares anyway.
f=/proc/sys/kernel/core_pattern
[ -e $f ] || blocked "$f does not exist here (a kernel without it has nothing to attack)"
v=$(cat $f) || blocked "cannot even read $f"
err=$( { printf '%s\n' "$v" > $f; } 2>&1 ) && escaped "wrote $f (the value read, '$v', back into it)"
blocked "write refused: $err (/proc/sys mounted $(awk '$2=="/proc/sys"{print $4}' /proc/self/mounts | cut -d, -f1))"
