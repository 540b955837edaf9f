// The image name livecd-creator picks when none is given: the kickstart's base name without .ks/.cfg,
// made a usable name. Shared by the command-line client and the GTK frontend.

export function defaultName(path: string): string {
  const base = path.split("/").pop() ?? "image";
  return base.replace(/\.(ks|cfg)$/i, "").replace(/[^A-Za-z0-9._+-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64) || "image";
}
