# Tries: make a block device node for the host's first disk (from /proc/partitions) and for loop0 (7:0),
# open it and read its first 512 bytes (read only: reading the host's disk = reading every host file).
disk=$(awk 'NR>2 && $4 !~ /^(loop|ram|sr)/ {print $1":"$2":"$4; exit}' /proc/partitions)
out=""; got=""
for spec in ${disk:-} 7:0:loop0; do
  maj=${spec%%:*}; rest=${spec#*:}; min=${rest%%:*}; nm=${rest#*:}
  n=/tmp/attack-blk-$nm-$$
  if err=$( { mknod $n b $maj $min; } 2>&1 ); then
    if err2=$( { dd if=$n of=/dev/null bs=512 count=1; } 2>&1 ) && [ -n "$(dd if=$n bs=512 count=1 2>/dev/null | od -An -c | head -1)" ]; then got="$got $nm($maj:$min) read"
    else out="$out $nm: mknod ok, open/read refused ($(echo "$err2" | head -1))"; fi
  else out="$out $nm: mknod refused ($err)"; fi
  rm -f $n
done
pre=$(ls -l /dev 2>/dev/null | awk '/^b/ {print $NF}' | tr '\n' ' ')
[ -n "$got" ] && escaped "block devices readable:$got"
[ -n "$pre" ] && for d in $pre; do dd if=/dev/$d of=/dev/null bs=512 count=1 && escaped "/dev/$d (present in /dev) is readable"; done
blocked "$out${pre:+; block nodes in /dev: $pre (not readable)}"
