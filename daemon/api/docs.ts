// docs/dbus-api.md, generated from the API table so the reference cannot drift from the code:
//   node --import tsx daemon/api/docs.ts > docs/dbus-api.md   (a unit test checks it is current)
import { pathToFileURL } from "node:url";
import { METHODS, PROPERTIES, SIGNALS, type MethodDef } from "./methods.js";
import { ACTIONS, BUS_NAME, DEFAULT_SOCKET, ERROR_CODES, INTERFACES, JSONRPC_CODES, ROOT_PATH, dbusErrorName, type InterfaceName } from "./names.js";

const INTRO = `# imgcreated API reference (D-Bus and JSON-RPC)

Generated from \`daemon/api/methods.ts\` by \`daemon/api/docs.ts\`; do not edit by hand.

One API, two transports. On the **system bus** the daemon owns \`${BUS_NAME}\`; the manager lives at
\`${ROOT_PATH}\` (with \`org.freedesktop.DBus.ObjectManager\`), sessions at \`${ROOT_PATH}/session/<id>\`,
jobs at \`${ROOT_PATH}/job/<n>\`. On the **JSON-RPC 2.0** socket (\`${DEFAULT_SOCKET}\`, one JSON message per
line) methods are named \`Interface.Method\` with **named** params; Session methods take \`session\` (id or
object path) and Job methods \`job\` (object path or number).

Every call runs: argument checks (cheap, before polkit) → who is calling (bus name on D-Bus; SO_PEERCRED pid,
uid and process start time on the socket) → polkit \`CheckAuthorization\` → owner rule → state check → effect.
Polkit may ask for a password only when the client allows it: the D-Bus ALLOW_INTERACTIVE_AUTHORIZATION
message flag, or \`interactive: true\` (a JSON-RPC param or an a{sv} option). Answers are cached for a few
seconds per caller and action, and dropped when the caller leaves the bus or closes its connection.
A session belongs to the uid that created it and outlives the connection; another uid gets NotOwner unless
polkit grants it \`${ACTIONS.manageOthers}\`. A kickstart with \`%post --nochroot\` also needs \`${ACTIONS.runHostScripts}\`
(at CreateSession, Configure and Create). Polkit details passed: \`session\`, \`owner\`, \`stage\`.

Properties are readable by everyone (nothing secret in them) and never writable. Job properties change with
\`PropertiesChanged\` at most 10 times a second.
`;

function sig(m: MethodDef): string {
  const ins = m.params.map((p) => `${p.type.sig} ${p.name}`).join(", ");
  return `${m.name}(${ins})${m.result ? ` → ${m.result.sig} ${m.result.name}` : ""}`;
}

function methodDoc(m: MethodDef): string {
  let s = `- **${sig(m)}**${m.jsonrpcOnly ? " *(JSON-RPC only)*" : ""} — ${m.doc}\n`;
  s += `  polkit: \`${m.action}\`${m.states ? `; allowed when the session is ${m.states.join(", ")}` : ""}\n`;
  for (const p of m.params) s += `  - \`${p.name}\` (${p.type.sig}): ${p.doc}\n`;
  if (m.result) s += `  - returns \`${m.result.name}\` (${m.result.sig}): ${m.result.doc}\n`;
  return s;
}

export function apiMarkdown(): string {
  let md = INTRO;
  for (const iface of ["Manager", "Session", "Job"] as InterfaceName[]) {
    md += `\n## ${INTERFACES[iface]}\n\n### Methods\n\n`;
    for (const m of METHODS.filter((m) => m.iface === iface)) md += methodDoc(m);
    md += `\n### Properties\n\n`;
    for (const p of PROPERTIES[iface]) md += `- \`${p.name}\` (${p.sig}): ${p.doc}\n`;
    if (SIGNALS[iface].length) {
      md += `\n### Signals\n\n`;
      for (const s of SIGNALS[iface]) md += `- **${s.name}(${s.args.map((a) => `${a.sig} ${a.name}`).join(", ")})** — ${s.doc}\n`;
    }
  }
  md += `
## Session states

\`created → mounted → installed → configured → unmounted → packaged\`; a stage that fails or is cancelled
releases what it took and leaves \`failed\` / \`cancelled\`; after a crash and restart every busy session is
\`interrupted\` (its loop devices and mounts released). Mount and Create start over from \`failed\`,
\`cancelled\` and \`interrupted\` (Create also from \`packaged\`). One job per session at a time (Busy
otherwise); \`--max-jobs\` bounds running jobs across sessions, the others show Status \`queued\`.

## Errors

| code | D-Bus error name | JSON-RPC code |
| --- | --- | --- |
${ERROR_CODES.map((c) => `| ${c} | \`${dbusErrorName(c)}\` | ${JSONRPC_CODES[c]} |`).join("\n")}

JSON-RPC errors carry \`data: { name, code, detail }\` (\`name\` is the D-Bus error name). A message is a sentence
for a person; never a stack trace. Kickstart errors are InvalidArgs with \`FILE:LINE: message\` lines.
Unknown objects on D-Bus give \`org.freedesktop.DBus.Error.UnknownObject\`; a wrong D-Bus signature is InvalidArgs.

## JSON-RPC notifications

Sent to connections subscribed to a job: a stage call subscribes its caller; \`Job.Subscribe\` subscribes to
any job the caller may see.

- \`Job.Progress\` \`{ job, progress, progressValid, bytes, status, message }\` (at most 10 a second)
- \`Job.LogMessage\` \`{ job, priority, line }\` (syslog priority 0–7)
- \`Job.Completed\` \`{ job, success, errorName, message }\` (\`errorName\` is "" on success)

## Shells

\`Session.OpenShell(argv, options)\` starts \`argv\` (default \`/bin/sh -l\`) inside the install root, sandboxed, on
a new pty made the process's controlling terminal (\`setsid -c\`). On D-Bus the reply is the pty master (fd
passing, type \`h\`): the client reads and writes it directly and closes it to hang up. On JSON-RPC the reply
is a shell id; output arrives as \`Shell.Output { shell, data }\` notifications (base64), input goes with
\`Session.ShellInput { session, shell, data }\` (base64), \`Session.ShellResize { session, shell, rows, cols }\`
sets the window size (on D-Bus the client sets it on the pty master itself), and \`Shell.Exited { shell, status }\` ends it; closing
the connection hangs the shell up. Shells are killed before Unmount and Close.

## Example

\`\`\`sh
busctl --system call ${BUS_NAME} ${ROOT_PATH} ${INTERFACES.Manager} \\
  CreateSession 'sa{ss}a{sv}' "$(cat my.ks)" 0 1 type s loop      # → o "${ROOT_PATH}/session/<id>"
printf '%s\\n' '{"jsonrpc":"2.0","id":1,"method":"Manager.GetProperties","params":{}}' | socat - UNIX-CONNECT:${DEFAULT_SOCKET}
\`\`\`
`;
  return md;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.stdout.write(apiMarkdown());
