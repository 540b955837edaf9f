/** Credentials of a Unix socket's peer as the kernel recorded them at connect(). */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}
/** getsockopt(fd, SOL_SOCKET, SO_PEERCRED). Throws (code ENOTSOCK, EBADF, EPEERCRED) when it cannot. */
export function getPeerCred(fd: number): PeerCred;
