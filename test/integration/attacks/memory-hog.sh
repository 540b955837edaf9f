# Tries: eat memory, 64 MiB at a time, every page written. Bounded by the suite itself: at most
# ATTACK_MEM_NET_MIB (and ulimit -v above that as a second net). Reports whether the sandbox's memory
# limit stopped it (the hog is killed or its allocation fails first) or only the suite's net did.
p=/tmp/attack-hog-progress.$$
( ulimit -v $(( (ATTACK_MEM_NET_MIB + 1024) * 1024 )); exec perl -e '
  my ($net, $p) = @ARGV; my @keep; my $mib = 0;
  $| = 1;
  while ($mib < $net) { push @keep, "x" x (64 << 20); $mib += 64; open(my $f, ">", $p); print $f "$mib\n"; close $f; }
  print "DONE $mib\n";' $ATTACK_MEM_NET_MIB $p ) > $p.out
st=$?
got=$(cat $p 2>/dev/null); r=$(cat $p.out); rm -f $p $p.out
case $r in DONE*) escaped "allocated ${r#DONE } MiB with no memory limit; stopped only by the suite's own net";; esac
[ $st -ge 128 ] && blocked "the hog was killed by signal $((st-128)) after ${got:-0} MiB (the sandbox's memory limit)"
blocked "the hog's allocation failed after ${got:-0} MiB (exit $st)"
