// The sandbox's seccomp filter: system calls an image build never needs are refused with EPERM
// (kexec, kernel modules, bpf, the kernel keyring, perf, userfaultfd, open_by_handle_at, the new
// mount API, swap, clock and reboot calls), new user namespaces are refused (unshare/clone with
// CLONE_NEWUSER; clone3, whose flags a filter cannot read, says ENOSYS so libc falls back to clone).
// Old-style mount(2) stays: mmdebstrap mounts /proc in its chroot, and the kernel already refuses
// any mount outside the namespaces the sandbox owns. The BPF program is compiled by libseccomp
// (Debian's python3-seccomp), for x86-64 and its 32-bit and x32 ABIs, once per daemon, and handed
// to bubblewrap through --seccomp.
import { execa } from "execa";
import { ImgcreateError } from "../../errors.js";

export const DENIED = [
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
  "bpf", "keyctl", "add_key", "request_key", "perf_event_open", "userfaultfd",
  "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
  "fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "move_mount", "mount_setattr",
  "swapon", "swapoff", "reboot", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
  "iopl", "ioperm", "quotactl", "vhangup", "syslog", "pivot_root",
];

const CLONE_NEWUSER = 0x10000000;

const COMPILER = `
import errno, sys, seccomp
f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
if seccomp.system_arch() == seccomp.Arch.X86_64:
    f.add_arch(seccomp.Arch.X86)
    f.add_arch(seccomp.Arch.X32)
for name in sys.argv[1:]:
    try:
        f.add_rule(seccomp.ERRNO(errno.EPERM), name)
    except Exception:
        pass  # not a system call on this architecture
user = seccomp.Arg(0, seccomp.MASKED_EQ, ${CLONE_NEWUSER}, ${CLONE_NEWUSER})
f.add_rule(seccomp.ERRNO(errno.EPERM), "unshare", user)
f.add_rule(seccomp.ERRNO(errno.EPERM), "clone", user)
f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
f.export_bpf(sys.stdout)
`;

let compiled: Promise<Buffer> | undefined;

/** The filter as a BPF program (compiled once). */
export function program(): Promise<Buffer> {
  compiled ??= execa("/usr/bin/python3", ["-c", COMPILER, ...DENIED], { encoding: "buffer", stdin: "ignore" })
    .then((r) => Buffer.from(r.stdout))
    .catch((err: Error) => {
      compiled = undefined;
      throw new ImgcreateError("Failed", `cannot compile the sandbox's seccomp filter (install Debian's python3-seccomp): ${err.message.split("\n")[0]}`);
    });
  return compiled;
}
