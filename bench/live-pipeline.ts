// The live ISO build both ways, for the benches: LiveImageCreator stage by stage, and a plain shell
// pipeline doing the same steps by hand (mmdebstrap, mkfs.ext4 -d, mksquashfs with the same
// compression, grub-mkimage + mtools, xorriso) with its own warm .deb cache.
import { execa } from "execa";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LiveImageCreator } from "../daemon/creator/live.js";
import type { SquashfsCompression } from "../daemon/creator/system/squashfs.js";
import { parseKickstart } from "../daemon/kickstart/index.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..").replace("/dist/", "/");
export const EXAMPLE = join(REPO.replace(/\/dist$/, ""), "examples", "debian-live.ks");
const LABEL = "DEBIAN-LIVE";
/** The pipeline's own .deb cache (mmdebstrap sync-in / sync-out), kept between runs like ours. */
export const PIPE_CACHE = "/var/cache/imgcreated/bench-live-pipeline";

export interface Compression {
  type: SquashfsCompression;
  level?: number;
}

/** mksquashfs' options for the compression, as the pipeline passes them. */
function compArgsOf(c: Compression): string {
  if (c.type === "none") return "-noI -noD -noF -noX";
  const level = c.level !== undefined && (c.type === "zstd" || c.type === "gzip") ? ` -Xcompression-level ${c.level}` : "";
  return `-comp ${c.type}${c.type === "xz" ? " -Xbcj x86" : ""}${level}`;
}

export interface Timed {
  total: number;
  steps: Record<string, number>;
  size: number;
}

function packagesOf(ks: string): string[] {
  const body = /^%packages[^\n]*\n([\s\S]*?)^%end/m.exec(ks)?.[1] ?? "";
  return body.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

function postOf(ks: string): string {
  return /^%post[^\n]*\n([\s\S]*?)^%end/m.exec(ks)?.[1] ?? "";
}

/** The plain pipeline, as one would write it by hand. $1 = work dir, $2 = output ISO. */
function pipelineScript(ks: string, postFile: string, compArgs: string): string {
  const pkgs = packagesOf(ks).join(",");
  return String.raw`set -euo pipefail
W=$1; ISO=$2; mkdir -p "$W"; t() { echo "STEP $1 $(date +%s.%N)"; }
t mmdebstrap
mmdebstrap --variant=minbase --include=${pkgs} --aptopt='APT::Install-Recommends "false"' \
  --essential-hook='mkdir -p "$1/etc/dracut.conf.d" && printf "hostonly=\"no\"\nadd_dracutmodules+=\" dmsquash-live \"\ncompress=\"zstd\"\n" > "$1/etc/dracut.conf.d/90-live.conf"' \
  --skip=essential/unlink --setup-hook='mkdir -p "$1/var/cache/apt/archives"' --setup-hook='sync-in ${PIPE_CACHE} /var/cache/apt/archives' \
  --customize-hook='sync-out /var/cache/apt/archives ${PIPE_CACHE}' --customize-hook='upload ${postFile} /tmp/post.sh' --customize-hook='chroot "$1" sh /tmp/post.sh' --customize-hook='rm "$1/tmp/post.sh"' \
  bookworm "$W/root" /etc/apt/sources.list.d/debian.sources
t mkfs
mkdir -p "$W/sq/LiveOS" "$W/iso/LiveOS" "$W/iso/images/pxeboot" "$W/iso/boot/grub/i386-pc" "$W/iso/EFI/BOOT"
mkfs.ext4 -q -F -L ${LABEL} -d "$W/root" "$W/sq/LiveOS/rootfs.img" 2048M
cp "$W"/root/boot/vmlinuz-* "$W/iso/images/pxeboot/vmlinuz"; cp "$W"/root/boot/initrd.img-* "$W/iso/images/pxeboot/initrd.img"
t mksquashfs
mksquashfs "$W/sq" "$W/iso/LiveOS/squashfs.img" -noappend ${compArgs} -no-progress >/dev/null
t xorriso
printf 'search --no-floppy --set=root --label ${LABEL}\nset prefix=($root)/boot/grub\nconfigfile ($root)/boot/grub/grub.cfg\n' > "$W/early.cfg"
printf 'set timeout=5\nmenuentry "Start" {\n linux /images/pxeboot/vmlinuz root=live:CDLABEL=${LABEL} rd.live.image console=ttyS0\n initrd /images/pxeboot/initrd.img\n}\n' > "$W/iso/boot/grub/grub.cfg"
M="iso9660 part_msdos part_gpt search search_label normal configfile linux echo test gzio serial terminal all_video"
grub-mkimage -O i386-pc-eltorito -p /boot/grub -c "$W/early.cfg" -o "$W/iso/boot/grub/i386-pc/eltorito.img" $M biosdisk
grub-mkimage -O x86_64-efi -p /boot/grub -c "$W/early.cfg" -o "$W/iso/EFI/BOOT/BOOTX64.EFI" $M fat efi_gop
mkfs.vfat -C "$W/efi.img" 4096 >/dev/null; mmd -i "$W/efi.img" ::/EFI ::/EFI/BOOT; mcopy -i "$W/efi.img" "$W/iso/EFI/BOOT/BOOTX64.EFI" ::/EFI/BOOT/
xorriso -as mkisofs -o "$ISO" -iso-level 3 -J -joliet-long -R -V ${LABEL} -partition_offset 16 \
  --grub2-mbr /usr/lib/grub/i386-pc/boot_hybrid.img -b boot/grub/i386-pc/eltorito.img -c boot/grub/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table --grub2-boot-info \
  -append_partition 2 0xef "$W/efi.img" -appended_part_as_gpt -eltorito-alt-boot -e --interval:appended_partition_2:all:: -no-emul-boot "$W/iso" 2>/dev/null
t end
`;
}

export async function pipeline(ks: string, dir: string, comp: Compression): Promise<Timed> {
  await mkdir(PIPE_CACHE, { recursive: true });
  const iso = join(dir, "pipeline.iso");
  const postFile = join(dir, "post.sh");
  await writeFile(postFile, postOf(ks));
  const started = Date.now();
  const r = await execa("bash", ["-c", pipelineScript(ks, postFile, compArgsOf(comp)), "pipeline", join(dir, "pw"), iso], { reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`pipeline failed: ${String(r.all).split("\n").slice(-8).join("\n")}`);
  const marks = String(r.stdout).split("\n").filter((l) => l.startsWith("STEP ")).map((l) => l.split(" "));
  const steps: Record<string, number> = {};
  for (let i = 0; i + 1 < marks.length; i++) steps[marks[i]![1]!] = Number(marks[i + 1]![2]) - Number(marks[i]![2]);
  return { total: (Date.now() - started) / 1000, steps, size: (await stat(iso)).size };
}

export function liveModel(ks: string) {
  const { model, diagnostics } = parseKickstart(EXAMPLE, { readFile: (p) => (p === EXAMPLE ? ks : undefined), cwd: dirname(EXAMPLE) });
  if (diagnostics.some((d) => d.severity === "error")) throw new Error(JSON.stringify(diagnostics));
  return model;
}

/** A live creator of the example over workDir. */
export function liveCreator(ks: string, workDir: string, comp: Compression, rootCache?: string): LiveImageCreator {
  return new LiveImageCreator(liveModel(ks), "debian-live", {
    workDir,
    fslabel: LABEL,
    compression: comp.type,
    ...(comp.level !== undefined ? { compressionLevel: comp.level } : {}),
    ...(rootCache ? { rootCache: { dir: rootCache, maxBytes: 16 * 2 ** 30 } } : {}),
  });
}

/** Runs the stages of c (from mount, which re-opens a kept image) and times each. */
export async function timedStages(c: LiveImageCreator, outDir: string): Promise<Timed & { iso: string }> {
  const steps: Record<string, number> = {};
  let t = Date.now();
  const started = t;
  const mark = (name: string) => {
    steps[name] = (Date.now() - t) / 1000;
    t = Date.now();
  };
  await c.mount(); mark("mount");
  await c.install(); mark("install");
  await c.configure(); mark("configure");
  await c.unmount(); mark("unmount");
  const [iso] = await c.package(outDir); mark("package");
  return { total: (Date.now() - started) / 1000, steps, size: (await stat(iso!)).size, iso: iso! };
}

/**
 * Our build, stage by stage; rootCache: the cache of installed roots to use (none: install every time).
 * then, if given, runs on the packaged creator before it is cleaned up.
 */
export async function ours(ks: string, dir: string, comp: Compression, rootCache?: string, then?: (c: LiveImageCreator) => Promise<void>): Promise<Timed & { iso: string }> {
  const c = liveCreator(ks, join(dir, "ow"), comp, rootCache);
  try {
    const r = await timedStages(c, join(dir, "out"));
    await then?.(c);
    return r;
  } finally {
    await c.cleanup();
  }
}

export const fmtSteps = (s: Record<string, number>) => Object.entries(s).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(", ");
