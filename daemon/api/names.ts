// Fixed names of the service (ARCHITECTURE.md "Names"), and the mapping of error codes to D-Bus error names and
// JSON-RPC error codes. Dependency-free, so the client may import it.
import type { ErrorCode } from "../errors.js";

export const BUS_NAME = "org.imgcreate.ImageCreator1";
export const ROOT_PATH = "/org/imgcreate/ImageCreator1";
export const SESSION_PATH_PREFIX = `${ROOT_PATH}/session/`;
export const JOB_PATH_PREFIX = `${ROOT_PATH}/job/`;
export const DEFAULT_SOCKET = "/run/imgcreated/api.sock";
export const DEFAULT_STATE_DIR = "/var/lib/imgcreated";
export const DEFAULT_CACHE_DIR = "/var/cache/imgcreated";

export type InterfaceName = "Manager" | "Session" | "Job";
export const INTERFACES: Record<InterfaceName, string> = {
  Manager: `${BUS_NAME}.Manager`,
  Session: `${BUS_NAME}.Session`,
  Job: `${BUS_NAME}.Job`,
};

export const ACTIONS = {
  build: "org.imgcreate.build",
  shell: "org.imgcreate.shell",
  runHostScripts: "org.imgcreate.run-host-scripts",
  network: "org.imgcreate.network",
  manageOthers: "org.imgcreate.manage-others",
  manageCache: "org.imgcreate.manage-cache",
} as const;
export type PolkitAction = (typeof ACTIONS)[keyof typeof ACTIONS];

export const ERROR_PREFIX = `${BUS_NAME}.Error.`;
export const ERROR_CODES: readonly ErrorCode[] = ["NotAuthorized", "NotOwner", "InvalidState", "InvalidArgs", "Cancelled", "Failed", "Busy"];

/** D-Bus error name of a code: org.imgcreate.ImageCreator1.Error.<Code>. */
export function dbusErrorName(code: ErrorCode): string {
  return ERROR_PREFIX + code;
}

/** The code of a D-Bus error name, or undefined when the name is not one of ours. */
export function codeOfDbusErrorName(name: string): ErrorCode | undefined {
  if (!name.startsWith(ERROR_PREFIX)) return undefined;
  const code = name.slice(ERROR_PREFIX.length) as ErrorCode;
  return ERROR_CODES.includes(code) ? code : undefined;
}

/**
 * JSON-RPC error codes (application range -32000..-32099). The error's `data` is
 * `{ name: <D-Bus error name>, code: <ErrorCode>, detail }`, so clients can use either.
 */
export const JSONRPC_CODES: Record<ErrorCode, number> = {
  NotAuthorized: -32001,
  NotOwner: -32002,
  InvalidState: -32003,
  InvalidArgs: -32602, // the standard "Invalid params"
  Cancelled: -32005,
  Failed: -32006,
  Busy: -32007,
};

export function sessionPath(id: string): string {
  return SESSION_PATH_PREFIX + id;
}
export function jobPath(n: number): string {
  return JOB_PATH_PREFIX + String(n);
}
/** The session id in an object path, or undefined. Ids are [A-Za-z0-9_]+ so they are valid path elements. */
export function sessionIdOfPath(path: string): string | undefined {
  if (!path.startsWith(SESSION_PATH_PREFIX)) return undefined;
  const id = path.slice(SESSION_PATH_PREFIX.length);
  return /^[A-Za-z0-9_]+$/.test(id) ? id : undefined;
}
export function jobNumberOfPath(path: string): number | undefined {
  if (!path.startsWith(JOB_PATH_PREFIX)) return undefined;
  const s = path.slice(JOB_PATH_PREFIX.length);
  return /^[0-9]{1,15}$/.test(s) ? Number(s) : undefined;
}
