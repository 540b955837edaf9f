# Tries: write the host's kernel.modprobe (the helper the kernel runs as host root to load a module).
# Writes back exactly the value read.
f=/proc/sys/kernel/modprobe
[ -e $f ] || blocked "$f does not exist here (a kernel without it has nothing to attack)"
v=$(cat $f) || blocked "cannot even read $f"
err=$( { printf '%s\n' "$v" > $f; } 2>&1 ) && escaped "wrote $f (the value read, '$v', back into it)"
blocked "write refused: $err (/proc/sys mounted $(awk '$2=="/proc/sys"{print $4}' /proc/self/mounts | cut -d, -f1))"
