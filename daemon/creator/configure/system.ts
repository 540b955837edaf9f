// configure(): the system-wide kickstart commands — fstab, lang, keyboard, timezone, network.
import { ImgcreateError } from "../../errors.js";
import type { KickstartModel } from "../../kickstart/model.js";
import type { RootOps } from "./root-ops.js";

export async function writeFstab(ops: RootOps, fstab: string): Promise<void> {
  await ops.write("/etc/fstab", fstab);
  // /etc/mtab as systemd and util-linux expect it (a link to the kernel's view).
  await ops.sh('[ -e /etc/mtab ] || ln -s ../proc/self/mounts /etc/mtab');
}

export async function applyLang(ks: KickstartModel, ops: RootOps): Promise<void> {
  if (!ks.lang) return;
  const lang = ks.lang.lang;
  await ops.write("/etc/default/locale", `LANG=${lang}\n`);
  await ops.write("/etc/locale.conf", `LANG=${lang}\n`);
  if (await ops.exists("/etc/locale.gen")) {
    // Enable the locale (and the added ones) and compile them, when the image has the locales package.
    const names = [lang, ...ks.lang.addsupport];
    await ops.sh(
      'for l in "$@"; do b=${l%%.*}; sed -i -E "s/^# *(${b}(\\.UTF-8)? UTF-8)/\\1/" /etc/locale.gen; done; command -v locale-gen >/dev/null && locale-gen || true',
      names,
    );
  }
}

export async function applyKeyboard(ks: KickstartModel, ops: RootOps): Promise<void> {
  const k = ks.keyboard;
  if (!k) return;
  const keymap = k.vckeymap ?? k.keymap;
  const layout = k.xlayouts[0]?.split(/\s/)[0] ?? keymap ?? "us";
  const [xkb, variant] = layout.replace(/[()]/g, " ").trim().split(/\s+/);
  await ops.write("/etc/default/keyboard", `XKBMODEL="pc105"\nXKBLAYOUT="${xkb}"\nXKBVARIANT="${variant ?? ""}"\nXKBOPTIONS=""\nBACKSPACE="guess"\n`);
  if (keymap) await ops.write("/etc/vconsole.conf", `KEYMAP=${keymap}\n`);
}

export async function applyTimezone(ks: KickstartModel, ops: RootOps): Promise<void> {
  const t = ks.timezone;
  if (!t?.timezone) return;
  const tz = t.timezone;
  if (!/^[A-Za-z0-9_+\-/]+$/.test(tz) || tz.includes("..")) {
    throw new ImgcreateError("InvalidArgs", `${t.file}:${t.line}: "${tz}" is not a timezone name (e.g. Europe/Berlin)`, { file: t.file, line: t.line });
  }
  const zone = `/usr/share/zoneinfo/${tz}`;
  if (await ops.exists(zone)) {
    await ops.sh('ln -sf "$1" /etc/localtime', [zone]);
  } else if (await ops.exists("/usr/share/zoneinfo")) {
    throw new ImgcreateError("InvalidArgs", `${t.file}:${t.line}: unknown timezone "${tz}" (no ${zone} in the image)`, { file: t.file, line: t.line });
  } else {
    ops.log("warning", `${t.file}:${t.line}: the image has no tzdata; /etc/localtime not set (add tzdata to %packages)`);
  }
  await ops.write("/etc/timezone", `${tz}\n`);
  await ops.write("/etc/adjtime", `0.0 0 0.0\n0\n${t.utc ? "UTC" : "LOCAL"}\n`);
}

export async function applyNetwork(ks: KickstartModel, ops: RootOps): Promise<void> {
  const hostname = [...ks.network].reverse().find((n) => n.hostname)?.hostname;
  if (!hostname) return;
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(hostname)) {
    const n = ks.network.find((x) => x.hostname === hostname)!;
    throw new ImgcreateError("InvalidArgs", `${n.file}:${n.line}: "${hostname}" is not a valid hostname`, { file: n.file, line: n.line });
  }
  const short = hostname.split(".")[0]!;
  await ops.write("/etc/hostname", `${hostname}\n`);
  const names = hostname === short ? hostname : `${hostname} ${short}`;
  await ops.write(
    "/etc/hosts",
    `127.0.0.1\tlocalhost\n127.0.1.1\t${names}\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`,
  );
}
