# Tries: read kernel memory through /proc/kcore (should be masked, and needs the host's CAP_SYS_RAWIO).
[ -e /proc/kcore ] || blocked "/proc/kcore does not exist here (a kernel without CONFIG_PROC_KCORE has nothing to attack)"
n=$(dd if=/proc/kcore bs=4096 count=1 2>/dev/null | wc -c)
[ "$n" -gt 0 ] && escaped "read $n bytes of /proc/kcore"
blocked "/proc/kcore: $( { dd if=/proc/kcore of=/dev/null bs=4096 count=1; } 2>&1 | head -1) ($(ls -l /proc/kcore | cut -c1-10))"
