// The RPM repositories the dnf tests install from, built with rpmbuild (local-rpm-repo.ts) into
// dir/repo (groups and an environment in its comps) and dir/signed (one package, signed):
//   tbase   the image's shell (busybox-static from Debian) and users, in the core group
//   tapp    needs tbase, recommends tweak; a doc file, German and French translations, a file owned
//           by the image's user tuser, a %post that records the uid and uid_map it ran with
//   ttool/tdefault/topt  the tools group's mandatory, default and optional packages
//   textra  the extras group (default); tenv the envbase group; environment base-env = envbase + extras
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { debianPackage } from "./debian-package.js";
import { localRpmRepo, type LocalRpmRepo, type RpmSpec } from "./local-rpm-repo.js";

const BUSYBOX_CACHE = "/var/cache/imgcreated/test-debs";
/** The image user that owns /etc/tapp.conf. */
export const TUSER = 1234;

function packages(busybox: string): RpmSpec[] {
  const simple = (name: string, extra: Partial<RpmSpec> = {}): RpmSpec => ({
    name, install: [`mkdir -p $RPM_BUILD_ROOT/usr/share/${name}`, `echo ${name} > $RPM_BUILD_ROOT/usr/share/${name}/here`], files: [`/usr/share/${name}`], ...extra,
  });
  return [
    {
      // The image's shell and its users, as Fedora's filesystem/setup/bash packages give them.
      name: "tbase", arch: "x86_64", tags: ["Provides: /bin/sh"],
      install: [
        "mkdir -p $RPM_BUILD_ROOT/usr/bin $RPM_BUILD_ROOT/bin $RPM_BUILD_ROOT/etc",
        `cp ${busybox} $RPM_BUILD_ROOT/usr/bin/busybox`,
        "ln -s ../usr/bin/busybox $RPM_BUILD_ROOT/bin/sh",
        "for a in id cat mkdir; do ln -s busybox $RPM_BUILD_ROOT/usr/bin/$a; done",
        `printf 'root:x:0:0:root:/root:/bin/sh\\ntuser:x:${TUSER}:${TUSER}::/:/bin/sh\\n' > $RPM_BUILD_ROOT/etc/passwd`,
        `printf 'root:x:0:\\ntuser:x:${TUSER}:\\n' > $RPM_BUILD_ROOT/etc/group`,
      ],
      files: ["/usr/bin/*", "/bin/sh", "/etc/passwd", "/etc/group"],
    },
    {
      name: "tapp", tags: ["Requires: tbase", "Requires(post): tbase", "Recommends: tweak"],
      install: [
        "mkdir -p $RPM_BUILD_ROOT/usr/share/doc/tapp $RPM_BUILD_ROOT/etc $RPM_BUILD_ROOT/usr/share/locale/de $RPM_BUILD_ROOT/usr/share/locale/fr",
        "echo doc > $RPM_BUILD_ROOT/usr/share/doc/tapp/README",
        "echo conf > $RPM_BUILD_ROOT/etc/tapp.conf",
        "echo de > $RPM_BUILD_ROOT/usr/share/locale/de/tapp.mo",
        "echo fr > $RPM_BUILD_ROOT/usr/share/locale/fr/tapp.mo",
      ],
      files: [
        "%doc /usr/share/doc/tapp/README", `%attr(0640,tuser,tuser) /etc/tapp.conf`,
        "%lang(de) /usr/share/locale/de/tapp.mo", "%lang(fr) /usr/share/locale/fr/tapp.mo",
      ],
      // Who the scriptlet ran as: its uid, and the user namespace's map (the host's root has "0 0 4294967295").
      post: ["mkdir -p /var/lib/tapp", "id -u > /var/lib/tapp/post", "cat /proc/self/uid_map >> /var/lib/tapp/post"],
    },
    simple("tweak"), simple("ttool"), simple("tdefault"), simple("topt"), simple("textra"), simple("tenv"),
  ];
}

const COMPS = {
  groups: [
    { id: "core", mandatory: ["tbase"] },
    { id: "tools", mandatory: ["ttool"], default: ["tdefault"], optional: ["topt"] },
    { id: "extras", default: ["textra"] },
    { id: "envbase", mandatory: ["tenv"] },
  ],
  environments: [{ id: "base-env", groups: ["envbase", "extras"] }],
};

/** Builds dir/repo and dir/signed; returns the signed one (its key, and close() for its gpg-agent). */
export async function testRpmRepos(dir: string): Promise<LocalRpmRepo> {
  const busybox = join(debianPackage(BUSYBOX_CACHE, "busybox-static"), "bin/busybox");
  await localRpmRepo(join(dir, "repo"), dir, packages(busybox), COMPS);
  return localRpmRepo(join(dir, "signed"), dir, [
    { name: "tsigned", install: ["mkdir -p $RPM_BUILD_ROOT/usr/share/tsigned", "echo signed > $RPM_BUILD_ROOT/usr/share/tsigned/here"], files: ["/usr/share/tsigned"] },
  ], undefined, true);
}

/** modulemd for one module stream, tmod:1 (not a default stream), whose profile "default" installs tmodpkg. */
const MODULES_YAML = `---
document: modulemd
version: 2
data:
  name: tmod
  stream: "1"
  version: 1
  context: c0ffee42
  arch: noarch
  summary: a module stream for imgcreate's tests
  description: a module stream for imgcreate's tests
  license:
    module: [MIT]
  profiles:
    default:
      rpms: [tmodpkg]
  artifacts:
    rpms:
      - tmodpkg-0:1.0-1.noarch
...
`;

/**
 * dir/modular: one package, tmodpkg, that only the module stream tmod:1 offers (dnf hides a modular
 * package until its stream is enabled).
 */
export async function modularRpmRepo(dir: string): Promise<void> {
  const repo = join(dir, "modular");
  await localRpmRepo(repo, dir, [
    { name: "tmodpkg", install: ["mkdir -p $RPM_BUILD_ROOT/usr/share/tmodpkg", "echo mod > $RPM_BUILD_ROOT/usr/share/tmodpkg/here"], files: ["/usr/share/tmodpkg"] },
  ]);
  const yaml = join(dir, "modules.yaml");
  await writeFile(yaml, MODULES_YAML);
  execFileSync("modifyrepo_c", ["--mdtype=modules", yaml, join(repo, "repodata")], { stdio: ["ignore", "ignore", "pipe"] });
  execFileSync("chmod", ["-R", "a+rX,go-w", repo]);
}
