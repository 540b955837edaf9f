# Tries: load a kernel module (finit_module on a file, init_module on a buffer). The "module" is empty
# or garbage, so even a permitted call cannot load anything: an errno other than EPERM (or ENOSYS
# from a seccomp filter) means the permission check passed.
: > /tmp/attack-mod.$$
r=$(perl -e '
  open(my $f, "<", $ARGV[0]) or die "open: $!";
  my $none = ""; my $none2 = ""; my $buf = "\0" x 64;
  my $a = syscall(313, fileno($f), $none, 0); my $e1 = $! + 0; my $s1 = "$!";
  my $b = syscall(175, $buf, 64, $none2); my $e2 = $! + 0; my $s2 = "$!";
  print "finit_module=$a errno=$e1 ($s1); init_module=$b errno=$e2 ($s2)\n";
  exit(($a == -1 && ($e1 == 1 || $e1 == 38)) && ($b == -1 && ($e2 == 1 || $e2 == 38)) ? 0 : 3);
' /tmp/attack-mod.$$); st=$?
rm -f /tmp/attack-mod.$$
have=$(command -v insmod modprobe | tr '\n' ' ')
[ -e /proc/modules ] || have="$have (note: no /proc/modules here: the kernel may have no module support)"
[ $st = 0 ] && blocked "$r${have:+; tools present: $have}"
[ $st = 3 ] && escaped "passed the CAP_SYS_MODULE check: $r"
blocked "probe did not run (perl exit $st): $r"
