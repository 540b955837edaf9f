/**
 * A new user namespace whose ids 0..count-1 are host ids base..base+count-1 (uid and gid alike),
 * owned by host uid `base` (so an unprivileged process running as `base` may join it). Returns an
 * O_CLOEXEC fd of /proc/PID/ns/user; the helper process that made it is gone when this returns.
 * Throws an Error whose `code` is the errno name.
 */
export function createUserns(base: number, count: number): number;
/**
 * Clones the mount at `source` (not recursively), makes the clone idmapped through the user
 * namespace `usernsFd`, nosuid and nodev, and attaches it at `target`.
 */
export function idmapMount(source: string, target: string, usernsFd: number): void;
/** Marks every open fd from `first` on close-on-exec (close_range(CLOSE_RANGE_CLOEXEC), or one by one). */
export function cloexecFrom(first: number): void;
