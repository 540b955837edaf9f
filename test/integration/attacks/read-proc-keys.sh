# Tries: list the kernel's keys through /proc/keys (should be masked): with the host's uid 0 it shows the
# host root's keyrings (_uid.0, .builtin_trusted_keys, ...). Only descriptions are printed.
n=$(wc -l < /proc/keys)
[ "${n:-0}" -gt 0 ] && escaped "/proc/keys lists $n keys: $(awk '{print $9}' /proc/keys | tr -d : | head -6 | tr '\n' ' ')"
blocked "/proc/keys shows nothing ($( { cat /proc/keys; } 2>&1 | head -1))"
