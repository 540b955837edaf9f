// Small pure formatters shared by the progress displays (unit-tested without a daemon).

/** Rows as aligned columns (two spaces apart; the last column is not padded). */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n <= 0) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}` : `${m}:${String(sec).padStart(2, "0")}`;
}

/** Seconds left, from the fraction done and the time spent; undefined while too early to tell. */
export function eta(fraction: number | undefined, elapsedSeconds: number): number | undefined {
  if (fraction === undefined || fraction < 0.02 || fraction >= 1 || elapsedSeconds < 1) return undefined;
  return (elapsedSeconds * (1 - fraction)) / fraction;
}

export function bar(fraction: number | undefined, width: number): string {
  if (fraction === undefined) return "[" + "·".repeat(width) + "]";
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return "[" + "#".repeat(full) + "-".repeat(width - full) + "]";
}

/** Cuts a line to the terminal width, by code points, never leaving control characters behind. */
export function fit(line: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]/g, "").replace(/\t/g, " ");
  const chars = [...clean];
  return chars.length <= width ? clean : chars.slice(0, Math.max(0, width - 1)).join("") + "…";
}

export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
