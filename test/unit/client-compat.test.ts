// livecd-creator / image-creator command lines, as livecd-tools' README and man page write them,
// mapped onto an imgcreate build: same effect, a warning, or a refusal with the reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planCompat, buildName, compatHelp, COMPAT_OPTIONS } from "../../client/compat/options.js";
import { exitCodeFor, describeError } from "../../client/errors.js";
import { machine } from "node:os";

const NOW = new Date(2026, 10, 30, 3, 15);

function refusal(argv: string[], flavour: "livecd" | "image" = "livecd"): string {
  try {
    planCompat(argv, flavour, NOW);
  } catch (e) {
    assert.equal(exitCodeFor(e), 2);
    return describeError(e);
  }
  throw new Error(`accepted: ${argv.join(" ")}`);
}

test("livecd-tools' barebones example: name and label built from the kickstart name", () => {
  const p = planCompat(["--config=/usr/share/livecd-tools/livecd-fedora-minimal.ks"], "livecd", NOW);
  assert.equal(p.kickstart, "/usr/share/livecd-tools/livecd-fedora-minimal.ks");
  assert.equal(p.options.type, "live");
  assert.equal(p.options.name, "livecd-fedora-minimal-202611300315");
  // build_name with maxlen 32: the prefix goes first, then the kickstart part is cut; the suffix stays.
  assert.equal(p.options.fslabel, `${"fedora-minimal".slice(0, 32 - machine().length - 14)}-${machine()}-202611300315`);
  assert.ok((p.options.fslabel as string).length <= 32);
  assert.equal(p.options.title, "Livecd Fedora");
  assert.equal(p.outdir, ".");
  assert.deepEqual(p.warnings, []);
});

test("livecd-tools' desktop example: --fslabel names the image", () => {
  const p = planCompat(["--config=/usr/share/livecd-tools/livecd-fedora-desktop.ks", "--fslabel=Fedora9-LiveCD-foo"], "livecd", NOW);
  assert.equal(p.options.fslabel, "Fedora9-LiveCD-foo");
  assert.equal(p.options.name, "Fedora9-LiveCD-foo");
  assert.equal(p.options.title, "Fedora9 Livecd");
});

test("short options, image-creator's positional kickstart, and the options that map one to one", () => {
  const p = planCompat(["-c", "a.ks", "-f", "LBL", "--title", "T", "--product", "P", "--releasever", "12", "--syslinux", "--flat-squashfs", "--compression-type", "gzip", "-o", "/out", "-l", "--nocleanup", "-v", "--logfile", "/tmp/l", "--nomacboot", "--skip-minimize"], "livecd", NOW);
  assert.deepEqual(
    { ...p.options },
    { name: "LBL", type: "live", fslabel: "LBL", releasever: "12", title: "T", product: "P", bootloader: "isolinux", "flat-squashfs": true, compression: "gzip", minimize: false },
  );
  assert.equal(p.outdir, "/out");
  assert.equal(p.shell, true);
  assert.equal(p.keepSession, true);
  assert.equal(p.verbosity, "verbose");
  assert.equal(p.logfile, "/tmp/l");
  const i = planCompat(["foo.ks"], "image", NOW);
  assert.equal(i.kickstart, "foo.ks");
  assert.equal(i.options.type, "loop");
  assert.equal(i.options.name, "image-foo-202611300315");
  assert.equal(planCompat(["/x/livecd-fedora-minimal.ks"], "image", NOW).options.fslabel, "livecd-fedora-mi", "ext4 labels hold 16 characters");
  assert.equal(planCompat(["-q", "-c", "x.ks"], "livecd", NOW).verbosity, "quiet");
});

test("options that change nothing here are accepted with a warning saying why", () => {
  const p = planCompat(["-c", "a.ks", "-t", "/var/tmp", "--cache", "/c", "--cacheonly", "-p", "--dracut-conf-args", "+compress=xz", "--compression-type", "xz -Xbcj x86", "--pkgverify-level", "all"], "livecd", NOW);
  const w = p.warnings.join("\n");
  for (const re of [/--tmpdir is ignored/, /--cache is ignored/, /--cacheonly is ignored/, /--plugins is ignored/, /--dracut-conf-args is ignored/, /extra mksquashfs arguments '-Xbcj x86' are ignored/, /--pkgverify-level=all/]) assert.match(w, re);
  assert.equal(p.options.compression, "xz");
  assert.match(planCompat(["-c", "a.ks", "--compression-type", "xz1m"], "livecd", NOW).warnings[0]!, /xz1m: using xz/);
  assert.match(planCompat(["-c", "a.ks", "--title", "T"], "image", NOW).warnings[0]!, /--title is ignored: it applies to live images only/);
});

test("--compression-type TYPE[:LEVEL], or livecd-tools' -Xcompression-level argument, is the daemon's TYPE:LEVEL", () => {
  const comp = (v: string) => planCompat(["-c", "a.ks", `--compression-type=${v}`], "livecd", NOW);
  assert.equal(comp("zstd:3").options.compression, "zstd:3");
  assert.deepEqual(comp("zstd:3").warnings, []);
  assert.equal(comp("gzip:9").options.compression, "gzip:9");
  assert.equal(comp("lzo").options.compression, "lzo");
  assert.equal(comp("zstd -Xcompression-level 19").options.compression, "zstd:19");
  const p = comp("gzip -Xcompression-level 4 -Xwindow-size 12");
  assert.equal(p.options.compression, "gzip:4");
  assert.match(p.warnings[0]!, /extra mksquashfs arguments '-Xwindow-size 12' are ignored/);
  assert.equal(planCompat(["-c", "a.ks"], "livecd", NOW).options.compression, undefined, "the daemon's default stays");
});

test("options that would make it silently wrong are refused with the reason", () => {
  assert.match(refusal(["-c", "a.ks", "--base-on", "old.iso"]), /--base-on is not supported/);
  assert.match(refusal(["-c", "a.ks", "--repo", "/etc/yum.repos.d"]), /put the repositories in the kickstart/);
  assert.match(refusal(["-c", "a.ks", "--compression-type", "None"]), /--base-on image/);
  assert.match(refusal(["-c", "a.ks", "--compression-type", "lzma"]), /'lzma' is not supported: unknown squashfs compression "lzma"; use TYPE\[:LEVEL\], one of zstd\[:1-22\], xz, gzip\[:1-9\]/);
  assert.match(refusal(["-c", "a.ks", "--compression-type", "zstd:23"]), /'zstd:23' is not supported: .*level for zstd must be 1 to 22, got 23/);
  assert.match(refusal(["-c", "a.ks", "--compression-type", "xz -Xcompression-level 6"]), /xz takes no level/);
  assert.match(refusal(["-c", "a.ks", "--compression-type", "zstd:3 -Xcompression-level 5"]), /gives the level twice; use zstd:LEVEL/);
  assert.match(refusal(["-c", "a.ks", "--pkgverify-level", "none"]), /would weaken verification/);
  assert.match(refusal(["-c", "a.ks", "-s"]), /--skip-compression is not supported/);
  assert.match(refusal(["-f", "a-label-of-17-chr", "a.ks"], "image"), /limited to 16 characters \(ext4\)/);
});

test("livecd-creator's own usage errors, with its wording", () => {
  assert.match(refusal([]), /Kickstart file must be provided/);
  assert.match(refusal(["a.ks", "b.ks"]), /Extra arguments given/);
  assert.match(refusal(["-c", "a.ks", "-f", "has space"]), /CD labels cannot contain spaces/);
  assert.match(refusal(["-c", "a.ks", "-f", "x".repeat(33)]), /limited to 32 characters/);
  assert.match(refusal(["-c", "a.ks", "--image-type", "floppy"]), /'floppy' is not a recognized image type/);
  assert.match(refusal(["-c", "a.ks", "--bogus"]), /no such option: '--bogus'/);
  assert.match(refusal(["-c", "a.ks", "--pkgverify-level", "most"]), /invalid choice: 'most'/);
});

test("build_name keeps the suffix and drops the prefix first", () => {
  assert.equal(buildName("/x/livecd-fedora-minimal.ks", "livecd-", "S"), "livecd-fedora-minimal-S");
  assert.equal(buildName("a.b.ks", "", "S"), "a.b-S");
  assert.equal(buildName("/x/averyveryverylongkickstartname.ks", "livecd-", "x86_64-202611300315", 32), "averyveryver-x86_64-202611300315");
});

test("--help lists every visible livecd-creator option", () => {
  const h = compatHelp("livecd-creator");
  for (const o of COMPAT_OPTIONS.filter((x) => !x.hidden)) assert.ok(h.includes(`--${o.name}`), o.name);
  assert.equal(planCompat(["--help"], "livecd", NOW).help, true);
});
