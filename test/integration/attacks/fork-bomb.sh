# Tries: a fork bomb. Bounded by the suite itself: at most ATTACK_FORK_NET processes (each child sleeps
# and dies with its parent), then all are killed. Reports whether the sandbox's task limit stopped it
# (fork fails with EAGAIN first) or only the suite's own net did.
ulimit -u $((ATTACK_FORK_NET + 200))
r=$(perl -e '
  my $net = $ARGV[0]; my @kids; my $err = "";
  while (@kids < $net) {
    my $pid = fork();
    if (!defined $pid) { $err = "$!"; last }
    if ($pid == 0) { syscall(157, 1, 9); sleep 1 while getppid() != 1; exit 0 }
    push @kids, $pid;
  }
  my $n = @kids; kill 9, @kids; waitpid($_, 0) for @kids;
  print $err ? "LIMIT $n $err\n" : "NET $n\n";
' $ATTACK_FORK_NET)
case $r in
  LIMIT*) set -- $r; blocked "fork failed after $2 processes: ${r#LIMIT $2 } (the sandbox's task limit; the suite's net was $ATTACK_FORK_NET)";;
  NET*) escaped "${r#NET } processes forked with no task limit; stopped only by the suite's own net";;
  *) blocked "the bomb's parent did not report (killed by the sandbox?): $r";;
esac
