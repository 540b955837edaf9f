# Tries: reach imgcreated's JSON-RPC socket by its path (the harness's, passed in, and the installed
# /run/imgcreated/api.sock). Connected as root, every call would be authorized: the daemon trusts uid 0.
for s in "$ATTACK_API_SOCKET" /run/imgcreated/api.sock; do
  r=$(timeout 10 perl -MIO::Socket::UNIX -e '
    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or do { print "ERR $!\n"; exit };
    print $s qq({"jsonrpc":"2.0","id":1,"method":"Manager.ListSessions","params":{}}\n);
    my $l = <$s>; print "OK ", substr($l // "", 0, 120), "\n";' "$s")
  case $r in OK*) escaped "connected to $s and called Manager.ListSessions: ${r#OK }";; esac
  out="$out $s: ${r#ERR }"
done
blocked "$out"
