# Tries: use file descriptors the daemon or bubblewrap left open in the sandbox (a host directory, the
# daemon's sockets or journal): any fd beyond stdin/stdout/stderr that a new process inherits is a handle
# on the host that no path check covers (openat(fd, "..") walks out; a socket passes fds).
# ATTACK_FOREIGN_FDS: what the test process itself passes down (its own environment's fds, not the daemon's).
r=$(IGNORE="$ATTACK_FOREIGN_FDS" perl -e 'opendir(my $d, "/proc/self/fd") or die; my $me = fileno($d); my @x;
  for my $n (sort { $a <=> $b } grep { /^\d+$/ } readdir($d)) { next if $n <= 2 || $n == $me; my $t = readlink("/proc/self/fd/$n"); next if grep { $_ eq $t } split(/ /, $ENV{IGNORE} // ""); push @x, "$n->" . readlink("/proc/self/fd/$n") }
  print "@x\n";')
[ -n "$r" ] && escaped "a new process inherits open fds: $r"
blocked "only stdio is inherited ($(for n in 0 1 2; do printf '%s->%s ' $n "$(readlink /proc/$$/fd/$n)"; done))"
