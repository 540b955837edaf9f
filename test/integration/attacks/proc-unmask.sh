# Tries: undo what makes /proc safe: remount /proc/sys read-write, unmount the masks over /proc/sys,
# /proc/kcore, /proc/sysrq-trigger, mount a fresh procfs; then write core_pattern back (value read).
f=/proc/sys/kernel/core_pattern
v=$(cat $f)
tried=""
try() { if "$@"; then tried="$tried ok:[$*]"; else tried="$tried no:[$*]"; fi; }
try mount -o remount,rw /proc/sys
try mount -o remount,bind,rw /proc/sys
try umount /proc/sys
try umount -l /proc/sysrq-trigger
try umount /proc/kcore
mkdir -p /tmp/attack-proc-$ATTACK_TOKEN
try mount -t proc proc /tmp/attack-proc-$ATTACK_TOKEN
g=$f; [ -e /tmp/attack-proc-$ATTACK_TOKEN/sys/kernel/core_pattern ] && g="$f /tmp/attack-proc-$ATTACK_TOKEN/sys/kernel/core_pattern"
for x in $g; do
  if printf '%s\n' "$v" > $x; then umount /tmp/attack-proc-$ATTACK_TOKEN; rmdir /tmp/attack-proc-$ATTACK_TOKEN; escaped "core_pattern writable through $x after:$tried"; fi
done
umount /tmp/attack-proc-$ATTACK_TOKEN; rmdir /tmp/attack-proc-$ATTACK_TOKEN
blocked "core_pattern stays read-only after:$tried"
