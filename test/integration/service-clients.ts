// Clients that are not ours, for the service tests: gdbus and busctl (D-Bus calls, properties, error names),
// and a raw JSON-RPC client in Python on the socket. All run as a test user through the harness.
import type { Harness } from "../helpers/harness.js";
import { BUS_NAME, ROOT_PATH } from "../helpers/harness.js";

export const PY = "/usr/bin/python3"; // Debian's, with python3-dbus (the pyenv python3 on PATH has no dbus)

export interface GdbusResult {
  ok: boolean;
  out: string;
  /** D-Bus error name when the call failed. */
  error?: string;
  message?: string;
}

/** A GVariant text string literal (gdbus call's argument syntax). */
export function gv(s: string): string {
  return "'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n") + "'";
}

/** `gdbus call` as USER; method is "Interface.Member" relative to org.imgcreate.ImageCreator1 or a full name. */
export async function gdbus(h: Harness, user: string, path: string, method: string, args: string[]): Promise<GdbusResult> {
  const full = method.startsWith("org.") ? method : `${BUS_NAME}.${method}`;
  const r = await h.runAs(user, "gdbus", ["call", "--system", "--dest", BUS_NAME, "--object-path", path, "--method", full, ...args], { timeoutMs: 60_000 });
  if (r.exitCode === 0) return { ok: true, out: r.stdout.trim() };
  const m = /GDBus\.Error:([\w.]+):\s*([\s\S]*)$/.exec(r.stderr.trim());
  return { ok: false, out: r.stdout, error: m?.[1], message: m?.[2] ?? r.stderr };
}

/** The object path out of gdbus's "(objectpath '/x/y',)". */
export function objectPath(out: string): string {
  const m = /objectpath '([^']+)'/.exec(out);
  if (!m) throw new Error(`no object path in ${out}`);
  return m[1]!;
}

/** `busctl get-property` as USER, with --json=short so the value parses. */
export async function getProperty(h: Harness, user: string, path: string, iface: string, prop: string): Promise<unknown> {
  const r = await h.runAs(user, "busctl", ["--system", "--json=short", "get-property", BUS_NAME, path, `${BUS_NAME}.${iface}`, prop]);
  if (r.exitCode !== 0) throw new Error(`busctl get-property ${prop}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { data: unknown }).data;
}

export function kickstartArgs(ks: string, options = "@a{sv} {}"): string[] {
  return [gv(ks), "@a{ss} {}", options];
}

export const MANAGER = ROOT_PATH;

// A raw JSON-RPC 2.0 client: one JSON request per line, sequentially; "$N" in a string parameter is replaced
// by the result of request N. With wait_completed it keeps reading notifications until a Job.Completed.
const RAW_CLIENT = String.raw`
import json, socket, sys, time
path, reqs, wait = sys.argv[1], json.loads(sys.stdin.read()), sys.argv[2] == "1"
s = socket.socket(socket.AF_UNIX); s.connect(path); f = s.makefile("rwb")
results, notes = [], []
def subst(v):
    if isinstance(v, str) and v.startswith("$") and v[1:].isdigit():
        return results[int(v[1:])].get("result")
    if isinstance(v, dict): return {k: subst(x) for k, x in v.items()}
    return v
def read():
    line = f.readline()
    if not line: raise SystemExit("connection closed")
    return json.loads(line)
for i, r in enumerate(reqs):
    msg = {"jsonrpc": "2.0", "id": i, "method": r["method"], "params": subst(r.get("params", {}))}
    f.write((json.dumps(msg) + "\n").encode()); f.flush()
    while True:
        m = read()
        if "id" in m and m.get("id") == i: results.append(m); break
        if "method" in m: notes.append(dict(m, t=time.time()))
        elif "id" in m: results.append(m); break
done = any(n["method"] == "Job.Completed" for n in notes)
while wait and not done:
    m = read()
    if "method" in m:
        notes.append(dict(m, t=time.time()))
        done = m["method"] == "Job.Completed"
print(json.dumps({"results": results, "notifications": notes}))
`;

export interface RpcResponse {
  id: number | null;
  result?: unknown;
  error?: { code: number; message: string; data?: { name: string; code: string } };
}

export async function rawJsonRpc(
  h: Harness,
  user: string,
  requests: { method: string; params?: Record<string, unknown> }[],
  opts: { waitCompleted?: boolean; timeoutMs?: number } = {},
): Promise<{ results: RpcResponse[]; notifications: { method: string; params: Record<string, unknown>; t: number }[] }> {
  const r = await h.runAs(user, PY, ["-c", RAW_CLIENT, h.socketPath, opts.waitCompleted ? "1" : "0"], {
    input: JSON.stringify(requests),
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  if (r.exitCode !== 0) throw new Error(`raw JSON-RPC client failed (${r.exitCode}): ${r.stderr}`);
  return JSON.parse(r.stdout) as never;
}

/** A small build: Debian minbase from the host's apt sources, no kernel, one chrooted %post. */
export const BUILD_KS = `lang C.UTF-8
keyboard us
timezone UTC
part / --size=700 --fstype=ext4
%addon org_imgcreate --variant=minbase
%end
%packages
%end
%post
echo "post-from-service-test $((6*7))"
%end
`;
