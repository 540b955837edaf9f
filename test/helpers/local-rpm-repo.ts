// A user's own RPM repository for tests: packages made by rpmbuild from spec files written here,
// a comps file, createrepo_c's metadata, and optionally every package signed (rpmsign) with a key
// made for the test. World-readable and root-owned, as repo-access.ts wants.
import { execFileSync } from "node:child_process";
import { mkdir, readdir, rm, writeFile, copyFile } from "node:fs/promises";
import { join } from "node:path";

export interface RpmSpec {
  name: string;
  version?: string;
  /** noarch unless a file needs an architecture (a binary). */
  arch?: "noarch" | "x86_64";
  /** Spec lines after Summary/License (Requires:, Recommends:, Provides:). */
  tags?: string[];
  /** %install shell lines ($RPM_BUILD_ROOT is the build root). */
  install?: string[];
  /** %files lines. */
  files?: string[];
  /** %post lines. */
  post?: string[];
}

export interface CompsGroup {
  id: string;
  mandatory?: string[];
  default?: string[];
  optional?: string[];
}

export interface CompsEnvironment {
  id: string;
  groups: string[];
  options?: string[];
}

export interface LocalRpmRepo {
  dir: string;
  /** The armored public key that signs it (signed repositories only). */
  key?: string;
  close(): void;
}

function specText(s: RpmSpec): string {
  const lines = [
    `Name: ${s.name}`, `Version: ${s.version ?? "1.0"}`, "Release: 1", `Summary: ${s.name} for imgcreate's tests`, "License: MIT",
    `BuildArch: ${s.arch ?? "noarch"}`, ...(s.tags ?? []), "", "%description", `${s.name} for imgcreate's tests`, "",
    "%install", "mkdir -p $RPM_BUILD_ROOT", ...(s.install ?? []), "",
    ...(s.post?.length ? ["%post", ...s.post, ""] : []),
    "%files", ...(s.files ?? []), "",
  ];
  return lines.join("\n");
}

function compsXml(groups: CompsGroup[], envs: CompsEnvironment[]): string {
  const req = (type: string, names: string[] = []) => names.map((n) => `      <packagereq type="${type}">${n}</packagereq>`);
  const g = groups.map((x) => [
    "  <group>", `    <id>${x.id}</id>`, `    <name>${x.id}</name>`, "    <description/>", "    <default>false</default>", "    <uservisible>true</uservisible>",
    "    <packagelist>", ...req("mandatory", x.mandatory), ...req("default", x.default), ...req("optional", x.optional), "    </packagelist>", "  </group>",
  ].join("\n"));
  const e = envs.map((x) => [
    "  <environment>", `    <id>${x.id}</id>`, `    <name>${x.id}</name>`, "    <description/>",
    "    <grouplist>", ...x.groups.map((id) => `      <groupid>${id}</groupid>`), "    </grouplist>",
    "    <optionlist>", ...(x.options ?? []).map((id) => `      <groupid>${id}</groupid>`), "    </optionlist>", "  </environment>",
  ].join("\n"));
  return `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">\n<comps>\n${[...g, ...e].join("\n")}\n</comps>\n`;
}

/** Builds the packages into dir (a repository with comps), signing them when `sign` is set. */
export async function localRpmRepo(
  dir: string,
  scratch: string,
  pkgs: RpmSpec[],
  comps: { groups: CompsGroup[]; environments: CompsEnvironment[] } = { groups: [], environments: [] },
  sign = false,
): Promise<LocalRpmRepo> {
  const top = join(scratch, `rpmbuild-${dir.split("/").pop()}`);
  await rm(top, { recursive: true, force: true });
  await mkdir(join(top, "SPECS"), { recursive: true });
  await mkdir(dir, { recursive: true });
  const defines = ["--define", `_topdir ${top}`, "--define", "_build_id_links none", "--define", "__os_install_post %{nil}", "--define", "_dbpath " + join(top, "db")];
  for (const p of pkgs) {
    const spec = join(top, "SPECS", `${p.name}.spec`);
    await writeFile(spec, specText(p));
    execFileSync("rpmbuild", ["-bb", "--quiet", ...defines, spec], { stdio: ["ignore", "ignore", "pipe"] });
  }
  for (const arch of await readdir(join(top, "RPMS"))) {
    for (const f of await readdir(join(top, "RPMS", arch))) await copyFile(join(top, "RPMS", arch, f), join(dir, f));
  }
  let key: string | undefined;
  let close = () => {};
  if (sign) {
    const gnupg = join(scratch, `gnupg-${dir.split("/").pop()}`);
    execFileSync("mkdir", ["-p", "-m", "700", gnupg]);
    const gpg = (...a: string[]) => execFileSync("gpg", ["--batch", "--quiet", "--homedir", gnupg, ...a], { encoding: "utf8" });
    // rpm checks RSA signatures on every rpm version; a key with no passphrase, for the test only.
    gpg("--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "imgcreate rpm test <rpm@example.invalid>", "rsa2048", "sign", "never");
    key = gpg("--armor", "--export");
    const rpms = (await readdir(dir)).filter((f) => f.endsWith(".rpm")).map((f) => join(dir, f));
    execFileSync("rpmsign", ["--define", "__gpg /usr/bin/gpg", "--define", `_gpg_path ${gnupg}`, "--define", "_gpg_name imgcreate rpm test", "--addsign", ...rpms], { stdio: ["ignore", "ignore", "pipe"] });
    close = () => execFileSync("gpgconf", ["--homedir", gnupg, "--kill", "gpg-agent"], { stdio: "ignore" });
  }
  const compsFile = join(scratch, `comps-${dir.split("/").pop()}.xml`);
  await writeFile(compsFile, compsXml(comps.groups, comps.environments));
  execFileSync("createrepo_c", ["--quiet", ...(comps.groups.length ? ["--groupfile", compsFile] : []), dir], { stdio: ["ignore", "ignore", "pipe"] });
  execFileSync("chmod", ["-R", "a+rX,go-w", dir]);
  return { dir, ...(key !== undefined ? { key } : {}), close };
}
