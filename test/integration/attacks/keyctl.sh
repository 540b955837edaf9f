# Tries: the kernel keyring syscalls a seccomp filter should refuse (keyrings are shared across containers
# of one uid and a long source of kernel bugs): keyctl(GET_KEYRING_ID, user keyring) and add_key into our
# own process keyring (which dies with this process).
r=$(perl -e '
  my $id = syscall(250, 0, -4, 0); my $e1 = "$!"; my $desc = "";
  if ($id > 0) { my $buf = "\0" x 256; my $n = syscall(250, 6, $id, $buf, 256); $desc = substr($buf, 0, $n > 0 ? $n - 1 : 0) }
  my ($type, $desc2, $data) = ("user", "imgcreate-attack", "x"); my $k = syscall(248, $type, $desc2, $data, 1, -2); my $e2 = "$!";
  print(($id > 0 || $k > 0) ? "OK keyctl=$id ($desc) add_key=$k\n" : "ERR keyctl: $e1; add_key: $e2\n");')
case $r in
  OK*) escaped "keyring syscalls allowed: ${r#OK }";;
  *) blocked "${r#ERR }";;
esac
