// The three POSIX path operations the parser needs, with no platform import: the kickstart layer runs
// in node (daemon, client) and in GJS (the GTK frontend reads kickstarts through Gio), and GJS has no node:path.

/** The directory part of an absolute or relative path ("/a/b" → "/a", "a" → "."). */
export function dirname(p: string): string {
  const t = p.replace(/\/+$/, "");
  if (t === "" && p.startsWith("/")) return "/";
  const i = t.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : t.slice(0, i);
}

/** Normalized absolute path of p against base (an absolute directory), resolving "." and "..". */
export function resolve(base: string, p: string): string {
  const parts: string[] = [];
  for (const seg of (p.startsWith("/") ? p : `${base}/${p}`).split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return "/" + parts.join("/");
}

/** The relative path from directory `from` to `to` (both absolute), "" when they are the same. */
export function relative(from: string, to: string): string {
  const a = resolve("/", from).split("/").filter(Boolean);
  const b = resolve("/", to).split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => ".."), ...b.slice(i)].join("/");
}
