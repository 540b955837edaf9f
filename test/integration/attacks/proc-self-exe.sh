# Tries: the runc CVE-2019-5736 pattern: get a writable handle on the executable of a process whose exe is
# a HOST binary (pid 1 here is bubblewrap, started from the host's /usr/bin) through /proc/PID/exe,
# directly and by reopening an O_PATH fd via /proc/self/fd. Opens only (no O_TRUNC), never writes.
out=""
for p in /proc/self /proc/1 /proc/[0-9]*; do
  exe=$(readlink $p/exe) || continue
  case " $seen " in *" $exe "*) continue;; esac; seen="$seen $exe"
  inimage=no; [ -e "$exe" ] && inimage=yes
  r=$(perl -MFcntl -e '
    my $f = $ARGV[0];
    if (sysopen(my $h, $f, O_WRONLY)) { close $h; print "OPEN direct\n"; exit }
    my $e1 = "$!";
    if (sysopen(my $o, $f, 010000000)) { my $re = "/proc/self/fd/" . fileno($o);
      if (sysopen(my $w, $re, O_WRONLY)) { close $w; print "OPEN via O_PATH\n"; exit } print "ERR $e1; via O_PATH: $!\n"; exit }
    print "ERR $e1\n";' $p/exe)
  case $r in OPEN*) escaped "opened $p/exe ($exe, host binary: $([ $inimage = no ] && echo yes || echo maybe)) for writing ${r#OPEN } (closed, nothing written)";; esac
  out="$out ${p#/proc/}=$exe(in image: $inimage): ${r#ERR };"
done
blocked "$out"
