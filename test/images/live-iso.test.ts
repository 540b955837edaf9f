// Builds one small Debian live ISO with LiveImageCreator (real loop device, real mmdebstrap against the
// host's apt sources) and checks it the way a user would: the layout with xorriso (ISOs are never
// mounted here), checkisomd5, sha256sum, El Torito entries, and real qemu boots to a marker line that
// the kickstart's %post installs: BIOS and UEFI from CD, and the ISO written to a raw disk as a USB stick.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { copyFile, open, truncate } from "node:fs/promises";
import { join } from "node:path";
import { bootTest, formatBootResult, type BootTestOptions } from "../../client/boottest.js";
import { LiveImageCreator } from "../../daemon/creator/live.js";
import { buildLiveIso } from "../../daemon/creator/liveiso.js";
import { isoExtract, isoList, elToritoEntries } from "../../daemon/creator/system/iso.js";
import type { ProgressEvent } from "../../daemon/creator/index.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { loadKickstart } from "./fixtures/engine-kickstart.js";

const LABEL = "IMGCREATE-LIVE";
const MARKER = "IMGCREATE-BOOT-OK";
/** Generous: under TCG on 2 shared cores a boot takes 50–100 s; a hang still ends. */
const BOOT: BootTestOptions = { marker: MARKER, timeoutMs: 8 * 60_000 };

function sh(cmd: string, args: string[], cwd?: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd });
  return { status: r.status, out: (r.stdout ?? "") + (r.stderr ?? "") };
}

async function bootsToMarker(image: string, opts: BootTestOptions): Promise<void> {
  const r = await bootTest(image, { ...BOOT, ...opts });
  assert.ok(r.ok, formatBootResult(r));
  // dmsquash-live put the root on the device-mapper snapshot over the squashfs'd image.
  assert.match(r.markerLine ?? "", /root=\/dev\/mapper\/live-rw/);
  console.log(`# ${formatBootResult(r)}`);
}

describe("a Debian live ISO built by LiveImageCreator", { timeout: 60 * 60_000 }, () => {
  let tmp = "";
  let iso = "";
  let artifacts: string[] = [];
  let creator: LiveImageCreator | undefined;
  const progress: ProgressEvent[] = [];
  /** The extracted LiveOS/rootfs.img (and kernel, initrd) for the checks that look inside. */
  let rootfs = "";

  before(async () => {
    tmp = await makeTmp("live-iso");
    creator = new LiveImageCreator(loadKickstart("live-marker.ks"), "live-test", { workDir: join(tmp, "work"), fslabel: LABEL, title: "Imgcreate Test" });
    creator.on("progress", (p) => progress.push(p));
    artifacts = await creator.create(join(tmp, "out"));
    await creator.cleanup();
    iso = join(tmp, "out", "live-test.iso");
    await isoExtract(iso, "/LiveOS/squashfs.img", join(tmp, "squashfs.img"));
    const un = sh("unsquashfs", ["-no-progress", "-d", join(tmp, "sq"), join(tmp, "squashfs.img")]);
    assert.equal(un.status, 0, un.out);
    rootfs = join(tmp, "sq", "LiveOS", "rootfs.img");
  });

  after(async () => {
    await creator?.cleanup();
    await removeTmp(tmp);
    assertNoLeaks({ tmp: false });
  });

  test("package() writes <name>.iso and a SHA256 file that sha256sum -c accepts", () => {
    assert.deepEqual(artifacts, [iso, iso + ".sha256"]);
    const r = sh("sha256sum", ["-c", "live-test.iso.sha256"], join(tmp, "out"));
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /live-test\.iso: OK/);
  });

  test("the ISO has Fedora's live layout: LiveOS/squashfs.img holding LiveOS/rootfs.img, kernel and initrd", async () => {
    assert.deepEqual(await isoList(iso, "/LiveOS"), ["squashfs.img"]);
    assert.deepEqual((await isoList(iso, "/images/pxeboot")).sort(), ["initrd.img", "vmlinuz"]);
    assert.ok(existsSync(rootfs), "LiveOS/rootfs.img inside the squashfs");
    assert.equal(sh("e2label", [rootfs]).out.trim(), LABEL);
    // The %post's marker unit is in the image.
    const unit = sh("debugfs", ["-R", "cat /etc/systemd/system/imgcreate-marker.service", rootfs]).out;
    assert.match(unit, new RegExp(MARKER));
  });

  test("the root image is shrunk and every free block is zero, so it compresses away", async () => {
    const fsck = sh("e2fsck", ["-f", "-n", rootfs]);
    assert.equal(fsck.status, 0, fsck.out);
    assert.ok(statSync(rootfs).size < 1536 * 1024 * 1024, "shrunk below part / --size 1536");
    const dump = sh("dumpe2fs", [rootfs]).out;
    const bs = Number(/^Block size:\s+(\d+)/m.exec(dump)?.[1]);
    const ranges = [...dump.matchAll(/^\s+Free blocks: (.+)$/gm)].flatMap((m) => m[1]!.split(", ")).map((r) => r.split("-").map(Number));
    const zeros = Buffer.alloc(4 << 20);
    const fh = await open(rootfs, "r");
    let freeBytes = 0;
    try {
      for (const [a, b = a] of ranges) {
        for (let blk = a!; blk <= b!; blk += zeros.length / bs) {
          const len = Math.min(zeros.length, (b! - blk + 1) * bs);
          const buf = Buffer.alloc(len);
          await fh.read(buf, 0, len, blk * bs);
          assert.ok(buf.equals(zeros.subarray(0, len)), `free blocks from ${blk} hold data`);
          freeBytes += len;
        }
      }
    } finally {
      await fh.close();
    }
    assert.ok(freeBytes > 0, "the image has free blocks to check");
  });

  test("El Torito shows a BIOS and a UEFI boot entry", async () => {
    const platforms = (await elToritoEntries(iso)).map((e) => e.platform);
    assert.deepEqual(platforms, ["BIOS", "UEFI"]);
  });

  test("checkisomd5 verifies the medium", () => {
    const r = sh("checkisomd5", [iso]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /PASS/);
  });

  test("volume label is the fslabel; GRUB boots root=live:CDLABEL=<label> rd.live.image plus --append, with the kickstart's timeout", async () => {
    const vol = sh("xorriso", ["-indev", iso, "-pvd_info"]).out;
    assert.match(vol, new RegExp(`Volume Id\\s*:\\s*${LABEL}`));
    await isoExtract(iso, "/boot/grub/grub.cfg", join(tmp, "grub.cfg"));
    const cfg = readFileSync(join(tmp, "grub.cfg"), "utf8");
    assert.match(cfg, new RegExp(`linux /images/pxeboot/vmlinuz root=live:CDLABEL=${LABEL} rd.live.image console=ttyS0,115200\\n`));
    assert.match(cfg, /set timeout=0/);
    assert.match(cfg, /menuentry 'Start Imgcreate Test'/);
  });

  test("package progress follows mksquashfs' own progress", () => {
    const squash = progress.filter((p) => p.stage === "package" && /compressing/.test(p.message)).map((p) => p.fraction ?? 0);
    assert.ok(squash.length >= 2, `several compression updates (got ${squash.length})`);
    assert.deepEqual(squash, [...squash].sort((a, b) => a - b), "fractions only grow");
  });

  test("boots on BIOS from CD to the marker", async () => {
    await bootsToMarker(iso, { firmware: "bios", media: "cdrom" });
  });

  test("boots on UEFI from CD to the marker", async () => {
    await bootsToMarker(iso, { firmware: "uefi", media: "cdrom" });
  });

  test("written to a raw disk image, boots as a USB disk on UEFI", async () => {
    const disk = join(tmp, "usb.raw");
    await copyFile(iso, disk); // what `dd if=ISO of=/dev/sdX` puts on a stick
    await truncate(disk, 2 * 1024 * 1024 * 1024); // a stick is larger than the image
    await bootsToMarker(disk, { firmware: "uefi", media: "usb" });
  });

  test("--bootloader isolinux with lz4: an ISO from the same root boots on BIOS", async () => {
    const kernel = join(tmp, "vmlinuz");
    const initrd = join(tmp, "initrd.img");
    await isoExtract(iso, "/images/pxeboot/vmlinuz", kernel);
    await isoExtract(iso, "/images/pxeboot/initrd.img", initrd);
    const out = join(tmp, "isolinux.iso");
    await buildLiveIso({
      workDir: join(tmp, "isolinux-work"), output: out, rootImage: rootfs, kernel, initrd,
      label: LABEL, title: "Imgcreate Test", timeout: 0, append: "console=ttyS0,115200", compression: "lz4", bootloader: "isolinux",
    });
    assert.deepEqual((await elToritoEntries(out)).map((e) => e.platform), ["BIOS", "UEFI"]);
    assert.match(sh("xorriso", ["-indev", out, "-report_el_torito", "plain"]).out, /isolinux\/isolinux\.bin/);
    await bootsToMarker(out, { firmware: "bios", media: "cdrom" });
  });

  test("--base-on: a build starting from this ISO keeps its root and adds the new %post's work", async () => {
    const ks = loadKickstart("live-marker.ks", (t) => t + "\n%post\necho rebuilt > /etc/imgcreate-base-on\n%end\n");
    const c = new LiveImageCreator(ks, "live-rebuilt", { workDir: join(tmp, "work2"), fslabel: LABEL, baseOn: iso, compression: "none" });
    try {
      const [out] = await c.create(join(tmp, "out2"));
      await isoExtract(out!, "/LiveOS/squashfs.img", join(tmp, "sq2.img"));
      assert.equal(sh("unsquashfs", ["-no-progress", "-d", join(tmp, "sq2"), join(tmp, "sq2.img")]).status, 0);
      const img = join(tmp, "sq2", "LiveOS", "rootfs.img");
      assert.match(sh("debugfs", ["-R", "cat /etc/imgcreate-base-on", img]).out, /rebuilt/);
      assert.match(sh("debugfs", ["-R", "cat /etc/systemd/system/imgcreate-marker.service", img]).out, new RegExp(MARKER));
      assert.match(sh("debugfs", ["-R", "ls -l /boot", img]).out, /vmlinuz-/);
    } finally {
      await c.cleanup();
    }
  });
});

describe("live image errors say what to change", () => {
  test("a kickstart without a kernel package is refused when the creator is made, with FILE:LINE", () => {
    const ks = loadKickstart("live-marker.ks", (t) => t.replace(/^linux-image-amd64\n/m, ""));
    assert.throws(
      () => new LiveImageCreator(ks, "nokernel", { workDir: "/nonexistent" }),
      (e: unknown) => e instanceof ImgcreateError && e.code === "InvalidArgs" && /live-marker\.ks:\d+: %packages has no kernel.*linux-image-amd64/.test(e.message),
    );
  });

  test("a label dracut cannot find (blanks) is refused before anything runs", () => {
    assert.throws(
      () => new LiveImageCreator(loadKickstart("live-marker.ks"), "x", { workDir: "/nonexistent", fslabel: "my live" }),
      (e: unknown) => e instanceof ImgcreateError && e.code === "InvalidArgs" && /--fslabel/.test(e.message),
    );
  });

  test("a missing kernel or initramfs is an error before any ISO is written", async () => {
    const tmp = await makeTmp("live-nokernel");
    try {
      const output = join(tmp, "x.iso");
      await assert.rejects(
        buildLiveIso({ workDir: tmp, output, rootTree: tmp, kernel: join(tmp, "vmlinuz"), initrd: join(tmp, "initrd.img"), label: "X", title: "X", timeout: 1 }),
        (e: unknown) => e instanceof ImgcreateError && /kernel .* is missing: no ISO was written/.test(e.message),
      );
      assert.equal(existsSync(output), false);
    } finally {
      await removeTmp(tmp);
    }
  });
});
