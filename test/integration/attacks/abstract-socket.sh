# Tries: reach host services through abstract unix sockets (they have no path, so no mount namespace
# hides them; only a private network namespace does): the test's own canary (@imgcreate-attack-...,
# passed in) and every abstract name in /proc/net/unix (dbus-daemon's @/tmp/dbus-*, systemd's, ...).
# Connects and closes; sends nothing.
names=$( (echo "@$ATTACK_ABSTRACT"; awk 'NR>1 && $8 ~ /^@/ {print $8}' /proc/net/unix) | sort -u | head -60)
r=$(printf '%s\n' $names | timeout 60 perl -MSocket -e '
  my @ok; my $n = 0;
  while (my $name = <STDIN>) { chomp $name; next unless $name =~ /^@/; $n++;
    socket(my $s, AF_UNIX, SOCK_STREAM, 0) or next;
    (my $raw = $name) =~ s/^@/\0/;
    # sockaddr_un with the exact length: an abstract name is not NUL-terminated (pack_sockaddr_un pads it)
    push @ok, $name if connect($s, pack("S", AF_UNIX) . $raw); close $s; }
  print scalar(@ok), " of $n: @ok\n";')
case $r in
  0\ *|"") blocked "no abstract socket reachable ($(echo "$names" | wc -w) names listed in /proc/net/unix incl. the canary; ${r:-probe failed})";;
  *) escaped "connected to abstract sockets $r";;
esac
