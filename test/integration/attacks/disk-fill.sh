# Tries: fill the disk. The image's own filesystem must end at its size (ENOSPC there is fine); writing
# past ATTACK_FILL_NET_MIB (the image size plus a margin) means the host's disk is being filled. The test
# also checks the host's free space. The file is removed afterwards.
f=/var/tmp/attack-fill.$$
dd if=/dev/zero of=$f bs=1M count=$ATTACK_FILL_NET_MIB conv=fsync 2>/dev/null; st=$?
mib=$(( $(stat -c %s $f 2>/dev/null || echo 0) >> 20 )); rm -f $f; sync
[ $mib -ge $ATTACK_FILL_NET_MIB ] && escaped "wrote $mib MiB, more than the image can hold; stopped only by the suite's own net"
blocked "the image's filesystem was full after $mib MiB (dd exit $st)"
