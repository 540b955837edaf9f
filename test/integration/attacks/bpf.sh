# Tries: bpf(BPF_MAP_CREATE) of a one-entry array map (the first step of every eBPF program; a seccomp
# filter should refuse bpf). The map, if made, is freed when this process exits.
r=$(perl -e '
  my $attr = pack("LLLL", 2, 4, 4, 1) . ("\0" x 112);
  my $fd = syscall(321, 0, $attr, length($attr));
  print($fd >= 0 ? "OK fd $fd\n" : "ERR $!\n");')
case $r in OK*) escaped "bpf(BPF_MAP_CREATE) returned ${r#OK }";; *) blocked "bpf(BPF_MAP_CREATE): ${r#ERR }";; esac
