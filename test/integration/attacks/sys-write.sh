# Tries: open for writing the sysfs and cgroupfs files that let a container run code on the host: cgroup
# v1 release_agent (CVE-2022-0492), /sys/kernel/uevent_helper, and /sys/power/state. Opens only
# (O_WRONLY, no O_TRUNC), never writes: one write to /sys/power/state would suspend the host.
files=$(ls /sys/fs/cgroup/*/release_agent /sys/fs/cgroup/release_agent /sys/kernel/uevent_helper /sys/power/state 2>/dev/null)
r=$(printf '%s\n' $files | perl -MFcntl -e 'my @ok; my @no; while (my $f = <STDIN>) { chomp $f;
  if (sysopen(my $h, $f, O_WRONLY)) { push @ok, $f; close $h } else { push @no, "$f: $!" } }
  print(@ok ? "OK @ok\n" : "ERR " . join("; ", @no) . "\n");')
case $r in
  OK*) escaped "opened for writing (nothing written): ${r#OK }";;
  *) [ -n "$files" ] && blocked "${r#ERR }"; blocked "none of them is visible";;
esac
