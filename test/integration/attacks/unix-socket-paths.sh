# Tries: connect to every unix socket by path: those listed in /proc/net/unix (the host's, when the
# network namespace is shared) and any socket file reachable in our tree, plus the test's canary socket
# in the host-only directory. A connected host socket is a door for requests and for SCM_RIGHTS fd
# passing. Connects and closes; sends nothing.
paths=$( (echo "$ATTACK_HOST_DIR/canary.sock"; awk 'NR>1 && $8 ~ /^\// {print $8}' /proc/net/unix; find / -xdev -type s 2>/dev/null; find /run /tmp /var/run -type s 2>/dev/null) | sort -u | head -200)
r=$(printf '%s\n' $paths | timeout 60 perl -MSocket -e '
  my @ok; my $n = 0;
  while (my $p = <STDIN>) { chomp $p; next unless $p =~ m{^/}; $n++;
    for my $t (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET) {
      socket(my $s, AF_UNIX, $t, 0) or next;
      if (connect($s, pack_sockaddr_un($p))) { push @ok, $p; close $s; last } close $s; } }
  print scalar(@ok), " of $n: @ok\n";')
listed=$(awk 'NR>1' /proc/net/unix | wc -l)
case $r in
  0\ *|"") blocked "no socket reachable by path (${r:-probe failed}; /proc/net/unix lists $listed sockets)";;
  *) escaped "connected to $r (/proc/net/unix lists $listed sockets)";;
esac
