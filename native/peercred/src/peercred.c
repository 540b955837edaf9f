// SO_PEERCRED for Node: the pid, uid and gid of the process at the other end of a connected
// AF_UNIX socket, as the kernel recorded them at connect() time. Node has no API for it, and the
// JSON-RPC transport must know who calls to ask polkit. Plain N-API (C), so it needs no other package
// and keeps working across Node versions without a rebuild.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>

#define CHECK(env, call)                                          \
  do {                                                            \
    if ((call) != napi_ok) {                                      \
      napi_throw_error((env), NULL, "peercred: N-API call failed"); \
      return NULL;                                                \
    }                                                             \
  } while (0)

static napi_value set_number(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  CHECK(env, napi_create_double(env, value, &v));
  CHECK(env, napi_set_named_property(env, obj, key, v));
  return obj;
}

// getPeerCred(fd: number): { pid, uid, gid }. Throws an Error with `code` = errno name on failure.
static napi_value get_peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EINVAL", "getPeerCred: expected a file descriptor (a non-negative integer)");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    int err = errno;
    char msg[160];
    snprintf(msg, sizeof(msg), "getsockopt(SO_PEERCRED) on fd %d: %s", fd, strerror(err));
    napi_throw_error(env, err == ENOTSOCK ? "ENOTSOCK" : err == EBADF ? "EBADF" : "EPEERCRED", msg);
    return NULL;
  }
  napi_value result;
  CHECK(env, napi_create_object(env, &result));
  if (!set_number(env, result, "pid", cred.pid) || !set_number(env, result, "uid", cred.uid) ||
      !set_number(env, result, "gid", cred.gid)) {
    return NULL;
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  CHECK(env, napi_create_function(env, "getPeerCred", NAPI_AUTO_LENGTH, get_peer_cred, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "getPeerCred", fn));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
