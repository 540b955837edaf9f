# Tries: open /proc/sysrq-trigger for writing (one byte there reboots or crashes the host). It only
# opens the file and closes it again: NOTHING is ever written.
[ -e /proc/sysrq-trigger ] || blocked "/proc/sysrq-trigger does not exist here (a kernel without CONFIG_MAGIC_SYSRQ has nothing to attack)"
perl -MFcntl -e 'if (sysopen(my $fh, "/proc/sysrq-trigger", O_WRONLY)) { close $fh; print "OPEN\n" } else { print "ERR $!\n" }' > /tmp/attack-sysrq.$$
r=$(cat /tmp/attack-sysrq.$$); rm -f /tmp/attack-sysrq.$$
case $r in
  OPEN) escaped "opened /proc/sysrq-trigger for writing (closed at once, nothing written)";;
  ERR*) blocked "open for write: ${r#ERR }";;
  *) blocked "perl could not run the probe: $r";;
esac
