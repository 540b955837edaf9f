// What imgcreated's sandbox needs from the kernel that neither Node nor Debian 12's tools offer:
// a user namespace with a 64K id map chosen by the daemon (util-linux 2.38's unshare only maps ids
// through newuidmap and /etc/subuid), and an idmapped mount (2.38.1's libmount here was built
// without X-mount.idmap). Plain N-API (C), like native/peercred.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <node_api.h>

static napi_value fail(napi_env env, int err, const char *what) {
  char msg[256];
  char code[32];
  snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
  snprintf(code, sizeof(code), "E%d", err);
  napi_throw_error(env, err == EPERM ? "EPERM" : err == ENOENT ? "ENOENT" : err == EINVAL ? "EINVAL" : code, msg);
  return NULL;
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  int err = errno;
  close(fd);
  if (n != (ssize_t)strlen(text)) {
    errno = n < 0 ? err : EIO;
    return -1;
  }
  return 0;
}

// The child becomes `base` (so it owns the namespace it makes), unshares its user namespace, says so
// on `ready`, and waits on `done` until the parent has written the maps and opened the namespace.
// Only async-signal-safe calls: this runs between fork() and _exit() in a multi-threaded process.
static void child(unsigned base, int ready, int done, int unused_r, int unused_w) {
  char c = 0;
  close(unused_r);  // our copies of the parent's ends: keeping done's write end would never let read() see EOF
  close(unused_w);
  // Raw syscalls: glibc's setresuid() would try to reach the parent's other threads.
  if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, base, base, base) != 0 || syscall(SYS_setresuid, base, base, base) != 0) _exit(2);
  if (unshare(CLONE_NEWUSER) != 0) _exit(3);
  if (write(ready, &c, 1) != 1) _exit(4);
  while (read(done, &c, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

static int make_userns(unsigned base, unsigned count) {
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return -1;
  if (pipe2(done, O_CLOEXEC) != 0) {
    close(ready[0]);
    close(ready[1]);
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) child(base, ready[1], done[0], ready[0], done[1]);
  close(ready[1]);
  close(done[0]);
  int fd = -1, err = 0;
  char c, path[64], map[64];
  if (read(ready[0], &c, 1) != 1) {
    err = ECHILD;
    goto out;
  }
  snprintf(map, sizeof(map), "0 %u %u\n", base, count);
  snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
  if (write_file(path, map) != 0) {
    err = errno;
    goto out;
  }
  snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
  if (write_file(path, map) != 0) {
    err = errno;
    goto out;
  }
  snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) err = errno;
out:
  close(done[1]);  // lets the child exit
  close(ready[0]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  if (fd < 0) errno = err;
  return fd;
}

static napi_value create_userns(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t base, count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_uint32(env, argv[0], &base) != napi_ok || napi_get_value_uint32(env, argv[1], &count) != napi_ok ||
      base == 0 || count == 0) {
    napi_throw_type_error(env, "EINVAL", "createUserns(base, count): two positive integers");
    return NULL;
  }
  int fd = make_userns(base, count);
  if (fd < 0) return fail(env, errno, "creating the user namespace");
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value idmap_mount(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char source[4096], target[4096];
  int32_t userns;
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_string_utf8(env, argv[0], source, sizeof(source), &len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], target, sizeof(target), &len) != napi_ok ||
      napi_get_value_int32(env, argv[2], &userns) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "idmapMount(source, target, usernsFd)");
    return NULL;
  }
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) return fail(env, errno, "open_tree of the install root");
  struct mount_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  attr.userns_fd = (uint64_t)userns;
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) != 0) {
    int err = errno;
    close(tree);
    return fail(env, err, "mount_setattr (idmapped mount)");
  }
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    int err = errno;
    close(tree);
    return fail(env, err, "move_mount of the idmapped root");
  }
  close(tree);
  return NULL;
}

// Marks every fd from `first` on close-on-exec. Node and its native modules open some descriptors
// without O_CLOEXEC (a bus socket, a pty master); the sandbox's processes must inherit none of them.
// The fds a child is meant to get are dup2()ed into place by libuv, which clears the flag on the copy.
static int cloexec_from(int first) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, (unsigned)first, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0) return 0;
#endif
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name);
    if (fd >= first && fd != dirfd(d)) fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
  }
  closedir(d);
  return 0;
}

static napi_value cloexec(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t first;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &first) != napi_ok || first < 0) {
    napi_throw_type_error(env, "EINVAL", "cloexecFrom(fd)");
    return NULL;
  }
  if (cloexec_from(first) != 0) return fail(env, errno, "marking fds close-on-exec");
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "createUserns", NAPI_AUTO_LENGTH, create_userns, NULL, &fn);
  napi_set_named_property(env, exports, "createUserns", fn);
  napi_create_function(env, "idmapMount", NAPI_AUTO_LENGTH, idmap_mount, NULL, &fn);
  napi_set_named_property(env, exports, "idmapMount", fn);
  napi_create_function(env, "cloexecFrom", NAPI_AUTO_LENGTH, cloexec, NULL, &fn);
  napi_set_named_property(env, exports, "cloexecFrom", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
