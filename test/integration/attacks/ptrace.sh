# Tries: ptrace-attach to a process outside the sandbox: the host's canary if it is visible, else pid 1
# (the sandbox's init, started from a host binary). Attach stops the target; it is detached again at once
# (the kernel detaches anyway when the tracer exits). Attaching to the sandbox's own pid 1 is an escape
# only if it holds capabilities we do not.
tag=$(canary_tag)
target=""
for p in /proc/[0-9]*; do case $(tr '\0' ' ' < $p/cmdline) in "$tag"*) target=${p#/proc/};; esac; done
what="the host's canary"
if [ -z "$target" ]; then target=1; what="pid 1 ($(readlink /proc/1/exe), CapPrm $(awk '/CapPrm/{print $2}' /proc/1/status), ours $(awk '/CapPrm/{print $2}' /proc/self/status))"; fi
r=$(perl -e '
  my $pid = $ARGV[0] + 0;
  my $r = syscall(101, 16, $pid, 0, 0); my $e = "$!";
  if ($r == 0) { waitpid($pid, 0x40000000); syscall(101, 17, $pid, 0, 0); print "ATTACHED\n" } else { print "ERR $e\n" }
' $target)
case $r in ATTACHED) ;; *) blocked "PTRACE_ATTACH to $what: ${r#ERR }";; esac
[ "$target" != 1 ] && escaped "PTRACE_ATTACH to $what (pid $target) succeeded (detached again)"
theirs=$(awk '/CapPrm/{print $2}' /proc/1/status); ours=$(awk '/CapPrm/{print $2}' /proc/self/status)
[ $(( 0x$theirs & ~0x$ours )) -ne 0 ] && escaped "PTRACE_ATTACH to $what, which holds capabilities we lack, succeeded (detached again)"
blocked "attached only to the sandbox's own pid 1, which holds no capability we lack ($what); no outside process visible"
