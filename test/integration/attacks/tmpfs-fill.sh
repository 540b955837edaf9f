# Tries: fill the sandbox's memory-backed filesystems (/dev/shm, /run: tmpfs, i.e. host RAM) up to
# ATTACK_MEM_NET_MIB. The file is removed at once afterwards.
out=""
for d in /dev/shm /run; do
  [ -d $d ] || continue
  f=$d/attack-fill.$$
  dd if=/dev/zero of=$f bs=1M count=$ATTACK_MEM_NET_MIB 2>/dev/null; st=$?
  mib=$(( $(stat -c %s $f 2>/dev/null || echo 0) >> 20 )); rm -f $f
  [ $mib -ge $ATTACK_MEM_NET_MIB ] && escaped "$d (tmpfs) took $mib MiB of host memory with no limit; stopped only by the suite's own net"
  out="$out $d: stopped at $mib MiB (dd exit $st)"
done
blocked "${out:- no tmpfs to fill}"
